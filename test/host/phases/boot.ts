import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { need, type Phase } from "../lib/context";
import { runOk, waitFor } from "../lib/proc";
import { Ssh, SshAgent } from "../lib/ssh";
import { Vm } from "../lib/vm";

/** Builds (or finds cached) the disk images: a Hetzner-like Debian 12 server and the container root file system. */
export const buildImages: Phase = {
    name: "image build",
    tag: "images",
    timeoutMs: 20 * 60_000,
    async run(ctx) {
        const started = Date.now();
        const out = await runOk("bash", [join(__dirname, "..", "build-images.sh"), ctx.cacheDir], { timeoutMs: this.timeoutMs });
        const dirs = Object.fromEntries(out.stdout.trim().split("\n").map((l) => l.split("=", 2) as [string, string]));
        ctx.images = { base: need(dirs.base, "base image"), apps: need(dirs.apps, "apps image") };
        ctx.figure("image build", (Date.now() - started) / 1000);
        ctx.log(`base ${ctx.images.base}, apps ${ctx.images.apps}`);
    },
};

/** The plan the VM runs: the dev stack with two throwaway keys, STUN off (Janus exits when STUN does not resolve) and Caddy's internal CA. */
export const renderForVm: Phase = {
    name: "render the stack for the VM",
    tag: "render",
    timeoutMs: 5 * 60_000,
    async run(ctx) {
        const main = await SshAgent.start(ctx.dir, "main");
        const other = await SshAgent.start(ctx.dir, "other");
        ctx.agents = { main, other };
        await main.addKey(ctx.dir, "main");
        await other.addKey(ctx.dir, "other");
        ctx.plan = await ctx.render();
        const committed = readFileSync(join(ctx.root, "rendered", ctx.stack, "cloud-init.yaml"), "utf8");
        const rendered = ctx.plan.files.get("cloud-init.yaml");
        if (rendered !== committed) throw new Error(`the VM render's cloud-init.yaml differs from rendered/${ctx.stack}/cloud-init.yaml: the overrides must not touch the bootstrap`);
        ctx.log(`${ctx.plan.resources.length} resources; cloud-init.yaml identical to rendered/${ctx.stack}/cloud-init.yaml`);
    },
};

/** The volume id Hetzner would give: the device the bootstrap's runcmd mounts ends in it. */
function volumeId(userData: string): string {
    const runcmd = ((parse(userData) as { runcmd?: unknown[] }).runcmd ?? []).map(String);
    const ids = runcmd.flatMap((c) => [...c.matchAll(/\/dev\/disk\/by-id\/scsi-0HC_Volume_(\d+)/g)].map((m) => m[1]));
    if (ids.length !== 1) throw new Error(`cloud-init.yaml's runcmd names ${ids.length} /dev/disk/by-id/scsi-0HC_Volume_<id> devices, expected one`);
    return ids[0];
}

export const boot: Phase = {
    name: "boot → cloud-init done",
    tag: "boot",
    timeoutMs: 30 * 60_000,
    async run(ctx) {
        const plan = need(ctx.plan, "the plan");
        const agents = need(ctx.agents, "the agents");
        const images = need(ctx.images, "the images");
        // User data byte for byte as committed: the test boots exactly what a new Hetzner server gets.
        const userData = readFileSync(join(ctx.root, "rendered", ctx.stack, "cloud-init.yaml"), "utf8");
        const server = plan.ofType("hcloud:index/server:Server")[0];
        const vm = new Vm({
            dir: ctx.dir,
            baseDir: images.base,
            extraDisks: [join(images.apps, "apps.raw")],
            volumeId: volumeId(userData),
            volumeSizeGb: Number(plan.ofType("hcloud:index/volume:Volume")[0]?.rawInputs.size ?? 10),
            userData,
            // Hetzner hands every key of the server's sshKeys to cloud-init.
            publicKeys: [...agents.main.publicKeys.values(), ...agents.other.publicKeys.values()],
            hostname: String(server?.rawInputs.name ?? "visualkit-test"),
            forward: [443],
        });
        await vm.prepare();
        ctx.vm = vm;
        ctx.httpsPort = vm.ports.get(443);
        const started = Date.now();
        vm.start();
        ctx.log(`QEMU pid ${vm.pid}, ssh on 127.0.0.1:${vm.ports.get(22)}, https on 127.0.0.1:${ctx.httpsPort}`);
        const ssh = new Ssh(vm.ports.get(22)!, agents.main, join(ctx.dir, "known_hosts"));
        await waitFor("SSH login through the agent", 15 * 60_000, async () => {
            if (vm.exitReason) throw new Error(vm.exitReason);
            return (await ssh.canLogIn(30_000)) ? true : undefined;
        }, 5000);
        ctx.log(`SSH up after ${Math.round((Date.now() - started) / 1000)} s`);
        ctx.ssh = ssh;
        // bookworm's cloud-init 22.4: `status --wait` exits 0 (done) or 1 (error).
        const wait = await ssh.exec("cloud-init status --wait >/dev/null; cloud-init status --long", { timeoutMs: 25 * 60_000 });
        const result = await ssh.exec("cat /run/cloud-init/result.json");
        if (!/status: done/.test(wait.stdout)) throw new Error(`cloud-init did not finish with status done:\n${wait.stdout}${wait.stderr}`);
        const errors = (JSON.parse(result.stdout) as { v1: { errors: string[] } }).v1.errors;
        if (errors.length > 0) throw new Error(`cloud-init reported errors: ${errors.join("; ")}`);
        ctx.figure("boot → cloud-init done", (Date.now() - started) / 1000);
        ctx.log(`cloud-init status: done, no errors, after ${Math.round((Date.now() - started) / 1000)} s`);
        // Where the bootstrap's time goes under emulation (the slowest modules first).
        const blame = await ssh.exec("cloud-init analyze blame 2>/dev/null | grep -E '^ +[0-9]' | head -n 6", { timeoutMs: 120_000 });
        ctx.log(`slowest cloud-init modules:\n      ${blame.stdout.trim().split("\n").map((l) => l.trim()).join("\n      ")}`);
    },
};

export const volume: Phase = {
    name: "data volume at Hetzner's path, mounted from fstab",
    tag: "volume",
    timeoutMs: 2 * 60_000,
    async run(ctx) {
        const ssh = need(ctx.ssh, "SSH");
        const out = await ssh.ok(
            [
                "set -eu",
                "dev=$(readlink -f /dev/disk/by-id/scsi-0HC_Volume_*)",
                "uuid=$(blkid -s UUID -o value \"$dev\")",
                "grep -E \"^UUID=$uuid /mnt/data ext4 \" /etc/fstab",
                "findmnt -n -o SOURCE,FSTYPE /mnt/data",
                "test \"$(findmnt -n -o SOURCE /mnt/data)\" = \"$dev\"",
                "ls /mnt/data",
            ].join("\n"),
        );
        for (const folder of ["postgres", "redis", "chatwoot", "widget-cdn"]) {
            if (!out.split(/\s+/).includes(folder)) throw new Error(`/mnt/data lacks ${folder}:\n${out}`);
        }
        ctx.log(out.trim().split("\n").slice(0, 2).join("; "));
    },
};
