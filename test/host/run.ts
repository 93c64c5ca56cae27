import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { phasesOf, type Context, type Phase, type Step } from "./lib/context";
import { renderPlan } from "./lib/plan";
import { tail } from "./lib/proc";
import { Ssh, SshAgent } from "./lib/ssh";
import { STEPS } from "./phases";

/**
 * `npm run test:host`: the real-host tier. Boots the committed bootstrap in a Debian 12 VM and replays the
 * rendered plan on it, phase by phase (test/host/phases/index.ts lists them). Prints each phase's verdict, the
 * figures and "N passed, N failed"; exit 1 when anything failed. QEMU, the agents and the temp folder are removed
 * whatever happens (VISUALKIT_HOST_TEST_HOLD=1 keeps a failed VM up for a look until Ctrl-C).
 */

const ROOT = resolve(__dirname, "..", "..");
const STACK = "dev";
const CACHE = process.env.VISUALKIT_HOST_TEST_CACHE ?? "/var/cache/visualkit-host-test";

/** What a VM render changes: the test keys, no STUN (the VM resolves only Debian's archive), Caddy's internal CA. */
function vmOverrides(ctx: Context): Record<string, unknown> {
    const keys = ctx.agents ? [...ctx.agents.main.publicKeys.values(), ...ctx.agents.other.publicKeys.values()] : [];
    return { sshPublicKeys: keys, janusStunServer: "", caddyTls: "internal" };
}

