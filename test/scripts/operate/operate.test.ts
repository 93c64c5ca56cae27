import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../helpers/program";
import { startSshd, type LocalSshd } from "../../helpers/sshd";
import { buildCommand, remoteLine, splitArgs } from "../../../scripts/operate/commands";

/**
 * `npm run ssh|exec|console` against a real sshd on 127.0.0.1 whose sessions find a stand-in `docker` that prints the
 * words it was given, one per line: what arrives on the host is exactly what was typed, whatever the quoting.
 */
let dir: string;
let sshd: LocalSshd;
let outputs: string;
const marker = () => join(dir, "pwned");

beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "vk-operate-"));
    const bin = join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "docker"), '#!/bin/sh\nprintf "<%s>\\n" "$@"\n');
    chmodSync(join(bin, "docker"), 0o755);
    sshd = await startSshd(join(dir, "sshd"), { PATH: `${bin}:/usr/bin:/bin` });
    outputs = join(dir, "outputs.json");
    writeFileSync(outputs, JSON.stringify({ hosts: { main: { ipv4: "127.0.0.1" } } }));
});

afterAll(async () => {
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
});

function npm(op: "ssh" | "exec" | "console", args: string[]): { status: number | null; stdout: string; stderr: string } {
    const target = ["--outputs", outputs, "--port", String(sshd.port), "--identity", sshd.identity, "--known-hosts", sshd.knownHosts];
    // Target options go before the command (a command's own --flags are its own).
    const [stack, ...rest] = args;
    const res = spawnSync(process.execPath, [join(ROOT, "scripts", "run-ts.js"), join(ROOT, "scripts", "operate.ts"), op, stack, ...target, ...rest], { encoding: "utf8", timeout: 30_000, stdio: ["ignore", "pipe", "pipe"] });
    return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

describe("over a real sshd", () => {
    test("exec: a shell in the service's app container by default", () => {
        const r = npm("exec", ["dev", "chatwoot"]);
        expect(r.stderr).toBe("");
        expect(r.stdout).toBe("<exec>\n<-i>\n<chatwoot-rails>\n<sh>\n");
    });

    test("exec: the command's words arrive exactly, none reaches a shell unquoted", () => {
        const hostile = [`$(touch ${marker()})`, `a'b"c`, "; touch " + marker(), "two words", "`id`", "--port", ""];
        const r = npm("exec", ["dev", "platform-api", "--", "echo", ...hostile]);
        expect(r.status).toBe(0);
        expect(r.stdout).toBe(["exec", "-i", "platform-api", "echo", ...hostile].map((w) => `<${w}>\n`).join(""));
        expect(existsSync(marker())).toBe(false);
    });

    test("exec: a named container; a hostile service name is refused before SSH", () => {
        expect(npm("exec", ["dev", "chatwoot-postgres", "psql", "-U", "chatwoot"]).stdout).toBe("<exec>\n<-i>\n<chatwoot-postgres>\n<psql>\n<-U>\n<chatwoot>\n");
        const r = npm("exec", ["dev", `x$(touch ${marker()})`]);
        expect(r.status).toBe(2);
        expect(r.stderr).toContain("no service or container");
        expect(existsSync(marker())).toBe(false);
    });

    test("console: Chatwoot's rails console in chatwoot-rails", () => {
        const r = npm("console", ["dev"]);
        expect(r.stdout).toBe("<exec>\n<-i>\n<chatwoot-rails>\n<bundle>\n<exec>\n<rails>\n<c>\n");
    });

    test("ssh: a command on the service's host", () => {
        const r = npm("ssh", ["dev", "vk-agent", "--", "echo", "it's $HOME"]);
        expect(r.stdout).toBe("it's $HOME\n");
    });

    test("a host the outputs do not have", () => {
        writeFileSync(join(dir, "empty.json"), "{}");
        const res = spawnSync(process.execPath, [join(ROOT, "scripts", "run-ts.js"), join(ROOT, "scripts", "operate.ts"), "exec", "dev", "--outputs", join(dir, "empty.json"), "chatwoot"], { encoding: "utf8" });
        expect(res.status).toBe(2);
        expect(res.stderr).toContain("the stack outputs have no IPv4 address for host main");
    });
});

describe("the command line", () => {
    test("remoteLine: a POSIX shell reads back every word", () => {
        const words = ["plain", "", "a b", "it's", `"$(x)"`, "\\n", "`id`", "-", "ü"];
        const res = spawnSync("sh", ["-c", `printf '<%s>' ${remoteLine(words)}`], { encoding: "utf8" });
        expect(res.stdout).toBe(words.map((w) => `<${w}>`).join(""));
        expect(remoteLine(["docker", "exec", "chatwoot-rails"])).toBe("docker exec chatwoot-rails");
    });

    test("a terminal adds -t to docker exec", () => {
        expect(buildCommand("exec", "vk-agent", [], true).words).toEqual(["docker", "exec", "-i", "-t", "vk-agent", "sh"]);
        expect(buildCommand("console", undefined, [], false).words).toEqual(["docker", "exec", "-i", "chatwoot-rails", "bundle", "exec", "rails", "c"]);
        expect(() => buildCommand("console", "vk-agent", [], false)).toThrow(/console is Chatwoot's Rails console/);
    });

    test("options before the command are the tool's; after the service they are the command's", () => {
        expect(splitArgs("exec", ["dev", "--port", "2222", "chatwoot", "ls", "--port", "1"])).toEqual({ target: { port: 2222 }, stack: "dev", name: "chatwoot", command: ["ls", "--port", "1"] });
        expect(splitArgs("ssh", ["dev", "--", "uptime"])).toEqual({ target: {}, stack: "dev", name: undefined, command: ["uptime"] });
        expect(() => splitArgs("exec", ["dev", "--bogus", "x", "chatwoot"])).toThrow(/unknown option --bogus/);
    });
});
