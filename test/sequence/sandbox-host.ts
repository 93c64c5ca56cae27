import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { freePort, sshdConfig } from "../helpers/sshd";

/**
 * A throwaway copy of this machine behind a real sshd, for running the program's remote steps exactly as the command
 * provider sends them (the `create` text as the SSH session's command, `stdin` on standard input, root's login
 * shell). In its own mount namespace (`unshare --mount`): an overlay with this machine's root file system as the
 * read-only lower layer and a tmpfs as the upper one, so the steps may write /etc, /usr/local, /mnt/data, /opt or
 * /root and nothing reaches the real machine; sshd runs chrooted into the overlay on 127.0.0.1:<random port>. What a
 * Hetzner host has that this one has not (systemd as PID 1, Docker, cloud-init, Caddy's admin API, an Internet) is
 * stubbed in /usr/local/bin of the copy, each stub logging its call: `systemctl`, `docker`, `cloud-init`, `curl`,
 * `apt-get`, and `caddy reload` (caddy validate is the real Caddy). Stopping sshd (by its PID) ends the namespace and
 * frees the copy.
 */
export interface SandboxHost {
    readonly port: number;
    /** Runs one remote step as the command provider does; status and output. */
    run(command: string, stdin?: string): { status: number | null; stdout: string; stderr: string };
    /** Starts a remote step and hangs up its SSH session after `afterMs` (a laptop that sleeps, a Ctrl-C). */
    interrupt(command: string, stdin: string | undefined, afterMs: number): Promise<void>;
    /** Copies a local folder's files into remotePath (what CopyToRemote does with a folder archive ending in /). */
    copyFolder(local: string, remotePath: string): { status: number | null; stderr: string };
    /** The stubs' call log (one line a call). */
    calls(): string[];
    stop(): Promise<void>;
}

const STUBS: Record<string, string> = {
    systemctl: "exit 0",
    // `inspect`: a container that is up and healthy (the readiness gates of lib/readiness.ts ask; the gate's own
    // behaviour is proved against a real engine in test/lib/readiness.test.ts).
    docker: 'case "$1" in info) echo 26.1.5 ;; inspect) echo "running healthy" ;; esac\nexit 0',
    "cloud-init": "exit 0",
    curl: "exit 0",
    "apt-get": "exit 0",
    caddy: 'if [ "$1" = reload ]; then exit 0; fi\nexec /usr/bin/caddy "$@"',
};

async function listening(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const s = connect(port, "127.0.0.1", () => {
            s.end();
            resolve(true);
        });
        s.on("error", () => resolve(false));
    });
}

