import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { runOk, sleep, tail } from "./proc";

/**
 * One Debian VM under QEMU's software emulation (the KVM device here cannot boot a stock kernel): the cached base
 * disk behind a per-run qcow2 overlay, a NoCloud seed, a blank data disk that shows up at Hetzner's
 * /dev/disk/by-id/scsi-0HC_Volume_<id> path, the test-image disk, and user-mode networking with chosen guest ports
 * forwarded to 127.0.0.1. Stopped by its PID.
 */

export interface VmOptions {
    /** Folder for this run's files (overlay, seed, data disk, serial log). */
    readonly dir: string;
    /** Folder with base.raw, vmlinuz, initrd.img (test/host/build-images.sh). */
    readonly baseDir: string;
    /** Extra read-only raw disks (virtio), e.g. the test images. */
    readonly extraDisks: readonly string[];
    /** The volume id: the disk's serial, so udev names it scsi-0HC_Volume_<id>. */
    readonly volumeId: string;
    readonly volumeSizeGb: number;
    /** NoCloud user-data, passed byte for byte. */
    readonly userData: string;
    /** Public keys for meta-data (how Hetzner hands them to cloud-init). */
    readonly publicKeys: readonly string[];
    readonly hostname: string;
    /** Guest TCP ports to forward to 127.0.0.1 (22 always). */
    readonly forward: readonly number[];
}

export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = createServer();
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => {
            const port = (s.address() as { port: number }).port;
            s.close(() => resolve(port));
        });
    });
}

export class Vm {
    /** Guest port → 127.0.0.1 port. */
    readonly ports = new Map<number, number>();
    readonly serialLog: string;
    private child?: ChildProcess;
    private exited?: string;

    constructor(readonly opts: VmOptions) {
        this.serialLog = join(opts.dir, "serial.log");
    }

    get pid(): number | undefined {
        return this.child?.pid;
    }

    async prepare(): Promise<void> {
        const { dir } = this.opts;
        await runOk("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", join(this.opts.baseDir, "base.raw"), join(dir, "root.qcow2")]);
        await runOk("truncate", ["-s", `${this.opts.volumeSizeGb}G`, join(dir, "data.raw")]);
        const seed = join(dir, "seed");
        await runOk("mkdir", ["-p", seed]);
        writeFileSync(join(seed, "user-data"), this.opts.userData);
        const keys = this.opts.publicKeys.map((k) => `  - ${JSON.stringify(k)}`).join("\n");
        writeFileSync(join(seed, "meta-data"), `instance-id: ${this.opts.hostname}-${Date.now()}\nlocal-hostname: ${this.opts.hostname}\npublic-keys:\n${keys}\n`);
        await runOk("genisoimage", ["-quiet", "-output", join(dir, "seed.iso"), "-volid", "cidata", "-joliet", "-rock", join(seed, "user-data"), join(seed, "meta-data")]);
        for (const guest of [22, ...this.opts.forward]) this.ports.set(guest, await freePort());
    }

    /** Starts QEMU; the boot goes on in the background (wait for SSH to know it is up). */
    start(): void {
        const { dir, baseDir } = this.opts;
        const forwards = [...this.ports].map(([guest, host]) => `hostfwd=tcp:127.0.0.1:${host}-:${guest}`).join(",");
        const args = [
            "-accel", "tcg", "-cpu", "max", "-smp", "2", "-m", "2048",
            "-display", "none", "-monitor", "none", "-serial", `file:${this.serialLog}`,
            "-kernel", join(baseDir, "vmlinuz"), "-initrd", join(baseDir, "initrd.img"),
            "-append", "root=LABEL=root rw console=ttyS0 net.ifnames=0",
            // A throwaway VM: flushes need not reach the host disk (dpkg's many fsyncs are most of the package install);
            // a guest reboot keeps QEMU running, so nothing written is lost.
            "-drive", `file=${join(dir, "root.qcow2")},if=virtio,format=qcow2,cache=unsafe`,
            "-drive", `file=${join(dir, "seed.iso")},if=virtio,format=raw,readonly=on`,
            ...this.opts.extraDisks.flatMap((d) => ["-drive", `file=${d},if=virtio,format=raw,readonly=on`]),
            "-device", "virtio-scsi-pci,id=scsi0",
            "-drive", `file=${join(dir, "data.raw")},if=none,id=data,format=raw,cache=unsafe`,
            "-device", `scsi-hd,bus=scsi0.0,drive=data,vendor=HC,product=Volume,serial=${this.opts.volumeId}`,
            "-netdev", `user,id=net0,${forwards}`, "-device", "virtio-net-pci,netdev=net0",
        ];
        this.exited = undefined;
        this.child = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        this.child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
        this.child.on("exit", (code, signal) => (this.exited = `QEMU exited (${signal ?? code}) ${stderr.trim()}`));
    }

    /** Why QEMU is gone, or undefined while it runs. */
    get exitReason(): string | undefined {
        return this.exited;
    }

    /** Stops QEMU by its PID: SIGTERM (QEMU quits at once), SIGKILL if it lingers. */
    async stop(): Promise<void> {
        const child = this.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        child.kill("SIGTERM");
        for (let i = 0; i < 50 && child.exitCode === null && child.signalCode === null; i++) await sleep(100);
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }

    serialTail(lines = 40): string {
        return existsSync(this.serialLog) ? tail(readFileSync(this.serialLog, "utf8").replace(/\r/g, ""), lines) : "(no serial log)";
    }
}