async function diagnostics(ctx: Context): Promise<string> {
    const parts: string[] = [];
    if (ctx.vm) {
        parts.push(`--- serial console (tail) ---\n${ctx.vm.serialTail(40)}`);
        if (ctx.vm.exitReason) parts.push(ctx.vm.exitReason);
    }
    if (ctx.ssh && !ctx.vm?.exitReason) {
        const r = await ctx.ssh.exec("tail -n 40 /var/log/cloud-init-output.log; echo '--- cloud-init status ---'; cloud-init status --long", { timeoutMs: 60_000 }).catch((e: Error) => ({ stdout: e.message, stderr: "" }));
        parts.push(`--- /var/log/cloud-init-output.log (tail) ---\n${r.stdout}${r.stderr}`);
    }
    return parts.join("\n");
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: phase timeout of ${Math.round(ms / 1000)} s`)), ms)));
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * VISUALKIT_HOST_TEST_ATTACH="<ssh port>,<https port>,<run folder>" with VISUALKIT_HOST_TEST_PHASES="name,…":
 * runs only the phases named (a phase's tag, or the start of its name) against a VM another run holds up
 * (VISUALKIT_HOST_TEST_HOLD=1), for working on one phase without a new boot. Its folder has the agents' sockets and
 * known_hosts; the plan is rendered again with the same keys.
 */
async function attachTo(ctx: Context, spec: string): Promise<readonly Step[]> {
    const [sshPort, httpsPort, folder] = spec.split(",");
    if (!sshPort || !httpsPort || !folder) throw new Error("VISUALKIT_HOST_TEST_ATTACH must be <ssh port>,<https port>,<run folder>");
    const main = await SshAgent.attach(join(folder, "main.agent"), "main");
    const other = await SshAgent.attach(join(folder, "other.agent"), "other");
    ctx.agents = { main, other };
    copyFileSync(join(folder, "known_hosts"), join(ctx.dir, "known_hosts"));
    ctx.ssh = new Ssh(Number(sshPort), main, join(ctx.dir, "known_hosts"));
    ctx.httpsPort = Number(httpsPort);
    ctx.plan = await ctx.render();
    const wanted = (process.env.VISUALKIT_HOST_TEST_PHASES ?? "").split(",").map((w) => w.trim()).filter(Boolean);
    const all = phasesOf(STEPS);
    const phases = all.filter((p) => wanted.some((w) => p.name.startsWith(w) || p.tag === w));
    if (phases.length === 0) throw new Error(`VISUALKIT_HOST_TEST_PHASES names no phase; phases: ${all.map((p) => p.tag).join(" | ")}`);
    return phases;
}

async function main(): Promise<number> {
    const started = Date.now();
    const dir = mkdtempSync(join(tmpdir(), "visualkit-host-test-"));
    const figures = new Map<string, number>();
    let current = "";
    let renders: Promise<unknown> = Promise.resolve();
    const ctx: Context = {
        root: ROOT,
        dir,
        cacheDir: CACHE,
        stack: STACK,
        log: (m) => console.log(`    ${m}`),
        figure: (name, s) => figures.set(name, (figures.get(name) ?? 0) + s),
        // One render at a time: the mock runtime is one per process, and phases in lanes may render at once.
        render: (extra = {}, secrets = []) => {
            const next = renders.then(() => renderPlan(STACK, { ...vmOverrides(ctx), ...extra } as Record<string, string | number | boolean | object>, secrets));
            renders = next.catch(() => undefined);
            return next;
        },
    };
    const cleanup = async () => {
        await ctx.vm?.stop();
        ctx.agents?.main.stop();
        ctx.agents?.other.stop();
        rmSync(dir, { recursive: true, force: true });
    };
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
        process.once(signal, () => {
            console.error(`\n${signal} during "${current}": stopping QEMU and removing ${dir}`);
            void cleanup().finally(() => process.exit(130));
        });
    }

    const attach = process.env.VISUALKIT_HOST_TEST_ATTACH;
    let steps: readonly Step[] = STEPS;
    if (attach) {
        steps = await attachTo(ctx, attach);
        // Another run's VM, agents and folder: this run leaves them alone.
        ctx.vm = undefined;
    }
    const results: { phase: Phase; ok: boolean; s: number; error?: string }[] = [];
    let stopped = false;
    /** Runs one phase unless a critical one failed before; records and prints its verdict. */
    const runPhase = async (phase: Phase, view: Context, tag: string) => {
        if (stopped) {
            results.push({ phase, ok: false, s: 0, error: "not run: an earlier critical phase failed" });
            return;
        }
        current = phase.name;
        console.log(`▶ ${tag}${phase.name}`);
        const t0 = Date.now();
        try {
            await withTimeout(phase.run(view), phase.timeoutMs, phase.name);
            const s = (Date.now() - t0) / 1000;
            results.push({ phase, ok: true, s });
            console.log(`✔ ${tag}${phase.name} (${s.toFixed(0)} s)`);
        } catch (e) {
            const s = (Date.now() - t0) / 1000;
            const error = (e as Error).message;
            results.push({ phase, ok: false, s, error });
            console.log(`✘ ${tag}${phase.name} (${s.toFixed(0)} s): ${error}`);
            console.log(tail(await diagnostics(ctx), 90));
            if (phase.critical !== false) stopped = true;
        }
    };
    try {
        for (const step of steps) {
            if (!("lanes" in step)) {
                await runPhase(step, ctx, "");
                continue;
            }
            // Lanes at once; each phase's lines carry its tag, everything else of the context is shared.
            const t0 = Date.now();
            await Promise.all(
                step.lanes.map(async (lane) => {
                    for (const phase of lane) {
                        const tag = `[${phase.tag}] `;
                        const view = new Proxy(ctx, { get: (t, key) => (key === "log" ? (m: string) => console.log(`    ${tag}${m}`) : Reflect.get(t, key)) });
                        await runPhase(phase, view, tag);
                    }
                }),
            );
            const wall = (Date.now() - t0) / 1000;
            const lanes = step.lanes.map((l) => l.map((p) => p.tag).join(" → ")).join(" ∥ ");
            console.log(`  (lanes ${lanes}: ${wall.toFixed(0)} s wall)`);
            // The phases' own figures add up their times; this one is what the lanes cost together.
            figures.set(`${step.lanes.map((l) => l[0].tag).join(" ∥ ")} (wall)`, wall);
        }
        if (process.env.VISUALKIT_HOST_TEST_HOLD === "1" && results.some((r) => !r.ok) && ctx.ssh) {
            // For a look at the failed state: the VM stays up until Ctrl-C, then is cleaned up as always.
            console.log(`\nVISUALKIT_HOST_TEST_HOLD=1: the VM stays up; log in with\n  SSH_AUTH_SOCK=${ctx.agents?.main.socket} ssh -p ${ctx.ssh.port} -o StrictHostKeyChecking=no root@127.0.0.1\nCtrl-C to stop it.`);
            await new Promise(() => undefined);
        }
    } finally {
        await cleanup();
    }

    figures.set("total", (Date.now() - started) / 1000);
    console.log("\nfigures (s):");
    for (const [name, s] of figures) console.log(`  ${name.padEnd(28)} ${s.toFixed(0)}`);
    console.log("\nphases:");
    for (const r of results) console.log(`  ${r.ok ? "✔" : "✘"} ${r.phase.name}${r.ok ? "" : ` — ${r.error?.split("\n")[0]}`}`);
    const passed = results.filter((r) => r.ok).length;
    console.log(`\n${passed} passed, ${results.length - passed} failed`);
    return passed === results.length ? 0 : 1;
}

main().then(
    (code) => process.exit(code),
    (e) => {
        console.error(e);
        process.exit(1);
    },
);
