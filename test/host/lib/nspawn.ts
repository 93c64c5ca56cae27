import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ArchiveProxy, TcpForward, aptSourceHosts } from "./forward";
import { run, runOk, sleep, tail, waitFor } from "./proc";

/**
 * The native host: a systemd-nspawn machine booted from the tier's Debian 12 server disk (build-images.sh's base.raw,
 * copied per run and loop-mounted), with systemd as PID 1, its own network namespace (--network-veth), and cloud-init
 * running the committed user-data byte for byte from a NoCloud seed in /var/lib/cloud/seed/nocloud. It shares this
 * machine's kernel: no cold boot, no block device appearing late, no kernel-side fstab; the VM lane proves those.
 *
 * What the test gives the machine, as Hetzner's hardware and udev would:
 *   - the volume: a loop device over a blank file, at /dev/disk/by-id/scsi-0HC_Volume_<id> and at its kernel name
 *     (blkid finds a filesystem by UUID through /proc/partitions and /dev/<name>), and after it is formatted, at
 *     /dev/disk/by-uuid/<uuid> from the next start on (udev's link; nothing inside the machine runs udev);
 *   - from the second start on, the volume's fstab entry mounted: systemd-fstab-generator ignores device entries in a
 *     container ("Running in a container, ignoring fstab device entry"), so the test mounts what the machine's own
 *     /etc/fstab names for the volume's UUID and binds it at that mount point, as a boot would have mounted it;
 *   - its network: 10.x.y.2/30 on host0, the host end 10.x.y.1 reached only by the test's forwards (sshd, Caddy) and
 *     the apt proxy (test/host/lib/forward.ts) — no route out, no DNS.
 * `systemctl reboot` inside ends systemd-nspawn with exit status 133; the test starts it again on the same disk, as
 * systemd-nspawn@.service does (RestartForceExitStatus=133). Everything is stopped and removed by stop(): the machine
 * by its leader's PID, the root mount, the loop devices, the veth (it goes with the namespace), the listeners.
 */

export interface NspawnOptions {
    /** Folder for this run's files (root disk copy, volume file, seed, console log). */
    readonly dir: string;
    /** Folder with base.raw (test/host/build-images.sh). */
    readonly baseDir: string;
    readonly volumeId: string;
    readonly volumeSizeGb: number;
    /** NoCloud user-data, byte for byte. */
    readonly userData: string;
    readonly publicKeys: readonly string[];
    readonly hostname: string;
    /** Guest TCP ports forwarded to 127.0.0.1 (22 always). */
    readonly forward: readonly number[];
}

const RESTART_STATUS = 133;

/** A /30 for the veth not used on this machine (the host end .1, the machine .2). */
function pickSubnet(): { host: string; machine: string } {
    const used = readFileSync("/proc/net/fib_trie", "utf8");
    for (let i = 0; i < 200; i++) {
        const b = 64 + Math.floor(Math.random() * 128);
        const c = Math.floor(Math.random() * 64) * 4;
        const net = `10.${b}.${c}`;
        if (!used.includes(`${net}.`)) return { host: `${net}.1`, machine: `${net}.2` };
    }
    throw new Error("no free 10.x.y.0/30 for the native host's veth");
}

/** Unmounts a mount of the test's: retried while busy (the machine's processes may still be exiting), lazily at last. */
async function unmount(path: string): Promise<void> {
    if (!existsSync(path) || (await run("mountpoint", ["-q", path])).code !== 0) return;
    for (let i = 0; i < 20 && (await run("umount", [path])).code !== 0; i++) await sleep(250);
    if ((await run("mountpoint", ["-q", path])).code === 0) await run("umount", ["-l", path]);
}

export class NspawnHost {
    readonly name = `vkh-${Math.random().toString(16).slice(2, 8)}`;
    readonly root: string;
    readonly consoleLog: string;
    readonly address = pickSubnet();
    /** Guest port → 127.0.0.1 port. */
    readonly ports = new Map<number, number>();
    private readonly forwards: TcpForward[] = [];
    private proxy?: ArchiveProxy;
    private rootLoop?: string;
    private volumeLoop?: string;
    private volumeUuid?: string;
    /** The volume mounted here by the test from the second start on (see above). */
    private volumeMount?: string;
    private child?: ChildProcess;
    private exited?: string;
    private stopping = false;
    /** Starts of systemd-nspawn so far (a reboot inside is one more). */
    starts = 0;

