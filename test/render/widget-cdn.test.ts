import { spawn, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { shellQuote } from "../../lib/shipped";
import { renderWidgetFolderScript, renderWidgetSyncScript } from "../../render/widget-cdn";

/**
 * The widget CDN scripts, run by sh against a stand-in data volume (the upload's staged copy a folder of files). Layout: the data
 * folder is a link to one release under `<folder>-releases`, and the static root Caddy serves links to the folder.
 */

let work: string;
let folder: string;
let releases: string;
let root: string;
beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "widget-cdn-"));
    folder = join(work, "data", "widget-cdn");
    releases = join(work, "data", "widget-cdn-releases");
    root = join(work, "opt", "widget-cdn");
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

function put(dir: string, files: Record<string, string>): void {
    for (const [rel, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, rel)), { recursive: true });
        writeFileSync(join(dir, rel), text);
    }
}

const sh = (script: string) => spawnSync("/bin/sh", ["-c", script], { encoding: "utf8" });

/**
 * Puts `files` where the upload stages them and runs the sync script. Private modes, as a strict umask on the SSH
 * session would leave them: the release must be readable by Caddy regardless.
 */
function sync(files: Record<string, string>, release = "0123456789abcdef") {
    const staged = join(work, "upload", `visualkit-widget-cdn-${release}`);
    rmSync(staged, { recursive: true, force: true });
    put(staged, files);
    spawnSync("find", [staged, "-type", "f", "-exec", "chmod", "0600", "{}", "+"]);
    spawnSync("find", [staged, "-type", "d", "-exec", "chmod", "0700", "{}", "+"]);
    return { staged, res: sh(renderWidgetSyncScript(staged, folder, release)) };
}

const served = (rel: string) => readFileSync(join(root, rel), "utf8");

