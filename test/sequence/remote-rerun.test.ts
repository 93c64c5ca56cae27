import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RecordedResource } from "../../mocks/runtime";
import { runProgram } from "../helpers/program";
import { sandboxProblem, startSandboxHost, type SandboxHost } from "./sandbox-host";

/**
 * Every remote step of the program is safe to run again with the same inputs: the command provider (pulumi-command
 * v1.2.1) replaces a Command only on a `triggers` change and turns any other input change — a new
 * `visualkit:sshPrivateKey` in `connection`, say — into an update that runs `create` again. Each stack's remote steps
 * run in the engine's order (dependencies first) against a real sshd on a throwaway copy of this machine
 * (./sandbox-host.ts), then all of them once more without any new upload, as such an update would: every run exits 0.
 */

const REMOTE = "command:remote:Command";
const COPY = "command:remote:CopyToRemote";

/** Resources in an order the engine may run them in: each after everything it depends on (dependsOn and inputs). */
function dependencyOrder(resources: readonly RecordedResource[]): RecordedResource[] {
    const byName = new Map(resources.map((r) => [r.name, r]));
    const done = new Set<string>();
    const out: RecordedResource[] = [];
    const visit = (r: RecordedResource, path: string[]) => {
        if (done.has(r.name)) return;
        if (path.includes(r.name)) throw new Error(`dependency cycle: ${[...path, r.name].join(" → ")}`);
        for (const d of [...r.options.dependsOn, ...Object.values(r.propertyDependencies).flat()]) {
            const dep = byName.get(d);
            if (dep) visit(dep, [...path, r.name]);
        }
        done.add(r.name);
        out.push(r);
    };
    for (const r of resources) visit(r, []);
    return out;
}

const problem = sandboxProblem();
if (problem) throw new Error(`the remote re-run test needs a sandbox host: ${problem}`);

let work: string;
let host: SandboxHost;
beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "vk-rerun-"));
    host = await startSandboxHost(join(work, "sandbox"));
});
afterAll(async () => {
    await host?.stop();
    rmSync(work, { recursive: true, force: true });
});

function widgetSource(): string {
    const src = join(work, "widget-dist");
    mkdirSync(join(src, "v1"), { recursive: true });
    writeFileSync(join(src, "sdk.js"), "console.log('widget')\n");
    writeFileSync(join(src, "v1", "widget.css"), "a{}\n");
    return src;
}

const cases: [string, string, () => Record<string, string>][] = [
    ["dev", "dev", () => ({})],
    ["prod (backups on)", "prod", () => ({})],
    ["dev with a widget folder (upload and sync)", "dev", () => ({ widgetCdnSourceDir: widgetSource() })],
];

test.each(cases)("%s: every remote step succeeds, and succeeds again when re-run with the same inputs", async (_label, stack, set) => {
    const run = await runProgram(stack, { set: set() });
    const steps = dependencyOrder(run.resources).filter((r) => r.type === REMOTE || r.type === COPY);
    expect(steps.filter((s) => s.type === REMOTE).length).toBeGreaterThanOrEqual(6);
    const results: string[] = [];
    for (const pass of ["first run", "re-run, no new upload"]) {
        for (const step of steps) {
            if (step.type === COPY) {
                if (pass !== "first run") continue;
                const source = (step.rawInputs.source as { fileArchive: string }).fileArchive;
                const res = host.copyFolder(source, String(step.rawInputs.remotePath));
                results.push(`${pass}: ${step.name} → ${res.status}${res.status === 0 ? "" : ` ${res.stderr}`}`);
                continue;
            }
            const res = host.run(String(step.rawInputs.create), step.rawInputs.stdin === undefined ? undefined : String(step.rawInputs.stdin));
            results.push(`${pass}: ${step.name} → ${res.status}${res.status === 0 ? "" : ` ${res.stderr.trim()}`}`);
        }
    }
    expect(results.filter((r) => !r.endsWith("→ 0"))).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(2 * 6);
});

test("the sandbox is real: a step that fails on the host fails here, and the stubs saw the deploy's systemctl calls", () => {
    expect(host.run("test -d /definitely-not-here").status).toBe(1);
    expect(host.run("cat", "stdin reaches the step").stdout).toBe("stdin reaches the step");
    expect(host.calls().some((c) => c.startsWith("systemctl "))).toBe(true);
});

test("a remote step cut off mid-run (the SSH session hangs up: Ctrl-C twice, a laptop that sleeps) succeeds when run again (docs/runbook-interrupted-up.md)", async () => {
    const run = await runProgram("dev", { set: { widgetCdnSourceDir: widgetSource() } });
    const steps = dependencyOrder(run.resources).filter((r) => r.type === REMOTE || r.type === COPY);
    const failures: string[] = [];
    for (const step of steps) {
        if (step.type === COPY) {
            const res = host.copyFolder((step.rawInputs.source as { fileArchive: string }).fileArchive, String(step.rawInputs.remotePath));
            if (res.status !== 0) failures.push(`${step.name}: ${res.stderr}`);
            continue;
        }
        const create = String(step.rawInputs.create);
        const stdin = step.rawInputs.stdin === undefined ? undefined : String(step.rawInputs.stdin);
        // Cut off a quarter second in (mid-script for most steps once the session is up); the next full run must succeed.
        for (const ms of [250]) {
            await host.interrupt(create, stdin, ms);
            const res = host.run(create, stdin);
            if (res.status !== 0) failures.push(`${step.name} after a hang-up at ${ms} ms: ${res.status} ${res.stderr.trim()}`);
        }
    }
    expect(failures).toEqual([]);
}, 120_000);