    constructor(readonly opts: NspawnOptions) {
        this.root = join(opts.dir, "native-root");
        this.consoleLog = join(opts.dir, "native-console.log");
    }

    get pid(): number | undefined {
        return this.child?.pid;
    }

    /** Why the machine is gone, or undefined while it runs (or restarts). */
    get exitReason(): string | undefined {
        return this.exited;
    }

    /** The root disk copy, mounted; the seed, network and apt proxy settings in it; the loop devices; the listeners. */
    async prepare(): Promise<void> {
        const { dir } = this.opts;
        const disk = join(dir, "native-root.raw");
        // Sparse copy: only the written extents of the 8 GB disk are copied.
        await runOk("cp", ["--sparse=always", join(this.opts.baseDir, "base.raw"), disk], { timeoutMs: 300_000 });
        this.rootLoop = (await runOk("losetup", ["-f", "--show", disk])).stdout.trim();
        mkdirSync(this.root, { recursive: true });
        await runOk("mount", [this.rootLoop, this.root]);
        const volume = join(dir, "native-volume.raw");
        await runOk("truncate", ["-s", `${this.opts.volumeSizeGb}G`, volume]);
        this.volumeLoop = (await runOk("losetup", ["-f", "--show", volume])).stdout.trim();

        const seed = join(this.root, "var/lib/cloud/seed/nocloud");
        mkdirSync(seed, { recursive: true });
        writeFileSync(join(seed, "user-data"), this.opts.userData);
        const keys = this.opts.publicKeys.map((k) => `  - ${JSON.stringify(k)}`).join("\n");
        writeFileSync(join(seed, "meta-data"), `instance-id: ${this.name}\nlocal-hostname: ${this.opts.hostname}\npublic-keys:\n${keys}\n`);
        // The network is the test's (a static veth), not cloud-init's.
        writeFileSync(join(this.root, "etc/cloud/cloud.cfg.d/95-visualkit-native.cfg"), "network: {config: disabled}\n");
        writeFileSync(
            join(this.root, "etc/network/interfaces"),
            `auto lo\niface lo inet loopback\nauto host0\niface host0 inet static\n  address ${this.address.machine}/30\n  gateway ${this.address.host}\n`,
        );
        this.proxy = new ArchiveProxy(aptSourceHosts(readFileSync(join(this.root, "etc/apt/sources.list"), "utf8")));
        for (const guest of [22, ...this.opts.forward]) {
            const f = await TcpForward.open(this.address.machine, guest);
            this.forwards.push(f);
            this.ports.set(guest, f.port);
        }
    }

    /** The mount point and options the machine's /etc/fstab gives the volume (by its UUID), if it names it. */
    private fstabEntry(): { target: string; options: string } | undefined {
        const fstab = join(this.root, "etc/fstab");
        if (!this.volumeUuid || !existsSync(fstab)) return undefined;
        const line = readFileSync(fstab, "utf8")
            .split("\n")
            .map((l) => l.trim().split(/\s+/))
            .find((f) => f[0] === `UUID=${this.volumeUuid}`);
        return line && line[1] ? { target: line[1], options: line[3] ?? "defaults" } : undefined;
    }

    private async args(): Promise<string[]> {
        const binds = [`--bind=${this.volumeLoop}:/dev/disk/by-id/scsi-0HC_Volume_${this.opts.volumeId}`, `--bind=${this.volumeLoop}`];
        if (this.volumeUuid) binds.push(`--bind=${this.volumeLoop}:/dev/disk/by-uuid/${this.volumeUuid}`);
        const entry = this.fstabEntry();
        if (entry) {
            if (!this.volumeMount) {
                const mnt = join(this.opts.dir, "native-volume");
                mkdirSync(mnt, { recursive: true });
                const options = entry.options.split(",").filter((o) => !["nofail", "defaults", "auto", "noauto"].includes(o) && !o.startsWith("x-"));
                await runOk("mount", ["-t", "ext4", ...(options.length ? ["-o", options.join(",")] : []), this.volumeLoop!, mnt]);
                this.volumeMount = mnt;
            }
            binds.push(`--bind=${this.volumeMount}:${entry.target}`);
        }
        return [
            "-D", this.root, "-M", this.name, "--boot", "--register=no", "--keep-unit", "--network-veth",
            "--capability=all", "--system-call-filter=@keyring bpf", "--resolv-conf=off", ...binds,
        ];
    }

