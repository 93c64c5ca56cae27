import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dockerSshOpts } from "../../components/docker-host";
import { readRemote, resolveTarget } from "../../scripts/backup/remote";
import { ed25519HostKey, pinnedHostKeyOptions, type SshHostKey } from "../../lib/ssh-host-key";
import { ROOT } from "../helpers/program";
import { startSshd, type LocalSshd } from "../helpers/sshd";

/**
 * Host key pinning against a real OpenSSH server on 127.0.0.1. Two servers accept the same client key: `right`
 * presents the key the program generated for the host, `impostor` (a machine in the middle) another one. Every SSH
 * client the program and its scripts run must reach `right` and refuse `impostor` before authenticating, so the
 * impostor gets no signature, no command and no standard input.
 */

const KEY = ed25519HostKey("the host's generated secret: 64 letters and digits in the real state", "visualkit-main");
const OTHER = ed25519HostKey("any other secret: the impostor's key", "visualkit-main");

let dir: string;
let right: LocalSshd;
let impostor: LocalSshd;
let agent: { pid: number; sock: string } | undefined;
let goClient: string;

/** A `docker` on the servers' PATH that records it ran: what `docker system dial-stdio` would be. */
const FAKE_DOCKER = `#!/bin/sh\necho "$*" >> "$MARKER_DIR/docker-ran"\necho docker-answered\n`;

beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "vk-host-key-"));
    const bin = join(dir, "bin");
    spawnSync("mkdir", ["-p", bin, join(dir, "right"), join(dir, "impostor")]);
    writeFileSync(join(bin, "docker"), FAKE_DOCKER);
    chmodSync(join(bin, "docker"), 0o755);
    const serve = (name: string, key: SshHostKey) =>
        startSshd(join(dir, name), { PATH: `${bin}:/usr/bin:/bin`, MARKER_DIR: join(dir, name) }, { hostKey: key.privateKey, logLevel: "DEBUG1" });
    right = await serve("right", KEY);
    impostor = await serve("impostor", OTHER);
    // Both accept the client key the right server accepts: the impostor would accept any.
    writeFileSync(join(dir, "impostor", "authorized_keys"), readFileSync(`${right.identity}.pub`));

    // The Docker provider's ssh logs in with the ssh-agent's key (no -i in its options).
    const sock = join(dir, "agent.sock");
    const child = spawn("ssh-agent", ["-D", "-a", sock], { stdio: "ignore" });
    for (let i = 0; i < 50 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    agent = { pid: child.pid!, sock };
    const add = spawnSync("ssh-add", [right.identity], { env: { ...process.env, SSH_AUTH_SOCK: sock }, encoding: "utf8" });
    if (add.status !== 0) throw new Error(`ssh-add: ${add.stderr}`);

    goClient = join(dir, "pulumi-command-ssh");
    const build = spawnSync("go", ["build", "-o", goClient, join(ROOT, "test/helpers/pulumi-command-ssh/main.go")], {
        env: { ...process.env, GO111MODULE: "off", GOPATH: "/usr/share/gocode", GOCACHE: join(tmpdir(), "vk-go-cache"), GOFLAGS: "" },
        encoding: "utf8",
    });
    if (build.status !== 0) throw new Error(`go build of the pulumi-command client failed (scripts/test-tools.sh installs golang-go and golang-golang-x-crypto-dev): ${build.stderr}`);
}, 60_000);

afterAll(async () => {
    await right?.stop();
    await impostor?.stop();
    if (agent) process.kill(agent.pid);
    rmSync(dir, { recursive: true, force: true });
});

/** Whether the server's sshd saw any authentication request: a client that checked the key first sends none. */
const authenticationRequests = (server: LocalSshd) => server.log().split("\n").filter((l) => /userauth-request|Accepted publickey|Postponed publickey/.test(l));

describe("ed25519HostKey", () => {
    test("writes OpenSSH's own key format: ssh-keygen reads the private key back to the same public key", () => {
        const file = join(dir, "key");
        writeFileSync(file, KEY.privateKey, { mode: 0o600 });
        const res = spawnSync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" });
        expect(res.stderr).toBe("");
        expect(res.stdout.trim()).toBe(KEY.publicKey);
        expect(KEY.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43} visualkit-main$/);
    });

    test("the same secret gives the same key, byte for byte (the user data never changes by itself); another secret another key", () => {
        expect(ed25519HostKey("the host's generated secret: 64 letters and digits in the real state", "visualkit-main")).toEqual(KEY);
        expect(OTHER.publicKey.split(" ")[1]).not.toBe(KEY.publicKey.split(" ")[1]);
    });

    test("a real sshd serves it: ssh-keyscan sees exactly that key", () => {
        const res = spawnSync("ssh-keyscan", ["-t", "ed25519", "-p", String(right.port), "127.0.0.1"], { encoding: "utf8" });
        const [, type, blob] = res.stdout.trim().split(/\s+/);
        expect(`${type} ${blob}`).toBe(KEY.publicKey.split(" ").slice(0, 2).join(" "));
    });

    test("pinnedHostKeyOptions refuses a line that is not a public key (nothing is run with a broken pin)", () => {
        expect(() => pinnedHostKeyOptions("ssh-ed25519 not base64!")).toThrow(/not an SSH public key/);
        expect(() => pinnedHostKeyOptions("")).toThrow(/not an SSH public key/);
    });
});

