import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { phasesOf, type Context, type Phase, type Step } from "./lib/context";
import { renderPlan } from "./lib/plan";
import { stopExtraHosts } from "./lib/extra-host";
import { Ssh, SshAgent } from "./lib/ssh";
import { STEPS } from "./phases";
import { Runner } from "./lib/runner";

/**
 * `npm run test:host`: the real-host tier. Boots the committed bootstrap on a native host (a systemd-nspawn machine)
 * and replays the rendered plan on it, phase by phase, beside a VM lane for what needs its own kernel (cold boot,
 * volume, reboot; skipped when its inputs are unchanged since a recorded pass). test/host/phases/index.ts lists the
 * phases; docs/host-tier.md explains the split. Prints each phase's verdict, the figures and "N passed, N failed";
 * exit 1 when anything failed. The machines, their loop devices and listeners, the agents and the temp folder are
 * removed whatever happens (VISUALKIT_HOST_TEST_HOLD=1 keeps a failed run's machines up for a look until Ctrl-C).
 */

const ROOT = resolve(__dirname, "..", "..");
const STACK = "dev";
const CACHE = process.env.VISUALKIT_HOST_TEST_CACHE ?? "/var/cache/visualkit-host-test";

/** What the test hosts' render changes: the test keys, no STUN (the hosts reach only Debian's archive), Caddy's internal CA. */
function vmOverrides(ctx: Context): Record<string, unknown> {
    const keys = ctx.agents ? [...ctx.agents.main.publicKeys.values(), ...ctx.agents.other.publicKeys.values()] : [];
    return { sshPublicKeys: keys, janusStunServer: "", caddyTls: "internal" };
}

async function cloudInitLog(ssh: Context["ssh"]): Promise<string> {
    if (!ssh) return "";
    const r = await ssh.exec("tail -n 40 /var/log/cloud-init-output.log; echo '--- cloud-init status ---'; cloud-init status --long", { timeoutMs: 60_000 }).catch((e: Error) => ({ stdout: e.message, stderr: "" }));
    return `--- /var/log/cloud-init-output.log (tail) ---\n${r.stdout}${r.stderr}`;
}

/** What to print when a phase fails: the console and cloud-init's log of the machine it drives. */
async function diagnostics(ctx: Context, phase: Phase): Promise<string> {
    const parts: string[] = [];
    if (phase.on === "vm" && ctx.vm) {
        parts.push(`--- VM serial console (tail) ---\n${ctx.vm.serialTail(40)}`);
        if (ctx.vm.exitReason) parts.push(ctx.vm.exitReason);
        else parts.push(await cloudInitLog(ctx.vmSsh));
    }
    if ((phase.on ?? "native") === "native" && ctx.native) {
        parts.push(`--- native host console (tail) ---\n${ctx.native.consoleTail(30)}`);
        if (ctx.native.exitReason) parts.push(ctx.native.exitReason);
        else parts.push(await cloudInitLog(ctx.ssh));
    }
    return parts.join("\n");
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
    // Once, whoever asks first (the end of the run or a Ctrl-C during it).
    let cleaning: Promise<void> | undefined;
    const cleanup = () =>
        (cleaning ??= (async () => {
            await Promise.all([ctx.vm?.stop(), ctx.native?.stop(), stopExtraHosts()]);
            ctx.agents?.main.stop();
            ctx.agents?.other.stop();
            rmSync(dir, { recursive: true, force: true });
        })());
    const attach = process.env.VISUALKIT_HOST_TEST_ATTACH;
    let steps: readonly Step[] = STEPS;
    if (attach) {
        steps = await attachTo(ctx, attach);
        // Another run's machine, agents and folder: this run leaves them alone.
        ctx.vm = undefined;
        ctx.native = undefined;
    }
    const runner = new Runner({
        ctx,
        figures,
        print: (line) => console.log(line),
        diagnose: (phase) => diagnostics(ctx, phase),
        forceCached: process.env.VISUALKIT_HOST_TEST_VM === "run",
    });
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
        process.once(signal, () => {
            console.error(`\n${signal} during "${runner.current}": stopping the machines and removing ${dir}`);
            runner.abort(signal);
            void cleanup().finally(() => process.exit(130));
        });
    }
    try {
        await runner.steps(steps);
        if (process.env.VISUALKIT_HOST_TEST_HOLD === "1" && runner.failed > 0 && (ctx.ssh || ctx.vmSsh)) {
            // For a look at the failed state: the machines stay up until Ctrl-C, then are cleaned up as always.
            const line = (what: string, port?: number) => (port ? `\n  ${what}: SSH_AUTH_SOCK=${ctx.agents?.main.socket} ssh -p ${port} -o StrictHostKeyChecking=no root@127.0.0.1` : "");
            console.log(`\nVISUALKIT_HOST_TEST_HOLD=1: the machines stay up (run folder ${dir}, https ${ctx.httpsPort}); log in with${line("native host", ctx.ssh?.port)}${line("VM", ctx.vmSsh?.port)}\nCtrl-C to stop them.`);
            await new Promise(() => undefined);
        }
    } finally {
        await cleanup();
    }

    figures.set("total", (Date.now() - started) / 1000);
    console.log("\nfigures (s):");
    for (const [name, s] of figures) console.log(`  ${name.padEnd(28)} ${s.toFixed(0)}`);
    console.log("\nphases:");
    for (const line of runner.summary()) console.log(line);
    return runner.failed === 0 ? 0 : 1;
}

main().then(
    (code) => process.exit(code),
    (e) => {
        console.error(e);
        process.exit(1);
    },
);
