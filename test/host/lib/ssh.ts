import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { run, runOk, waitFor, type ProcResult } from "./proc";

/**
 * An ssh-agent holding throwaway keys, the only way the tier logs in: like the program's day-2 steps, no key file
 * is ever given to ssh (the private key files are deleted once the agent holds them).
 */
export class SshAgent {
    readonly socket: string;
    private readonly child?: ChildProcess;
    /** Public keys (OpenSSH one-liners) the agent holds, by the name given to addKey. */
    readonly publicKeys = new Map<string, string>();

    private constructor(socket: string, child?: ChildProcess) {
        this.socket = socket;
        this.child = child;
    }

    /** An agent another run started (VISUALKIT_HOST_TEST_ATTACH): its keys as it lists them; never stopped by us. */
    static async attach(socket: string, name: string): Promise<SshAgent> {
        const agent = new SshAgent(socket);
        const listed = await runOk("ssh-add", ["-L"], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
        listed.stdout.trim().split("\n").forEach((k, i) => agent.publicKeys.set(i === 0 ? name : `${name}-${i}`, k.trim()));
        return agent;
    }

    static async start(dir: string, name: string): Promise<SshAgent> {
        const socket = join(dir, `${name}.agent`);
        // -D keeps the agent in the foreground as our child, so it is stopped by its own PID.
        const child = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
        await waitFor(`ssh-agent socket ${socket}`, 10_000, async () => (existsSync(socket) ? true : undefined), 100);
        return new SshAgent(socket, child);
    }

    /** Generates an ed25519 key, loads it into the agent and deletes the files; returns the public key. */
    async addKey(dir: string, name: string): Promise<string> {
        const file = join(dir, `key-${name}`);
        await runOk("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `visualkit-host-test-${name}`, "-f", file]);
        await runOk("ssh-add", ["-q", file], { env: { ...process.env, SSH_AUTH_SOCK: this.socket } });
        const pub = readFileSync(`${file}.pub`, "utf8").trim();
        rmSync(file);
        rmSync(`${file}.pub`);
        this.publicKeys.set(name, pub);
        return pub;
    }

    stop(): void {
        if (this.child && this.child.exitCode === null) this.child.kill("SIGTERM");
    }
}

export interface ExecOptions {
    readonly stdin?: string | Buffer;
    /** A local file streamed as stdin (instead of `stdin`). */
    readonly stdinFile?: string;
    /** Sent as SSH "env" requests (what @pulumi/command does): sshd drops every name it does not AcceptEnv. */
    readonly env?: Readonly<Record<string, string>>;
    readonly timeoutMs?: number;
}

/** SSH to root@127.0.0.1:<port> through one agent. */
export class Ssh {
    constructor(
        readonly port: number,
        readonly agent: SshAgent,
        private readonly knownHosts: string,
    ) {}

    private args(extra: string[] = []): string[] {
        return [
            "-F", "/dev/null",
            // Only the agent's keys: no default identity files, no key given.
            "-o", "IdentityFile=none",
            "-o", `IdentityAgent=${this.agent.socket}`,
            "-o", "BatchMode=yes",
            "-o", "PasswordAuthentication=no",
            "-o", "StrictHostKeyChecking=no",
            "-o", `UserKnownHostsFile=${this.knownHosts}`,
            "-o", "LogLevel=ERROR",
            "-o", "ConnectTimeout=20",
            "-o", "ServerAliveInterval=15",
            "-o", "ServerAliveCountMax=8",
            "-p", String(this.port),
            ...extra,
            "root@127.0.0.1",
        ];
    }

    /** Runs `command` as the SSH session's command (sshd hands it to root's shell), stdin piped. */
    exec(command: string, opts: ExecOptions = {}): Promise<ProcResult> {
        const env = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ["-o", `SetEnv=${k}=${v}`]);
        return run("ssh", [...this.args(env), "--", command], { input: opts.stdin, inputFile: opts.stdinFile, timeoutMs: opts.timeoutMs ?? 600_000 });
    }

    /** exec that fails with the command's output on a non-zero exit. */
    async ok(command: string, opts: ExecOptions = {}): Promise<string> {
        const r = await this.exec(command, opts);
        if (r.code !== 0) throw new Error(`on the host: ${command.split("\n")[0].slice(0, 120)} exited ${r.code}\n${(r.stderr + r.stdout).trim().split("\n").slice(-25).join("\n")}`);
        return r.stdout;
    }

    /** True when a login with this agent's keys succeeds. */
    async canLogIn(timeoutMs = 60_000): Promise<boolean> {
        return (await this.exec("true", { timeoutMs })).code === 0;
    }

    /** Copies a local file to the host with scp (same agent, same options). */
    async copy(localPath: string, remotePath: string, timeoutMs = 300_000): Promise<void> {
        const args = this.args().slice(0, -1).map((a) => (a === "-p" ? "-P" : a));
        const r = await run("scp", ["-q", ...args, localPath, `root@127.0.0.1:${remotePath}`], { timeoutMs });
        if (r.code !== 0) throw new Error(`scp ${localPath} → ${remotePath} failed: ${r.stderr.trim()}`);
    }

    /** The same login through another agent (e.g. one holding only a key that was removed). */
    withAgent(agent: SshAgent): Ssh {
        return new Ssh(this.port, agent, this.knownHosts);
    }
}
