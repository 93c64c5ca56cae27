import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { readTarGz, sha256, verifyArtifact } from "../../../scripts/widget/artifact";
import { ROOT } from "../../helpers/program";

/**
 * The widget CDN's release path, as the workflow runs it (`npm run widget-release -- …`, the script itself in a
 * throwaway folder): artifacts served by an HTTP server this test starts on 127.0.0.1, verified against the record's
 * SHA-256 and their own manifest; promote and rollback switch the served files, the rollback without a download; a
 * mismatched, escaping or manifest-less artifact is refused and changes nothing.
 */

type Entry = { name: string; data?: string; type?: string; link?: string };

/** A ustar archive, gzipped: enough to write the entries real tools would refuse to create (`../`, absolute, links). */
function tarGz(entries: Entry[]): Buffer {
    const blocks: Buffer[] = [];
    for (const e of entries) {
        const data = Buffer.from(e.data ?? "");
        const h = Buffer.alloc(512);
        h.write(e.name, 0, 100);
        h.write("0000644\0", 100);
        h.write("0000000\0", 108);
        h.write("0000000\0", 116);
        h.write(`${data.length.toString(8).padStart(11, "0")}\0`, 124);
        h.write("00000000000\0", 136);
        h.write(e.type ?? "0", 156);
        if (e.link) h.write(e.link, 157, 100);
        h.write("ustar\0", 257);
        h.write("00", 263);
        h.write("        ", 148);
        let sum = 0;
        for (const b of h) sum += b;
        h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
        blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
    }
    blocks.push(Buffer.alloc(1024));
    return gzipSync(Buffer.concat(blocks));
}

const manifest = (version: string, files: Record<string, string>) => JSON.stringify({ version, files: Object.fromEntries(Object.entries(files).map(([p, d]) => [p, sha256(d)])) });
const release = (version: string, extra: Entry[] = []) => {
    const files = { "widget.js": `console.log("widget ${version}")`, "css/widget.css": `/* ${version} */` };
    return tarGz([{ name: "./", type: "5" }, { name: "./manifest.json", data: manifest(version, files) }, ...Object.entries(files).map(([name, data]) => ({ name: `./${name}`, data })), ...extra]);
};

let server: Server;
let base: string;
const artifacts = new Map<string, Buffer>();
const requests: string[] = [];
let dir: string;

beforeAll(async () => {
    server = createServer((req, res) => {
        requests.push(req.url ?? "");
        const body = artifacts.get(req.url ?? "");
        res.writeHead(body ? 200 : 404).end(body);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
    await new Promise((r) => server.close(r));
});
beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "vk-widget-"));
    requests.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI as npm runs it, asynchronously: the artifact server answers from this process's event loop. */
function cli(cwd: string, ...args: string[]): Promise<{ status: number | null; out: string }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, [join(ROOT, "scripts", "run-ts.js"), join(ROOT, "scripts", "widget-release.ts"), ...args], { cwd, timeout: 60_000 });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (out += d.toString()));
        child.on("close", (status) => resolve({ status, out }));
    });
}
const publish = (version: string, gz: Buffer) => {
    artifacts.set(`/v${version}/widget-${version}.tar.gz`, gz);
    return ["--url", `${base}/v${version}/widget-${version}.tar.gz`, "--sha256", sha256(gz)];
};
const site = (root: string, path: string) => readFileSync(join(root, "widget-cdn", "dev", "site", path), "utf8");
const record = (root: string) => JSON.parse(readFileSync(join(root, "deploy", "widget-cdn", "dev.json"), "utf8")) as { served: string; releases: Record<string, unknown>; history: { action: string; from: string | null; to: string }[] };

test("promote downloads and verifies; a second promote keeps the first under its version; rollback switches back without a download", async () => {
    const a = await cli(dir, "promote", "dev", "1.0.0", ...publish("1.0.0", release("1.0.0")));
    expect(a).toMatchObject({ status: 0 });
    expect(a.out).toContain("3 files checked against manifest.json".replace("3", "2"));
    expect(site(dir, "widget.js")).toBe('console.log("widget 1.0.0")');
    expect(site(dir, "1.0.0/css/widget.css")).toBe("/* 1.0.0 */");
    // The manifest is the build's, not a file to serve.
    expect(existsSync(join(dir, "widget-cdn", "dev", "site", "manifest.json"))).toBe(false);

    expect(await cli(dir, "promote", "dev", "1.1.0", ...publish("1.1.0", release("1.1.0")))).toMatchObject({ status: 0 });
    expect([site(dir, "widget.js"), site(dir, "1.0.0/widget.js"), site(dir, "1.1.0/widget.js")]).toEqual(['console.log("widget 1.1.0")', 'console.log("widget 1.0.0")', 'console.log("widget 1.1.0")']);
    expect(requests).toEqual(["/v1.0.0/widget-1.0.0.tar.gz", "/v1.1.0/widget-1.1.0.tar.gz"]);

    const back = await cli(dir, "rollback", "dev");
    expect(back).toMatchObject({ status: 0 });
    expect(back.out).toContain("1.1.0 → 1.0.0 (downloaded: nothing)");
    expect(site(dir, "widget.js")).toBe('console.log("widget 1.0.0")');
    expect(site(dir, "1.1.0/widget.js")).toBe('console.log("widget 1.1.0")');
    expect(requests).toHaveLength(2);
    expect(record(dir)).toMatchObject({ served: "1.0.0", history: [{ action: "promote", from: null, to: "1.0.0" }, { action: "promote", from: "1.0.0", to: "1.1.0" }, { action: "rollback", from: "1.1.0", to: "1.0.0" }] });
    // Nothing left to undo: the first release has nothing before it.
    expect(await cli(dir, "rollback", "dev")).toMatchObject({ status: 1, out: expect.stringContaining("no promotion to undo") });
    // Promoting a kept release again needs no URL and downloads nothing.
    expect(await cli(dir, "promote", "dev", "1.1.0")).toMatchObject({ status: 0 });
    expect(requests).toHaveLength(2);

    // A fresh checkout (CI): fetch downloads what the committed record names, verifies it, and builds the same site.
    const fresh = mkdtempSync(join(tmpdir(), "vk-widget-fresh-"));
    try {
        mkdirSync(join(fresh, "deploy", "widget-cdn"), { recursive: true });
        writeFileSync(join(fresh, "deploy", "widget-cdn", "dev.json"), readFileSync(join(dir, "deploy", "widget-cdn", "dev.json")));
        expect(await cli(fresh, "fetch", "dev")).toMatchObject({ status: 0, out: expect.stringContaining("fetched 1.1.0, 1.0.0") });
        expect(site(fresh, "widget.js")).toBe('console.log("widget 1.1.0")');
        expect(await cli(fresh, "fetch", "dev")).toMatchObject({ status: 0, out: expect.stringContaining("fetched nothing (cached: 1.1.0, 1.0.0)") });
        expect(requests).toHaveLength(4);
    } finally {
        rmSync(fresh, { recursive: true, force: true });
    }
}, 120_000);

