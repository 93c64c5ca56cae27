import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderTurnserverConf, type TurnSettings } from "../../render/coturn";
import { waitFor } from "./caddy";

/**
 * A command that needs root (network namespaces, iptables, nftables, files owned by root:turnserver): as is when the
 * tests run as root (these machines), through passwordless `sudo -n` otherwise (GitHub's runners run `npm test` as
 * a user with it). Without either the command fails, and so does the test: nothing is skipped.
 */
export function asRoot(cmd: readonly string[]): [string, string[]] {
    return process.getuid?.() === 0 ? [cmd[0], cmd.slice(1)] : ["sudo", ["-n", ...cmd]];
}

/** Runs `cmd` as root with exactly these extra environment variables (sudo would drop them, so they go through env). */
export function runAsRoot(cmd: readonly string[], env: Readonly<Record<string, string>>, input?: string) {
    const res = spawnSync(...asRoot(["env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...cmd]), { input, encoding: "utf8" });
    return { status: res.status, stdout: res.stdout, stderr: res.stderr, out: `${res.stdout}${res.stderr}` };
}

/** Removes a folder whose files may be root's (written under sudo). */
export function removeAsRoot(dir: string): void {
    spawnSync(...asRoot(["rm", "-rf", dir]));
}

/** Lines of a coturn log that say it skipped or rejected part of its config (it runs on regardless). */
export const CONFIG_PROBLEM = /Bad configuration format|CONFIG ERROR|CONFIG:.*error/i;

/** Debian's coturn (4.6.1) started with a rendered config; stopped by `stop()` (its PID, nothing else). */
export interface RunningCoturn {
    readonly dir: string;
    /** The self-signed certificate the test made (PEM), for clients to trust. */
    readonly ca: string;
    log(): string;
    stop(): Promise<void>;
}

/** A self-signed P-256 certificate for `name`, written to dir/turn.crt and dir/turn.key. */
export function selfSignedCert(dir: string, name: string): { certFile: string; keyFile: string } {
    const certFile = join(dir, "turn.crt");
    const keyFile = join(dir, "turn.key");
    const res = spawnSync(
        "openssl",
        ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", `/CN=${name}`, "-addext", `subjectAltName=DNS:${name}`, "-keyout", keyFile, "-out", certFile],
        { encoding: "utf8" },
    );
    if (res.status !== 0) throw new Error(`openssl: ${res.stderr}`);
    return { certFile, keyFile };
}

/**
 * Starts turnserver with `renderTurnserverConf(settings(dir), secret)` as its only config file. The command line adds
 * only what a test needs instead of the host's defaults: no PID file, its own SQLite database and stdout log (coturn
 * opens a log under /var/log before it reads the config otherwise). `netns` runs it inside that network namespace.
 */
export async function startCoturn(settings: (dir: string) => TurnSettings, secret: string, opts: { netns?: string; ready?: string; append?: string; edit?: (text: string) => string; user?: string } = {}): Promise<RunningCoturn> {
    const dir = mkdtempSync(join(tmpdir(), "coturn-"));
    const s = settings(dir);
    const conf = join(dir, "turnserver.conf");
    writeFileSync(conf, (opts.edit ?? ((t: string) => t))(renderTurnserverConf(s, secret)) + (opts.append ?? ""), { mode: 0o600 });
    const args = ["-c", conf, "--pidfile=", `--db=${join(dir, "turndb")}`, "--log-file=stdout"];
    // As the host runs it (Debian's unit: User=turnserver): the folder and files readable by that group only.
    if (opts.user) {
        for (const step of [["chgrp", "-R", opts.user, dir], ["chmod", "0770", dir], ["chmod", "0640", conf, s.tls.keyFile]]) {
            const r = spawnSync(...asRoot(step), { encoding: "utf8" });
            if (r.status !== 0) throw new Error(`${step.join(" ")}: ${r.stderr}`);
        }
    }
    const server = opts.user ? ["runuser", "-u", opts.user, "--", "turnserver", ...args] : ["turnserver", ...args];
    const [cmd, argv] = opts.netns ? asRoot(["ip", "netns", "exec", opts.netns, ...server]) : [server[0], server.slice(1)];
    let log = "";
    const child: ChildProcess = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (d) => (log += d));
    child.stderr!.on("data", (d) => (log += d));
    const stop = async () => {
        if (child.exitCode === null && child.signalCode === null) {
            const exited = new Promise((ok) => child.once("exit", ok));
            child.kill("SIGTERM");
            await exited;
        }
        // Under sudo, files coturn wrote are root's: remove them the same way.
        if (process.getuid?.() === 0) rmSync(dir, { recursive: true, force: true });
        else removeAsRoot(dir);
    };
    const ca = readFileSync(s.tls.certFile, "utf8"); // 0644: readable whoever the test runs as
    try {
        // coturn logs its listeners only when verbose; its database connection is the last step before it serves.
        const ready = opts.ready ?? "SQLite DB connection success";
        await waitFor(`coturn (${ready})`, async () => {
            if (child.exitCode !== null) throw new Error(`turnserver exited with ${child.exitCode}:\n${log}`);
            return log.includes(ready);
        }, 100);
        if (opts.ready === undefined) {
            const probe = `exec 3<>/dev/tcp/${s.listenAddresses[0]}/${s.ports.tls}`;
            await waitFor(`coturn's TLS port ${s.ports.tls}`, async () => {
                const res = opts.netns ? spawnSync(...asRoot(["ip", "netns", "exec", opts.netns, "bash", "-c", probe])) : spawnSync("bash", ["-c", probe]);
                return res.status === 0;
            }, 50);
        }
    } catch (e) {
        await stop();
        throw new Error(`${String(e)}\n${log}`);
    }
    return { dir, ca, log: () => log, stop };
}
