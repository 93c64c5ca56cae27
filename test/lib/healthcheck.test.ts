import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { healthcheckTest } from "../../lib/healthcheck";
import { freePort } from "../helpers/caddy";
import { parsedStack } from "../helpers/program";

/**
 * The container health checks, run for real by /bin/sh against a local HTTP server, with PATH cut down to one
 * probe tool at a time (images ship curl, busybox wget, or only python3).
 */

const PYTHON = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).stdout.trim();
const TOOLS: Record<string, string> = { curl: "/usr/bin/curl", wget: "/usr/bin/wget", python3: PYTHON, bash: "/usr/bin/bash", timeout: "/usr/bin/timeout" };

let server: Server;
let port: number;
let dirs: string[] = [];

beforeAll(async () => {
    server = createServer((req, res) => {
        res.statusCode = req.url === "/health" ? 200 : 500;
        res.end("x");
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
    await new Promise((ok) => server.close(ok));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A PATH holding only these tools. */
function pathWith(tools: string[]): string {
    const dir = mkdtempSync(join(tmpdir(), "probe-path-"));
    dirs.push(dir);
    for (const t of tools) symlinkSync(TOOLS[t], join(dir, t));
    return dir;
}

/** Runs the check as Docker would (`/bin/sh -c`); asynchronously, so the server in this process can answer. */
function run(test: string[], path: string): Promise<number | null> {
    expect(test[0]).toBe("CMD-SHELL");
    const child = spawn("/bin/sh", ["-c", test[1]], { env: { PATH: path }, stdio: "ignore" });
    return new Promise((ok) => child.once("exit", (code) => ok(code)));
}

describe.each([["curl"], ["wget"], ["python3"]])("http probe with only %s", (tool) => {
    test("passes on 200, fails on 500 and on a closed port", async () => {
        const path = pathWith([tool]);
        expect(await run(healthcheckTest({ kind: "http", port, path: "/health" }), path)).toBe(0);
        expect(await run(healthcheckTest({ kind: "http", port, path: "/broken" }), path)).not.toBe(0);
        expect(await run(healthcheckTest({ kind: "http", port: await freePort(), path: "/health" }), path)).not.toBe(0);
    });
});

describe.each([[["bash", "timeout"]], [["python3"]]])("tcp probe with only %j", (tools) => {
    test("passes on an open port, fails on a closed one", async () => {
        const path = pathWith(tools);
        expect(await run(healthcheckTest({ kind: "tcp", port }), path)).toBe(0);
        expect(await run(healthcheckTest({ kind: "tcp", port: await freePort() }), path)).not.toBe(0);
    });
});

test("tcp probe prefers nc when the image has it", async () => {
    const dir = pathWith([]);
    writeFileSync(join(dir, "nc"), `#!/bin/sh\necho "$@" > ${dir}/nc.args\n`);
    chmodSync(join(dir, "nc"), 0o755);
    expect(await run(healthcheckTest({ kind: "tcp", port: 3002 }), dir)).toBe(0);
    expect(readFileSync(join(dir, "nc.args"), "utf8").trim()).toBe("-z -w 8 127.0.0.1 3002");
});

test("the probe targets the given address (host-networked Janus listens on the bridge gateway)", () => {
    expect(healthcheckTest({ kind: "http", port: 8088, path: "/janus/info" }, "172.18.0.1")[1]).toContain("u='http://172.18.0.1:8088/janus/info'");
});

test("command checks pass through unchanged", () => {
    expect(healthcheckTest({ kind: "command", test: ["CMD-SHELL", "pg_isready"] })).toEqual(["CMD-SHELL", "pg_isready"]);
});

test("an address or path that would need quoting is refused", () => {
    expect(() => healthcheckTest({ kind: "http", port: 1, path: "/x'; rm -rf /" })).toThrow(/quoting/);
    expect(() => healthcheckTest({ kind: "tcp", port: 1 }, "a b")).toThrow(/plain/);
});

test.each(["dev", "prod"])("every health check of the %s catalog is shellcheck-clean", (stack) => {
    const { catalog } = parsedStack(stack, { set: { imageWebsocket: "ghcr.io/visualkit/ws:1.0.0" } });
    const scripts = catalog.services.flatMap((s) => s.containers.flatMap((c) => (c.health ? [healthcheckTest(c.health, s.bindAddress)] : [])));
    expect(scripts.length).toBeGreaterThanOrEqual(8);
    for (const t of scripts) {
        expect(t[0]).toBe("CMD-SHELL");
        const res = spawnSync("shellcheck", ["-s", "sh", "-"], { input: t[1], encoding: "utf8" });
        expect(res.stdout).toBe("");
        expect(res.status).toBe(0);
    }
});
