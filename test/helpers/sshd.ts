import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { join } from "node:path";

/** A private OpenSSH server on 127.0.0.1: key login as root, the sftp subsystem, the session environment given. */
export interface LocalSshd {
    readonly port: number;
    /** Client private key the server accepts. */
    readonly identity: string;
    /** known_hosts file with the server's host key, for `-o UserKnownHostsFile=`. */
    readonly knownHosts: string;
    /** ssh options that log in without prompts or touching ~/.ssh. */
    readonly sshArgs: string[];
    /** What sshd has logged so far (stderr, at the configured LogLevel). */
    log(): string;
    stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = createServer();
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const { port } = srv.address() as { port: number };
            srv.close(() => resolve(port));
        });
    });
}

function keygen(file: string): void {
    const res = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", file], { encoding: "utf8" });
    if (res.status !== 0) throw new Error(`ssh-keygen failed: ${res.stderr}`);
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
        if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${log()}`);
        const ok = await new Promise<boolean>((resolve) => {
            const s = connect(port, "127.0.0.1", () => {
                s.end();
                resolve(true);
            });
            s.on("error", () => resolve(false));
        });
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`sshd did not listen on ${port}: ${log()}`);
        await new Promise((r) => setTimeout(r, 100));
    }
}

export interface SshdOptions {
    /** The host's private key file text (OpenSSH format); a fresh ed25519 key when absent. */
    readonly hostKey?: string;
    /** sshd's LogLevel, e.g. DEBUG1 to see every authentication request. @default "INFO" */
    readonly logLevel?: string;
    /** Name of the host key file in `dir` (a test that replaces the key names it as a server does). @default "host_key" */
    readonly hostKeyFile?: string;
}

/**
 * A test sshd's configuration: loopback only, key authentication only, root by key, SFTP inside sshd; paths as the
 * sshd process sees them (a chrooted one sees its own).
 */
export function sshdConfig(c: { port: number; dir: string; hostKey: string; logLevel?: string; setEnv?: readonly string[] }): string {
    return [
        `Port ${c.port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${c.hostKey}`,
        `PidFile ${join(c.dir, "sshd.pid")}`,
        `AuthorizedKeysFile ${join(c.dir, "authorized_keys")}`,
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        "Subsystem sftp internal-sftp",
        ...(c.logLevel ? [`LogLevel ${c.logLevel}`] : []),
        ...(c.setEnv?.length ? [`SetEnv ${c.setEnv.join(" ")}`] : []),
        "",
    ].join("\n");
}

/** Starts sshd (own config, high port, key auth only) in `dir`; the caller stops it. */
export async function startSshd(dir: string, env: Record<string, string> = {}, opts: SshdOptions = {}): Promise<LocalSshd> {
    mkdirSync(dir, { recursive: true });
    // sshd's privilege separation folder; Debian's service unit would create it.
    mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
    const hostKey = join(dir, opts.hostKeyFile ?? "host_key");
    const identity = join(dir, "client_key");
    if (opts.hostKey) {
        writeFileSync(hostKey, opts.hostKey, { mode: 0o600 });
        const pub = spawnSync("ssh-keygen", ["-y", "-f", hostKey], { encoding: "utf8" });
        if (pub.status !== 0) throw new Error(`ssh-keygen -y refused the given host key: ${pub.stderr}`);
        writeFileSync(`${hostKey}.pub`, pub.stdout);
    } else keygen(hostKey);
    keygen(identity);
    writeFileSync(join(dir, "authorized_keys"), readFileSync(`${identity}.pub`));
    const port = await freePort();
    // sshd_config splits on spaces: a value with spaces is quoted whole.
    const setEnv = Object.entries(env).map(([k, v]) => (/\s/.test(v) ? `"${k}=${v}"` : `${k}=${v}`));
    const config = sshdConfig({ port, dir, hostKey, logLevel: opts.logLevel ?? "INFO", setEnv });
    writeFileSync(join(dir, "sshd_config"), config);
    const knownHosts = join(dir, "known_hosts");
    writeFileSync(knownHosts, `[127.0.0.1]:${port} ${readFileSync(`${hostKey}.pub`, "utf8")}`);
    // The log goes to a file, not a pipe: a test blocked in spawnSync does not read a pipe, and sshd (at DEBUG1
    // especially) would then block writing to it in the middle of a connection.
    const logFile = join(dir, "sshd.log");
    writeFileSync(logFile, "");
    const log = () => readFileSync(logFile, "utf8");
    const child = spawn("/usr/sbin/sshd", ["-D", "-E", logFile, "-f", join(dir, "sshd_config")], { stdio: "ignore" });
    await waitForPort(port, child, log);
    const sshArgs = ["-p", String(port), "-i", identity, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", `UserKnownHostsFile=${knownHosts}`, "-o", "StrictHostKeyChecking=yes"];
    return {
        port,
        identity,
        knownHosts,
        sshArgs,
        log,
        stop: () =>
            new Promise<void>((resolve) => {
                if (child.exitCode !== null) return resolve();
                child.once("exit", () => resolve());
                child.kill("SIGTERM");
            }),
    };
}
