import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * `npm run bench`: whole-process time of rendering the prod stack (the real program under mocks, as `pulumi up`
 * would start it) against a baseline process that only loads the Pulumi SDKs the program uses. Runs alternate,
 * after one warm-up each; medians and their ratio are printed. Target: ratio ≤ 1.3.
 */
const ROOT = join(__dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const TARGET = 1.3;
const SDKS = ["@pulumi/pulumi", "@pulumi/hcloud", "@pulumi/cloudflare", "@pulumi/docker", "@pulumi/command", "@pulumi/random"];

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
    const baseline = ["-e", SDKS.map((m) => `require(${JSON.stringify(m)});`).join("")];
    const render = [join(ROOT, "scripts", "run-ts.js"), join(ROOT, "scripts", "render.ts"), "prod", "--out", out];
    time(baseline);
    time(render);
    const b: number[] = [];
    const r: number[] = [];
    for (let i = 0; i < RUNS; i++) {
        b.push(time(baseline));
        r.push(time(render));
    }
    const mb = median(b);
    const mr = median(r);
    const ratio = mr / mb;
    const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(" ");
    console.log(`node ${process.version}, ${RUNS} runs each (ms)`);
    console.log(`baseline (load SDKs only): median ${mb.toFixed(0)} ms   [${fmt(b)}]`);
    console.log(`render prod              : median ${mr.toFixed(0)} ms   [${fmt(r)}]`);
    console.log(`ratio ${ratio.toFixed(2)} (target ≤ ${TARGET}) ${ratio <= TARGET ? "OK" : "OVER TARGET"}`);
    process.exitCode = ratio <= TARGET ? 0 : 1;
} finally {
    rmSync(out, { recursive: true, force: true });
}
