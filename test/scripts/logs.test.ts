import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../helpers/program";
import { startSshd, type LocalSshd } from "../helpers/sshd";
import { logsCommand } from "../../scripts/logs";

/**
 * `npm run logs` over SSH to a local sshd whose sessions find a stand-in `journalctl` (it prints the arguments it got:
 * no journal with container entries can be written here without a journald of the test's own).
 */
let dir: string;
let sshd: LocalSshd;
let outputs: string;

beforeAll(async () => {
    dir = mkdtempSync("/tmp/vk-logs-");
    const bin = join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "journalctl"), '#!/bin/sh\necho "journalctl $*"\n');
    chmodSync(join(bin, "journalctl"), 0o755);
    sshd = await startSshd(join(dir, "sshd"), { PATH: `${bin}:/usr/bin:/bin` });
    outputs = join(dir, "outputs.json");
    writeFileSync(outputs, JSON.stringify({ host: { ipv4: "127.0.0.1" }, hosts: { main: { ipv4: "127.0.0.1" } } }));
});
afterAll(async () => {
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
});

function logs(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const ssh = ["--port", String(sshd.port), "--identity", sshd.identity, "--known-hosts", sshd.knownHosts, "--outputs", outputs];
    return new Promise((resolve) => {
        const child = spawn(process.execPath, [join(ROOT, "scripts", "run-ts.js"), join(ROOT, "scripts", "logs.ts"), ...args, ...ssh], { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += String(d)));
        child.stderr.on("data", (d) => (stderr += String(d)));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
}

test("reads the container's journal on the stack's host: the last 200 lines by default", async () => {
    const res = await logs(["test", "chatwoot-rails"]);
    expect(res).toMatchObject({ status: 0, stdout: "journalctl --no-pager -o short-iso -t chatwoot-rails -n 200\n" });
}, 30_000);

test("passes journalctl options through", async () => {
    const res = await logs(["test", "janus-gateway", "-f", "--since", "-2h"]);
    expect(res).toMatchObject({ status: 0, stdout: "journalctl --no-pager -o short-iso -t janus-gateway -f --since -2h\n" });
}, 30_000);

test("refuses what the remote shell would read, and a missing container, with the usage", async () => {
    expect(() => logsCommand("chatwoot-rails", ["--since", "2 hours ago"])).toThrow(/--since -2h/);
    expect(() => logsCommand("x;reboot", [])).toThrow(/not a container name/);
    const res = await logs(["test"]);
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/which stack and which container\?[\s\S]*usage: npm run logs/);
}, 30_000);