test.each([
    ["a SHA-256 that is not the artifact's", () => ["--url", `${base}/v2.0.0/widget-2.0.0.tar.gz`, "--sha256", "0".repeat(64)], release("2.0.0"), "SHA-256 mismatch"],
    ["a path escaping the folder (..)", undefined, release("2.0.0", [{ name: "../../evil.js", data: "x" }]), "escapes the release folder"],
    ["an absolute path", undefined, release("2.0.0", [{ name: "/tmp/evil.js", data: "x" }]), "is an absolute path"],
    ["a symbolic link", undefined, release("2.0.0", [{ name: "./link.js", type: "2", link: "/etc/passwd" }]), "is a symbolic link"],
    ["no manifest", undefined, tarGz([{ name: "./widget.js", data: "x" }]), "no manifest.json"],
    ["a file the manifest does not list", undefined, release("2.0.0", [{ name: "./extra.js", data: "x" }]), "extra.js is in the artifact but not in manifest.json"],
    ["a manifest of another version", undefined, release("2.0.1"), "manifest.json says version 2.0.1"],
])("refused: %s; nothing changes", async (_what, args, gz, message) => {
    expect(await cli(dir, "promote", "dev", "1.0.0", ...publish("1.0.0", release("1.0.0")))).toMatchObject({ status: 0 });
    const before = readFileSync(join(dir, "deploy", "widget-cdn", "dev.json"), "utf8");
    artifacts.set("/v2.0.0/widget-2.0.0.tar.gz", gz);
    const res = await cli(dir, "promote", "dev", "2.0.0", ...(args?.() ?? ["--url", `${base}/v2.0.0/widget-2.0.0.tar.gz`, "--sha256", sha256(gz)]));
    expect(res).toMatchObject({ status: 1, out: expect.stringContaining(message) });
    expect(res.out).toContain("widget 2.0.0");
    expect(readFileSync(join(dir, "deploy", "widget-cdn", "dev.json"), "utf8")).toBe(before);
    expect(site(dir, "widget.js")).toBe('console.log("widget 1.0.0")');
    expect(existsSync(join(dir, "widget-cdn", "dev", "releases", "2.0.0"))).toBe(false);
    expect(existsSync(join(dir, "evil.js")) || existsSync(join(dir, "widget-cdn", "evil.js")) || existsSync("/tmp/evil.js")).toBe(false);
}, 60_000);

test("bad usage is refused before anything is read: an http URL to another host, a bad checksum, a missing stack", async () => {
    expect(await cli(dir, "promote", "dev", "1.0.0", "--url", "http://example.com/w.tar.gz", "--sha256", "a".repeat(64))).toMatchObject({ status: 1, out: expect.stringContaining("must be https") });
    expect(await cli(dir, "promote", "dev", "1.0.0", "--url", `${base}/w.tar.gz`, "--sha256", "xyz")).toMatchObject({ status: 1, out: expect.stringContaining("64 lowercase hex") });
    expect(await cli(dir, "promote", "dev")).toMatchObject({ status: 2 });
    expect(await cli(dir, "fetch", "dev")).toMatchObject({ status: 0, out: expect.stringContaining("no widget release to fetch") });
    expect(requests).toEqual([]);
}, 60_000);

test("the reader takes what GNU tar writes (the widget's build packs with it), long names included", () => {
    const src = join(dir, "dist");
    const long = `${"assets/".repeat(12)}widget.3f9a1c2b.js`;
    mkdirSync(join(src, long, ".."), { recursive: true });
    writeFileSync(join(src, long), "long");
    writeFileSync(join(src, "widget.js"), "w");
    writeFileSync(join(src, "manifest.json"), manifest("3.0.0", { "widget.js": "w", [long]: "long" }));
    expect(spawnSync("tar", ["-C", src, "-czf", join(dir, "w.tar.gz"), "."]).status).toBe(0);
    const gz = readFileSync(join(dir, "w.tar.gz"));
    expect(readTarGz(gz).problems).toEqual([]);
    const v = verifyArtifact(gz, { version: "3.0.0", sha256: sha256(gz) });
    expect(v.problems).toEqual([]);
    expect(v.files.map((f) => f.path).sort()).toEqual([long, "widget.js"]);
});
