import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Cached, Context, Phase, Step } from "./lib/context";
import { Runner } from "./lib/runner";

/**
 * The real-host tier's runner without machines: phases are stubs that record when they ran. What it must keep:
 * lanes beside each other are independent (a failure in the native lane neither stops the VM lane nor keeps its pass
 * from being recorded), a cached group is skipped only with a recorded pass of the same inputs, a skipped group is not
 * a failure, and a critical failure stops the rest of its own lane only.
 */

let cacheDir: string;
beforeEach(() => (cacheDir = mkdtempSync(join(tmpdir(), "vk-runner-test-"))));
afterEach(() => rmSync(cacheDir, { recursive: true, force: true }));

const ran: string[] = [];
beforeEach(() => ran.splice(0));

function phase(tag: string, opts: { fails?: boolean; critical?: boolean; ms?: number } = {}): Phase {
    return {
        name: `phase ${tag}`,
        tag,
        timeoutMs: 5000,
        critical: opts.critical,
        async run() {
            await new Promise((r) => setTimeout(r, opts.ms ?? 1));
            ran.push(tag);
            if (opts.fails) throw new Error(`${tag} failed`);
        },
    };
}

function cached(steps: Step[], hash = "0123456789abcdef"): Cached {
    return { cached: "VM lane", key: async () => ({ hash, inputs: ["stub input"] }), steps };
}

function runner(): { r: Runner; lines: string[] } {
    const lines: string[] = [];
    const ctx = { cacheDir, log: () => undefined, figure: () => undefined } as unknown as Context;
    const r = new Runner({ ctx, figures: new Map(), print: (l) => lines.push(l), diagnose: async () => "" });
    return { r, lines };
}

test("a cached lane's pass is recorded though a lane beside it failed meanwhile", async () => {
    const { r } = runner();
    // The native lane fails while the VM lane is still running, so their results interleave.
    await r.steps([{ lanes: [[cached([phase("vm-a", { ms: 20 }), phase("vm-b", { ms: 60 })])], [phase("native", { ms: 40, fails: true })]] }]);
    expect(r.failed).toBe(1);
    expect(readdirSync(cacheDir)).toEqual(["vm-pass-0123456789abcdef"]);
});

test("with a recorded pass of the same inputs the cached lane is skipped, and a skip is no failure", async () => {
    await runner().r.steps([cached([phase("vm")])]);
    ran.splice(0);
    const { r, lines } = runner();
    await r.steps([{ lanes: [[cached([phase("vm")])], [phase("native")]] }]);
    expect(ran).toEqual(["native"]);
    expect(lines.join("\n")).toMatch(/^VM lane: inputs unchanged since \d{4}-\d\d-\d\dT[\d:.]+Z, skipped/m);
    expect(r.failed).toBe(0);
    expect(r.summary().pop()).toBe("1 passed, 1 skipped (cached pass), 0 failed");
});

test("other inputs run the lane again; a failed phase in it records no pass", async () => {
    await runner().r.steps([cached([phase("vm")], "aaaaaaaaaaaaaaaa")]);
    ran.splice(0);
    const { r } = runner();
    await r.steps([cached([phase("vm", { fails: true, critical: false }), phase("vm-after")], "bbbbbbbbbbbbbbbb")]);
    expect(ran).toEqual(["vm", "vm-after"]);
    expect(r.failed).toBe(1);
    expect(readdirSync(cacheDir)).toEqual(["vm-pass-aaaaaaaaaaaaaaaa"]);
});

test("a critical failure stops the rest of its lane and what follows the lanes, never the lane beside it", async () => {
    const { r } = runner();
    const ok = await r.steps([
        { lanes: [[phase("a1", { fails: true }), phase("a2")], [phase("b1", { ms: 30 }), phase("b2", { fails: true, critical: false }), phase("b3")]] },
        phase("after"),
    ]);
    expect(ok).toBe(false);
    expect(ran.sort()).toEqual(["a1", "b1", "b2", "b3"]);
    const verdict = Object.fromEntries(r.results.map((x) => [x.phase.tag, x.ok ? "ok" : x.error?.startsWith("not run") ? "not run" : "failed"]));
    expect(verdict).toEqual({ a1: "failed", a2: "not run", b1: "ok", b2: "failed", b3: "ok", after: "not run" });
});
