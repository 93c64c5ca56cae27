import { phasesOf, type Cached, type Context, type Phase, type Step } from "./context";
import { tail } from "./proc";
import { readPass, writePass } from "./vm-cache";

/**
 * Runs the tier's steps (lib/context.ts): phases in order, lanes at once, cached groups skipped when their inputs hash
 * to a recorded pass. A critical failure stops the rest of its own lane and what follows the lanes, never a lane
 * beside it. Prints each phase's verdict with its time; the results and figures are read by run.ts at the end.
 */

export interface Result {
    readonly phase: Phase;
    readonly ok: boolean;
    readonly s: number;
    readonly error?: string;
    /** Set when a cached group was skipped: when its recorded pass was. */
    readonly skipped?: string;
}

export interface RunnerOptions {
    readonly ctx: Context;
    readonly figures: Map<string, number>;
    print(line: string): void;
    /** What to print under a failed phase (the console and logs of the machine it drives). */
    diagnose(phase: Phase): Promise<string>;
    /** Run cached groups even when a pass is on record. */
    readonly forceCached?: boolean;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: phase timeout of ${Math.round(ms / 1000)} s`)), ms)));
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export class Runner {
    readonly results: Result[] = [];
    /** The phase that started last (for a message on Ctrl-C). */
    current = "";
    private aborted?: string;

    constructor(private readonly o: RunnerOptions) {}

    /** No phase starts after this (Ctrl-C: the machines are being stopped). */
    abort(why: string): void {
        this.aborted = why;
    }

    get failed(): number {
        return this.results.filter((r) => !r.ok).length;
    }

    /** Runs one phase; records and prints its verdict; false when it was critical and failed. */
    private async phase(phase: Phase, inLane: boolean): Promise<boolean> {
        const { ctx, print } = this.o;
        if (this.aborted) {
            this.results.push({ phase, ok: false, s: 0, error: `not run: ${this.aborted}` });
            return false;
        }
        // In a lane, the phase's lines carry its tag; everything else of the context is shared.
        const tag = inLane ? `[${phase.tag}] ` : "";
        const view = inLane ? new Proxy(ctx, { get: (t, key) => (key === "log" ? (m: string) => print(`    ${tag}${m}`) : Reflect.get(t, key)) }) : ctx;
        this.current = phase.name;
        print(`▶ ${tag}${phase.name}`);
        const t0 = Date.now();
        try {
            await withTimeout(phase.run(view), phase.timeoutMs, phase.name);
            const s = (Date.now() - t0) / 1000;
            this.results.push({ phase, ok: true, s });
            print(`✔ ${tag}${phase.name} (${s.toFixed(0)} s)`);
            return true;
        } catch (e) {
            const s = (Date.now() - t0) / 1000;
            const error = (e as Error).message;
            this.results.push({ phase, ok: false, s, error });
            print(`✘ ${tag}${phase.name} (${s.toFixed(0)} s): ${error}`);
            print(tail(await this.o.diagnose(phase).catch((d: Error) => d.message), 90));
            return phase.critical === false;
        }
    }

    private notRun(steps: readonly Step[], why: string): void {
        for (const phase of phasesOf(steps)) this.results.push({ phase, ok: false, s: 0, error: `not run: ${why}` });
    }

    /** A cached group: skipped when its inputs hash to a recorded pass, else run and recorded when all of it passed. */
    private async cached(group: Cached, inLane: boolean): Promise<boolean> {
        const { ctx, print } = this.o;
        const { hash, inputs } = await group.key(ctx);
        const pass = this.o.forceCached ? undefined : readPass(ctx.cacheDir, hash);
        if (pass) {
            print(`${group.cached}: inputs unchanged since ${pass.date}, skipped (record vm-pass-${hash}; VISUALKIT_HOST_TEST_VM=run runs it)`);
            for (const phase of phasesOf(group.steps)) this.results.push({ phase, ok: true, s: 0, skipped: `passed ${pass.date}` });
            return true;
        }
        print(`${group.cached}: runs (inputs ${hash}: ${inputs.join(", ")})`);
        const first = this.results.length;
        const ok = await this.steps(group.steps, inLane);
        // Lanes beside this one add their results to the same list meanwhile.
        const own = new Set(phasesOf(group.steps));
        const mine = this.results.slice(first).filter((r) => own.has(r.phase));
        if (ok && mine.length === own.size && mine.every((r) => r.ok)) {
            writePass(ctx.cacheDir, hash, { date: new Date().toISOString(), inputs, figures: Object.fromEntries(mine.map((r) => [r.phase.tag, Math.round(r.s)])) });
            print(`${group.cached}: pass recorded as vm-pass-${hash}`);
        }
        return ok;
    }

    /** Runs steps in order; a critical failure stops the rest of them (lanes beside them go on). */
    async steps(steps: readonly Step[], inLane = false): Promise<boolean> {
        for (const [i, step] of steps.entries()) {
            let ok: boolean;
            if ("cached" in step) ok = await this.cached(step, inLane);
            else if ("lanes" in step) {
                const t0 = Date.now();
                const oks = await Promise.all(step.lanes.map((lane) => this.steps(lane, true)));
                const wall = (Date.now() - t0) / 1000;
                const lanes = step.lanes.map((l) => phasesOf(l).map((p) => p.tag).join(" → ")).join(" ∥ ");
                this.o.print(`  (lanes ${lanes}: ${wall.toFixed(0)} s wall)`);
                this.o.figures.set(`${step.lanes.map((l) => phasesOf(l)[0]?.tag).join(" ∥ ")} (wall)`, wall);
                ok = oks.every(Boolean);
            } else ok = await this.phase(step, inLane);
            if (!ok) {
                this.notRun(steps.slice(i + 1), "an earlier critical phase of its lane failed");
                return false;
            }
        }
        return true;
    }

    /** The closing list: one line per phase. */
    summary(): string[] {
        const lines = this.results.map((r) => `  ${r.skipped ? "○" : r.ok ? "✔" : "✘"} ${r.phase.name}${r.skipped ? ` — skipped, ${r.skipped} with the same inputs` : r.ok ? "" : ` — ${r.error?.split("\n")[0]}`}`);
        const skipped = this.results.filter((r) => r.skipped).length;
        lines.push("", `${this.results.length - skipped - this.failed} passed, ${skipped} skipped (cached pass), ${this.failed} failed`);
        return lines;
    }
}
