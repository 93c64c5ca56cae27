import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { need, type Context, type Phase } from "../lib/context";
import { runOk } from "../lib/proc";
import { SshAgent, type Ssh } from "../lib/ssh";

/** Runs build-images.sh for some parts; returns part → folder. */
async function build(ctx: Context, parts: string, timeoutMs: number): Promise<Record<string, string>> {
    const started = Date.now();
    const out = await runOk("bash", [join(__dirname, "..", "build-images.sh"), ctx.cacheDir], { timeoutMs, env: { ...process.env, VISUALKIT_IMAGE_PARTS: parts } });
    ctx.figure(`image build (${parts})`, (Date.now() - started) / 1000);
    return Object.fromEntries(out.stdout.trim().split("\n").map((l) => l.split("=", 2) as [string, string]));
}

/** Builds (or finds cached) the Hetzner-like Debian 12 server disk both hosts boot. */
export const buildBase: Phase = {
    name: "image build: the server disk",
    tag: "base",
    timeoutMs: 20 * 60_000,
    async run(ctx) {
        const dirs = await build(ctx, "base", this.timeoutMs);
        ctx.images = { base: need(dirs.base, "base image") };
        ctx.log(`base ${ctx.images.base}`);
    },
};

/** Builds (or finds cached) the container root file system the native host imports. */
export const buildApps: Phase = {
    name: "image build: the container root file system",
    tag: "apps",
    timeoutMs: 20 * 60_000,
    async run(ctx) {
        const dirs = await build(ctx, "apps", this.timeoutMs);
        ctx.images = { ...need(ctx.images, "the base image"), apps: need(dirs.apps, "apps image") };
        ctx.log(`apps ${ctx.images.apps}`);
    },
};

/** The plan both hosts run: the dev stack with two throwaway keys, STUN off (Janus exits when STUN does not resolve) and Caddy's internal CA. */
export const renderForVm: Phase = {
    name: "render the stack for the test hosts",
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
        if (rendered !== committed) throw new Error(`the test render's cloud-init.yaml differs from rendered/${ctx.stack}/cloud-init.yaml: the overrides must not touch the bootstrap`);
        ctx.log(`${ctx.plan.resources.length} resources; cloud-init.yaml identical to rendered/${ctx.stack}/cloud-init.yaml`);
    },
};

/** The volume id Hetzner would give: the device the bootstrap's runcmd mounts ends in it. */
export function volumeId(userData: string): string {
    const runcmd = ((parse(userData) as { runcmd?: unknown[] }).runcmd ?? []).map(String);
    const ids = runcmd.flatMap((c) => [...c.matchAll(/\/dev\/disk\/by-id\/scsi-0HC_Volume_(\d+)/g)].map((m) => m[1]));
    if (ids.length !== 1) throw new Error(`cloud-init.yaml's runcmd names ${ids.length} /dev/disk/by-id/scsi-0HC_Volume_<id> devices, expected one`);
    return ids[0];
}

/** What both hosts are given at their first boot, as Hetzner gives a new server: the committed user-data byte for byte, every key, the name, the volume. */
export function serverShape(ctx: Context) {
    const plan = need(ctx.plan, "the plan");
    const agents = need(ctx.agents, "the agents");
    const userData = readFileSync(join(ctx.root, "rendered", ctx.stack, "cloud-init.yaml"), "utf8");
    const server = plan.ofType("hcloud:index/server:Server")[0];
    return {
        userData,
        volumeId: volumeId(userData),
        volumeSizeGb: Number(plan.ofType("hcloud:index/volume:Volume")[0]?.rawInputs.size ?? 10),
        // Hetzner hands every key of the server's sshKeys to cloud-init.
        publicKeys: [...agents.main.publicKeys.values(), ...agents.other.publicKeys.values()],
        hostname: String(server?.rawInputs.name ?? "visualkit-test"),
    };
}

/** Waits for cloud-init to finish on a host and fails unless it ended `status: done` without errors. */
/**
 * cloud-init installs the program's SSH host key (render/cloud-init.ts ssh_keys) and restarts sshd while the test waits
 * on it: a session open at that moment is cut ("kex_exchange_identification: Connection closed/reset"). That is the
 * transport, not cloud-init's verdict: ask again (the wait is idempotent), a few times at most.
 */
async function waitingThroughSshRestarts(ctx: Context, ask: () => Promise<{ stdout: string; stderr: string }>): Promise<{ stdout: string; stderr: string }> {
    const cut = (text: string) => /kex_exchange_identification|Connection (closed|reset|refused)|closed by remote host/.test(text);
    for (let attempt = 1; ; attempt++) {
        let reply: { stdout: string; stderr: string };
        try {
            reply = await ask();
        } catch (e) {
            if (!cut((e as Error).message) || attempt >= 4) throw e;
            ctx.log(`SSH session cut while waiting for cloud-init (attempt ${attempt}): asking again`);
            await new Promise((r) => setTimeout(r, 3000));
            continue;
        }
        if (/status: /.test(reply.stdout) || !cut(reply.stderr) || attempt >= 4) return reply;
        ctx.log(`SSH session cut while waiting for cloud-init (attempt ${attempt}): asking again`);
        await new Promise((r) => setTimeout(r, 3000));
    }
}

export async function cloudInitDone(ctx: Context, ssh: Ssh, timeoutMs: number): Promise<string> {
    // bookworm's cloud-init 22.4: `status --wait` exits 0 (done) or 1 (error).
    const wait = await waitingThroughSshRestarts(ctx, () => ssh.exec("cloud-init status --wait >/dev/null; cloud-init status --long", { timeoutMs }));
    const result = await ssh.exec("cat /run/cloud-init/result.json");
    if (!/status: done/.test(wait.stdout)) throw new Error(`cloud-init did not finish with status done:\n${wait.stdout}${wait.stderr}`);
    const errors = (JSON.parse(result.stdout) as { v1: { errors: string[] } }).v1.errors;
    if (errors.length > 0) throw new Error(`cloud-init reported errors: ${errors.join("; ")}`);
    const blame = await ssh.exec("cloud-init analyze blame 2>/dev/null | grep -E '^ +[0-9]' | head -n 4", { timeoutMs: 120_000 });
    return blame.stdout.trim().split("\n").map((l) => l.trim()).join("; ");
}