interface Attempt {
    status: number | null;
    stdout: string;
    stderr: string;
}

/**
 * Each SSH client of the program, run exactly as the program configures it, to `server`, asking it to run a command
 * that leaves a marker.
 */
const clients: Record<string, (server: LocalSshd, marker: string) => Attempt> = {
    // npm run backup / restore / smoke --backups: the target from the stack outputs, which carry the host key.
    "the operator scripts (scripts/backup/remote.ts, from the stack outputs)": (server, marker) => {
        const outputs = { hosts: { main: { ipv4: "127.0.0.1", sshHostKey: KEY.publicKey } }, backups: { enabled: true, host: "main" } };
        const target = resolveTarget({ port: server.port, identity: server.identity }, outputs);
        try {
            return { status: 0, stdout: readRemote(target, ["touch", marker]), stderr: "" };
        } catch (e) {
            return { status: 255, stdout: "", stderr: (e as Error).message };
        }
    },
    // The Docker provider: docker/cli's connection helper runs `ssh -l root -p <port> <ssh_opts> -T -- <host>
    // 'docker system dial-stdio'` (cli/connhelper/connhelper.go v28.5.2 lines 48-62; ssh/ssh.go lines 103-161:
    // user and port first, then the flags, ConnectTimeout added only when absent, -T appended), login by the agent.
    "the Docker provider's ssh (the exact argv of ssh://root@host with the program's ssh_opts)": (server, marker) => {
        const flags = [...dockerSshOpts(KEY.publicKey)];
        if (!flags.join("").includes("ConnectTimeout")) flags.push("-o ConnectTimeout=30");
        if (!flags.includes("-T")) flags.push("-T");
        const argv = ["-l", "root", "-p", String(server.port), ...flags, "--", "127.0.0.1", "docker system dial-stdio"];
        const res = spawnSync("ssh", argv, { env: { PATH: process.env.PATH, HOME: dir, SSH_AUTH_SOCK: agent!.sock }, input: "GET /_ping HTTP/1.1\r\n\r\n", encoding: "utf8", timeout: 20_000 });
        if (res.status === 0) writeFileSync(marker, "");
        return { status: res.status, stdout: res.stdout, stderr: res.stderr };
    },
    // The command provider: golang.org/x/crypto/ssh configured as connection.go does with the `hostKey` the program sets.
    "the command provider (x/crypto/ssh configured as pulumi-command v1.2.1 does with hostKey)": (server, marker) => {
        const res = spawnSync(goClient, [`127.0.0.1:${server.port}`, KEY.publicKey, server.identity, `touch ${marker}`], { encoding: "utf8", timeout: 20_000 });
        return { status: res.status, stdout: res.stdout, stderr: res.stderr };
    },
};

describe.each(Object.keys(clients))("%s", (client) => {
    const run = clients[client];
    const slug = client.replace(/[^a-z]+/g, "-").slice(0, 40);

    test("is refused by a server presenting another key, before it authenticates: no key offered, no command run", () => {
        const marker = join(dir, "impostor", `${slug}-ran`);
        const before = authenticationRequests(impostor).length;
        const res = run(impostor, marker);
        expect(res.status).not.toBe(0);
        expect(res.stderr).toMatch(/Host key verification failed|host key mismatch|ssh: handshake failed/i);
        expect(existsSync(marker)).toBe(false);
        expect(existsSync(join(dir, "impostor", "docker-ran"))).toBe(false);
        expect(authenticationRequests(impostor).slice(before)).toEqual([]);
    });

    test("reaches the server presenting the host's key", () => {
        const marker = join(dir, "right", `${slug}-ran`);
        const res = run(right, marker);
        expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: "" });
        expect(existsSync(marker)).toBe(true);
    });
});

test("the Docker provider's ssh really ran `docker system dial-stdio` on the right server, and only there", () => {
    expect(readFileSync(join(dir, "right", "docker-ran"), "utf8")).toBe("system dial-stdio\n");
    expect(existsSync(join(dir, "impostor", "docker-ran"))).toBe(false);
});
