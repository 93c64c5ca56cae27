import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { answerHelp } from "./usage";

/**
 * `npm run bench`: whole-process time of rendering the prod stack (the real program under mocks, as `pulumi up`
 * would start it) against a baseline process that only loads the Pulumi SDKs the program uses. Target: ratio ≤ 1.3.
 *
 * A third process, the SDK floor (scripts/bench-floor.ts), registers exactly the resources of the prod render with
 * the same inputs and nothing else; render ÷ floor is what the program itself adds, floor ÷ baseline is what the
 * SDK charges for registering those resources. Runs alternate after one warm-up each; medians are printed.
 */
const ROOT = join(__dirname, "..");
answerHelp("usage: npm run bench   (BENCH_RUNS=<n> runs each, default 9; prints render ÷ baseline and render ÷ floor, target ≤ 1.3)");
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const TARGET = 1.3;
const SDKS = ["@pulumi/pulumi", "@pulumi/hcloud", "@pulumi/cloudflare", "@pulumi/docker", "@pulumi/command", "@pulumi/random"];
const RUN_TS = join(ROOT, "scripts", "run-ts.js");

function time(args: string[]): number {
    const start = process.hrtime.bigint();
    const res = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8" });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (res.status !== 0) throw new Error(`${args.join(" ")} failed:\n${res.stderr}`);
    return ms;
}

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const out = mkdtempSync(join(tmpdir(), "vk-bench-"));
try {
    const commands = {
        "baseline (load the SDKs only)": ["-e", SDKS.map((m) => `require(${JSON.stringify(m)});`).join("")],
        "SDK floor (same resources, no program)": [RUN_TS, join(ROOT, "scripts", "bench-floor.ts")],
        "render prod": [RUN_TS, join(ROOT, "scripts", "render.ts"), "prod", "--out", out],
    };
    const samples = new Map(Object.keys(commands).map((k) => [k, [] as number[]]));
    for (const args of Object.values(commands)) time(args);
    for (let i = 0; i < RUNS; i++) {
        for (const [label, args] of Object.entries(commands)) samples.get(label)!.push(time(args));
    }
    const [baseline, floor, render] = [...samples.values()].map(median);
    console.log(`node ${process.version}, ${RUNS} alternating runs each, whole-process wall time (ms)`);
    for (const [label, xs] of samples) console.log(`${label.padEnd(40)} median ${median(xs).toFixed(0).padStart(5)}   [${xs.map((x) => x.toFixed(0)).join(" ")}]`);
    const ratio = render / baseline;
    console.log(`render ÷ baseline ${ratio.toFixed(2)} (target ≤ ${TARGET}) ${ratio <= TARGET ? "OK" : "OVER TARGET"}`);
    console.log(`floor ÷ baseline  ${(floor / baseline).toFixed(2)} (what the SDK charges to register these resources)`);
    console.log(`render ÷ floor    ${(render / floor).toFixed(2)} (what the program itself adds)`);
    process.exitCode = ratio <= TARGET ? 0 : 1;
} finally {
    rmSync(out, { recursive: true, force: true });
}