describe("scripts", () => {
    test.each([
        ["folder", renderWidgetFolderScript("/mnt/data/widget-cdn", "/opt/widget-cdn")],
        ["sync", renderWidgetSyncScript("/var/tmp/visualkit-widget-cdn-0123456789abcdef", "/mnt/data/widget-cdn", "0123456789abcdef")],
    ])("the %s script is shellcheck-clean", (_, script) => {
        const res = spawnSync("shellcheck", ["-s", "sh", "-"], { input: script, encoding: "utf8" });
        expect(res.stdout).toBe("");
        expect(res.status).toBe(0);
    });

    test("the folder script links the root to the folder and the folder to a release, and is idempotent", () => {
        for (let i = 0; i < 2; i++) expect(sh(renderWidgetFolderScript(folder, root)).status).toBe(0);
        expect(readlinkSync(root)).toBe(folder);
        expect(lstatSync(folder).isSymbolicLink()).toBe(true);
        // Relative, so the volume can be mounted elsewhere.
        expect(readlinkSync(folder)).toMatch(/^widget-cdn-releases\/[^/]+$/);
        expect(readdirSync(releases)).toHaveLength(1);
        expect(realpathSync(root)).toBe(realpathSync(join(releases, readdirSync(releases)[0])));
        expect(statSync(realpathSync(root)).mode & 0o777).toBe(0o755);
    });

    test("a real folder (new volume, or the layout before releases) becomes the first release, still served", () => {
        mkdirSync(dirname(root), { recursive: true });
        put(folder, { "v1/widget.js": "live" });
        spawnSync("ln", ["-s", folder, root]);
        const res = sh(renderWidgetFolderScript(folder, root));
        expect(res.stderr).toBe("");
        expect(res.status).toBe(0);
        expect(lstatSync(folder).isSymbolicLink()).toBe(true);
        expect(readlinkSync(root)).toBe(folder);
        expect(served("v1/widget.js")).toBe("live");
        expect(readdirSync(join(work, "data")).sort()).toEqual(["widget-cdn", "widget-cdn-releases"]);
    });

    test("a hand-made folder at the root is left alone and reported", () => {
        put(root, { "old.js": "1" });
        const res = sh(renderWidgetFolderScript(folder, root));
        expect(res.status).toBe(0);
        expect(res.stderr).toContain("is a real folder");
        expect(readFileSync(join(root, "old.js"), "utf8")).toBe("1");
    });

    test("a sync replaces the content: new files arrive, deleted ones disappear, the staged copy is removed", () => {
        expect(sh(renderWidgetFolderScript(folder, root)).status).toBe(0);
        expect(sync({ "gone.js": "old", "sdk.js": "old" }, "aaaaaaaaaaaaaaaa").res.status).toBe(0);
        const { staged, res } = sync({ "sdk.js": "new", "v2/extra.js": "e" });
        expect(res.stderr).toBe("");
        expect(res.status).toBe(0);
        expect(res.stdout).toContain("2 files");
        expect(served("sdk.js")).toBe("new");
        expect(served("v2/extra.js")).toBe("e");
        expect(existsSync(join(root, "gone.js"))).toBe(false);
        expect(existsSync(staged)).toBe(false);
        expect(statSync(join(root, "sdk.js")).mode & 0o777).toBe(0o644);
        expect(statSync(join(root, "v2")).mode & 0o777).toBe(0o755);
        // The release is named by the content hash, so `readlink` on the host tells what is live.
        expect(readlinkSync(folder)).toMatch(/^widget-cdn-releases\/0123456789abcdef\./);
    });

    test("dotfiles never reach a release: .git, .env and hidden files at any depth are dropped, the rest is served", () => {
        expect(sh(renderWidgetFolderScript(folder, root)).status).toBe(0);
        const { res } = sync({ "sdk.js": "s", ".env": "SECRET=1", ".git/config": "[remote]", "v1/.key": "k", "v1/w.js": "w" });
        expect(res.status).toBe(0);
        expect(res.stdout).toContain("2 files");
        expect(served("sdk.js")).toBe("s");
        expect(served("v1/w.js")).toBe("w");
        for (const hidden of [".env", ".git", "v1/.key"]) expect({ hidden, there: existsSync(join(root, hidden)) }).toEqual({ hidden, there: false });
    });

    test("the swap is one rename of the link: the served path moves from one release to the next; the previous one is kept, older ones removed", () => {
        expect(sh(renderWidgetFolderScript(folder, root)).status).toBe(0);
        const targets: string[] = [];
        for (const v of ["1", "2", "3"]) {
            expect(sync({ "sdk.js": v }).res.status).toBe(0);
            targets.push(realpathSync(root));
            expect(served("sdk.js")).toBe(v);
        }
        expect(new Set(targets).size).toBe(3);
        for (const t of targets) expect(dirname(t)).toBe(realpathSync(releases));
        // Kept for a rollback (`ln -sfn` + `mv -T` back to it) and for requests that already resolved it.
        expect(readdirSync(releases).map((r) => join(realpathSync(releases), r)).sort()).toEqual(targets.slice(1).sort());
        expect(readdirSync(join(work, "data")).sort()).toEqual(["widget-cdn", "widget-cdn-releases"]);
    });

    test("a sync onto a folder that is not a release link fails before touching anything", () => {
        put(folder, { "sdk.js": "hand-made" });
        const { staged, res } = sync({ "sdk.js": "new" });
        expect(res.status).not.toBe(0);
        expect(res.stderr).toContain("not a link to a release");
        expect(readFileSync(join(folder, "sdk.js"), "utf8")).toBe("hand-made");
        expect(existsSync(staged)).toBe(true);
    });

    test("a sync run again with the same inputs (staged copy gone: a new SSH key re-runs it) succeeds and keeps the release live", () => {
        expect(sh(renderWidgetFolderScript(folder, root)).status).toBe(0);
        const { staged, res } = sync({ "sdk.js": "live" }, "aaaaaaaaaaaaaaaa");
        expect(res.status).toBe(0);
        const live = readlinkSync(folder);
        const again = sh(renderWidgetSyncScript(staged, folder, "aaaaaaaaaaaaaaaa"));
        expect([again.status, again.stderr]).toEqual([0, ""]);
        expect(again.stdout).toContain("release aaaaaaaaaaaaaaaa is live already");
        expect(readlinkSync(folder)).toBe(live);
        expect(served("sdk.js")).toBe("live");
        // Content B went live after A; a re-run of A's step (its hash still the one in its inputs) puts A back, as a
        // completed A step would have left it.
        const b = sync({ "sdk.js": "b" }, "bbbbbbbbbbbbbbbb");
        expect(b.res.status).toBe(0);
        const backToA = sh(renderWidgetSyncScript(staged, folder, "aaaaaaaaaaaaaaaa"));
        expect([backToA.status, backToA.stderr]).toEqual([0, ""]);
        expect(served("sdk.js")).toBe("live");
    });

    test("a sync with no staged copy and no release of its content fails with the way out and leaves the live release alone", () => {
        expect(sh(renderWidgetFolderScript(folder, root)).status).toBe(0);
        expect(sync({ "sdk.js": "live" }).res.status).toBe(0);
        const never = sh(renderWidgetSyncScript(join(work, "upload", "never-uploaded"), folder, "ffffffffffffffff"));
        expect(never.status).not.toBe(0);
        expect(never.stderr).toContain("is missing (each sync removes it) and no release ffffffffffffffff exists; replace the upload step");
        expect(served("sdk.js")).toBe("live");
    });

    test("a reader of the served path never misses the file while syncs swap releases", async () => {
        expect(sh(renderWidgetFolderScript(folder, root)).status).toBe(0);
        expect(sync({ "sdk.js": "0" }).res.status).toBe(0);
        const [ready, stop] = [join(work, "ready"), join(work, "stop")];
        const file = shellQuote(join(root, "sdk.js"));
        // Counts reads that found the file with content and reads that did not, until told to stop.
        const reader = spawn("/bin/sh", [
            "-c",
            `ok=0; missed=0; : >${shellQuote(ready)}; while [ ! -e ${shellQuote(stop)} ]; do if [ -s ${file} ]; then ok=$((ok + 1)); else missed=$((missed + 1)); fi; done; echo "$ok $missed"`,
        ]);
        let out = "";
        reader.stdout.on("data", (d) => (out += d));
        const exited = new Promise((done) => reader.on("close", done));
        while (!existsSync(ready)) await new Promise((r) => setImmediate(r));
        for (let i = 1; i <= 30; i++) expect(sync({ "sdk.js": String(i) }).res.status).toBe(0);
        writeFileSync(stop, "");
        await exited;
        const [ok, missed] = out.trim().split(" ").map(Number);
        expect(ok).toBeGreaterThan(0);
        expect(missed).toBe(0);
        expect(served("sdk.js")).toBe("30");
    });
});
