import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { need, type Phase } from "../lib/context";
import { sleep, waitFor } from "../lib/proc";
import { Ssh } from "../lib/ssh";
import { Vm } from "../lib/vm";
import { cloudInitDone, serverShape } from "./boot";

/**
 * The VM lane: what only a machine with its own kernel shows — a cold boot of the committed bootstrap to cloud-init's
 * `status: done`, the volume as a block device appearing at Hetzner's path, formatted, in fstab and mounted, and a real
 * reboot that mounts it from fstab before Docker starts. Under software emulation, so slow: the lane is cached by the
 * hash of its inputs (phases/index.ts, lib/vm-cache.ts) and runs only when one changes. Its phases use ctx.vm and
 * ctx.vmSsh, never the native host's ctx.ssh.
 */

export const vmBoot: Phase = {
    name: "VM: cold boot → cloud-init done (the committed user-data)",
    tag: "vm-boot",
    on: "vm",
    timeoutMs: 30 * 60_000,
    async run(ctx) {
        const images = need(ctx.images, "the images");
        mkdirSync(join(ctx.dir, "vm"), { recursive: true });
        const vm = new Vm({ dir: join(ctx.dir, "vm"), baseDir: images.base, extraDisks: [], forward: [], ...serverShape(ctx) });
        await vm.prepare();
        ctx.vm = vm;
        const started = Date.now();
        vm.start();
        ctx.log(`QEMU pid ${vm.pid}, ssh on 127.0.0.1:${vm.ports.get(22)}`);
        const ssh = new Ssh(vm.ports.get(22)!, need(ctx.agents, "the agents").main, join(ctx.dir, "vm", "known_hosts"));
        await waitFor("SSH login through the agent", 15 * 60_000, async () => {
            if (vm.exitReason) throw new Error(vm.exitReason);
            return (await ssh.canLogIn(30_000)) ? true : undefined;
        }, 5000);
        ctx.log(`SSH up after ${Math.round((Date.now() - started) / 1000)} s`);
        ctx.vmSsh = ssh;
        const blame = await cloudInitDone(ctx, ssh, 25 * 60_000);
        ctx.figure("VM boot → cloud-init done", (Date.now() - started) / 1000);
        ctx.log(`cloud-init status: done, no errors, after ${Math.round((Date.now() - started) / 1000)} s; slowest: ${blame}`);
    },
};

/** The volume checks, also run after the reboot. */
const VOLUME_CHECK = [
    "set -eu",
    "dev=$(readlink -f /dev/disk/by-id/scsi-0HC_Volume_*)",
    "uuid=$(blkid -s UUID -o value \"$dev\")",
    "grep -E \"^UUID=$uuid /mnt/data ext4 \" /etc/fstab",
    "findmnt -n -o SOURCE,FSTYPE /mnt/data",
    "test \"$(findmnt -n -o SOURCE /mnt/data)\" = \"$dev\"",
    "ls -A /mnt/data",
].join("\n");

export const vmVolume: Phase = {
    name: "VM: data volume at Hetzner's path, formatted, in fstab, mounted",
    tag: "vm-volume",
    on: "vm",
    timeoutMs: 3 * 60_000,
    async run(ctx) {
        const ssh = need(ctx.vmSsh, "the VM's SSH");
        const out = await ssh.ok(VOLUME_CHECK);
        for (const folder of ["postgres", "redis", "chatwoot", "widget-cdn"]) {
            if (!out.split(/\s+/).includes(folder)) throw new Error(`/mnt/data lacks ${folder}:\n${out}`);
        }
        await ssh.ok("echo written-before-the-reboot > /mnt/data/.vk-reboot-marker && sync");
        ctx.log(out.trim().split("\n").slice(0, 2).join("; "));
    },
};

export const vmReboot: Phase = {
    name: "VM reboot: the volume mounted from fstab before Docker starts, its data kept",
    tag: "vm-reboot",
    on: "vm",
    timeoutMs: 20 * 60_000,
    async run(ctx) {
        const ssh = need(ctx.vmSsh, "the VM's SSH");
        const vm = need(ctx.vm, "the VM");
        const started = Date.now();
        const bootId = (await ssh.ok("cat /proc/sys/kernel/random/boot_id")).trim();
        await ssh.exec("systemctl reboot", { timeoutMs: 30_000 });
        await sleep(10_000);
        await waitFor("SSH after the reboot", 10 * 60_000, async () => {
            if (vm.exitReason) throw new Error(vm.exitReason);
            const r = await ssh.exec("cat /proc/sys/kernel/random/boot_id", { timeoutMs: 30_000 });
            return r.code === 0 && r.stdout.trim() !== bootId ? true : undefined;
        }, 5000);
        ctx.log(`back after ${Math.round((Date.now() - started) / 1000)} s (new boot id)`);
        await waitFor("docker.service active after the reboot", 10 * 60_000, async () => ((await ssh.exec("systemctl is-active docker.service", { timeoutMs: 30_000 })).stdout.trim() === "active" ? true : undefined), 5000);
        const order = await ssh.ok(
            [
                VOLUME_CHECK,
                "grep -q written-before-the-reboot /mnt/data/.vk-reboot-marker",
                "m=$(systemctl show -p ActiveEnterTimestampMonotonic --value mnt-data.mount)",
                "d=$(systemctl show -p ActiveEnterTimestampMonotonic --value docker.service)",
                'echo "mnt-data.mount active at ${m}us, docker.service at ${d}us"',
                'test "$m" -gt 0 && test "$d" -gt "$m"',
            ].join("\n"),
        );
        ctx.log(order.trim().split("\n").slice(-1)[0]);
        ctx.figure("VM reboot", (Date.now() - started) / 1000);
    },
};