    /** Starts systemd-nspawn, addresses the host end of the veth and opens the apt proxy on it. */
    async start(): Promise<void> {
        if (this.stopping) return;
        // The uuid udev would link once the volume has a filesystem.
        const probe = await run("blkid", ["-p", "-s", "UUID", "-o", "value", this.volumeLoop!]);
        this.volumeUuid = probe.code === 0 && probe.stdout.trim() ? probe.stdout.trim() : undefined;
        const log = openSync(this.consoleLog, "a");
        this.exited = undefined;
        // Docker inside needs cgroup v2 (runc fails on the hybrid default's read-only cpuset); its own process group,
        // so a Ctrl-C reaches only the test, which then stops the machine itself.
        const child = spawn("systemd-nspawn", await this.args(), { stdio: ["ignore", log, log], detached: true, env: { ...process.env, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: "1" } });
        closeSync(log);
        this.child = child;
        this.starts++;
        child.on("exit", (code, signal) => {
            if (this.child !== child) return;
            if (code === RESTART_STATUS && !this.stopping) {
                // A reboot inside: start again on the same disk.
                void this.start().catch((e: Error) => (this.exited = `restart after a reboot failed: ${e.message}`));
                return;
            }
            this.exited = `systemd-nspawn exited (${signal ?? code})`;
        });
        const veth = `ve-${this.name}`.slice(0, 15);
        await waitFor(`the veth ${veth}`, 30_000, async () => {
            if (this.exited) throw new Error(this.exited);
            return existsSync(`/sys/class/net/${veth}`) ? true : undefined;
        }, 200);
        await runOk("ip", ["addr", "add", `${this.address.host}/30`, "dev", veth]);
        await runOk("ip", ["link", "set", veth, "up"]);
        await this.proxy!.listen(this.address.host).then((port) =>
            writeFileSync(join(this.root, "etc/apt/apt.conf.d/01-visualkit-native-proxy"), `// The host tier's native machine: Debian's archive through the test's proxy.\nAcquire::http::Proxy "http://${this.address.host}:${port}";\n`),
        );
    }

    /** The machine's PID 1 (in its own PID namespace): killing it ends every process of the machine. */
    private leaderPid(): number | undefined {
        const pid = this.child?.pid;
        if (!pid) return undefined;
        const ours = readlinkSync("/proc/self/ns/pid");
        const queue = [pid];
        while (queue.length > 0) {
            const p = queue.shift()!;
            let children: number[] = [];
            try {
                children = readdirSync(`/proc/${p}/task`).flatMap((t) => readFileSync(`/proc/${p}/task/${t}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number));
            } catch {
                continue;
            }
            for (const c of children) {
                try {
                    if (readlinkSync(`/proc/${c}/ns/pid`) !== ours) return c;
                } catch {
                    /* gone */
                }
                queue.push(c);
            }
        }
        return undefined;
    }

    /** Stops the machine and removes everything the test set up for it; safe to call more than once. */
    async stop(): Promise<void> {
        this.stopping = true;
        const child = this.child;
        if (child && child.exitCode === null && child.signalCode === null) {
            const leader = this.leaderPid();
            try {
                if (leader) process.kill(leader, "SIGKILL");
            } catch {
                /* already gone */
            }
            for (let i = 0; i < 100 && child.exitCode === null && child.signalCode === null; i++) await sleep(100);
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
            for (let i = 0; i < 50 && child.exitCode === null && child.signalCode === null; i++) await sleep(100);
        }
        await this.proxy?.close();
        for (const f of this.forwards.splice(0)) await f.close();
        // The machine's own mounts went with its namespace; these two are the test's.
        for (const mnt of [this.root, this.volumeMount]) if (mnt) await unmount(mnt);
        this.volumeMount = undefined;
        for (const loop of [this.rootLoop, this.volumeLoop]) if (loop) await run("losetup", ["-d", loop]);
        this.rootLoop = this.volumeLoop = undefined;
    }

    consoleTail(lines = 40): string {
        return existsSync(this.consoleLog) ? tail(readFileSync(this.consoleLog, "utf8").replace(/\r/g, "").replace(/\x1b\[[0-9;]*m/g, ""), lines) : "(no console log)";
    }
}