/** True when this machine can make the sandbox (root, unshare, overlayfs, sshd, caddy). */
export function sandboxProblem(): string | undefined {
    if (process.getuid?.() !== 0) return "needs root (mount namespaces and overlayfs)";
    for (const tool of ["unshare", "chroot", "/usr/sbin/sshd", "ssh", "scp", "caddy", "ssh-keygen"]) {
        if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} is missing (scripts/test-tools.sh installs it)`;
    }
    return undefined;
}

export async function startSandboxHost(dir: string): Promise<SandboxHost> {
    const cfg = join(dir, "cfg");
    mkdirSync(join(cfg, "stubs"), { recursive: true });
    mkdirSync(join(dir, "ov"), { recursive: true });
    for (const [name, body] of Object.entries(STUBS)) {
        writeFileSync(join(cfg, "stubs", name), `#!/bin/sh\necho "${name} $*" >>/vk/calls\n${body}\n`);
        chmodSync(join(cfg, "stubs", name), 0o755);
    }
    for (const key of ["host_key", "client_key"]) {
        const res = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(cfg, key)], { encoding: "utf8" });
        if (res.status !== 0) throw new Error(`ssh-keygen: ${res.stderr}`);
    }
    writeFileSync(join(cfg, "authorized_keys"), readFileSync(join(cfg, "client_key.pub")));
    const port = await freePort();
    writeFileSync(
        join(cfg, "sshd_config"),
        // Paths as the chrooted sshd sees them: cfg/ is copied to /vk.
        sshdConfig({ port, dir: "/vk", hostKey: "/vk/host_key" }),
    );
    writeFileSync(join(cfg, "known_hosts"), `[127.0.0.1]:${port} ${readFileSync(join(cfg, "host_key.pub"), "utf8")}`);
    const setup = [
        "set -eu",
        'ov="$1/ov"; cfg="$1/cfg"',
        'mount -t tmpfs tmpfs "$ov"',
        'mkdir "$ov/u" "$ov/w" "$ov/m"',
        'mount -t overlay overlay -o "lowerdir=/,upperdir=$ov/u,workdir=$ov/w" "$ov/m"',
        'mount --rbind /dev "$ov/m/dev"',
        'mount -t proc proc "$ov/m/proc"',
        'mount -t tmpfs tmpfs "$ov/m/run"',
        'mkdir -p "$ov/m/run/sshd" "$ov/m/vk" "$ov/m/usr/local/bin"',
        'cp -r "$cfg/." "$ov/m/vk/"',
        'cp "$cfg/stubs/"* "$ov/m/usr/local/bin/"',
        // root's shell start-up files as a new Debian has them (this machine's run tools such as pyenv on every SSH
        // command, and a session cut off mid-way leaves their locks behind).
        'rm -f "$ov/m/root/.bashrc" "$ov/m/root/.profile" "$ov/m/root/.bash_profile" "$ov/m/root/.bash_login"',
        'cp /etc/skel/.bashrc /etc/skel/.profile "$ov/m/root/" 2>/dev/null || true',
        ': >"$ov/m/vk/calls"',
        'exec chroot "$ov/m" /usr/sbin/sshd -D -e -f /vk/sshd_config',
    ].join("\n");
    // sshd logs every session to stderr (-e). A file, not a pipe: the steps run through spawnSync, which blocks this
    // process's event loop, so a pipe would not be read, fill up, and block sshd mid-session (a deadlock seen under load).
    const logFile = join(dir, "sshd.log");
    const logFd = openSync(logFile, "a");
    const child: ChildProcess = spawn("unshare", ["--mount", "--propagation", "private", "bash", "-c", setup, "sandbox", dir], { stdio: ["ignore", "ignore", logFd] });
    closeSync(logFd);
    const deadline = Date.now() + 15_000;
    while (!(await listening(port))) {
        if (child.exitCode !== null) throw new Error(`sandbox sshd exited with ${child.exitCode}: ${readFileSync(logFile, "utf8")}`);
        if (Date.now() > deadline) throw new Error(`sandbox sshd did not listen on ${port}: ${readFileSync(logFile, "utf8")}`);
        await new Promise((r) => setTimeout(r, 100));
    }
    const opts = ["-i", join(cfg, "client_key"), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", `UserKnownHostsFile=${join(cfg, "known_hosts")}`, "-o", "StrictHostKeyChecking=yes"];
    const ssh = (args: string[], input?: string) => spawnSync("ssh", ["-p", String(port), ...opts, "root@127.0.0.1", ...args], { input: input ?? "", encoding: "utf8", timeout: 120_000 });
    return {
        port,
        run(command, stdin) {
            const res = ssh([command], stdin);
            return { status: res.status, stdout: res.stdout, stderr: res.stderr };
        },
        interrupt(command, stdin, afterMs) {
            return new Promise<void>((resolve) => {
                const c = spawn("ssh", ["-p", String(port), ...opts, "root@127.0.0.1", command], { stdio: ["pipe", "ignore", "ignore"] });
                c.stdin!.end(stdin ?? "");
                const timer = setTimeout(() => c.kill("SIGKILL"), afterMs);
                c.once("exit", () => {
                    clearTimeout(timer);
                    resolve();
                });
            });
        },
        copyFolder(local, remotePath) {
            const res = spawnSync("scp", ["-q", "-r", "-P", String(port), ...opts, local.replace(/\/+$/, ""), `root@127.0.0.1:${remotePath}`], { encoding: "utf8" });
            return { status: res.status, stderr: res.stderr };
        },
        calls: () => ssh(["cat /vk/calls"]).stdout.split("\n").filter(Boolean),
        stop: () =>
            new Promise<void>((resolve) => {
                if (child.exitCode !== null) return resolve();
                child.once("exit", () => resolve());
                child.kill("SIGTERM");
            }),
    };
}
