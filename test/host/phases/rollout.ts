import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";
import type { RecordedResource } from "../../../mocks/runtime";
import { need, type Context, type Phase } from "../lib/context";
import { runInDependencyOrder, imageReferences, type Plan } from "../lib/plan";
import { sleep } from "../lib/proc";
import { COMMAND_TYPES } from "../lib/remote";
import { createResource, deleteContainer, lateCommand, tagImages } from "./docker";
import { fetchCaddyRoot } from "./smoke";

/**
 * Issue "deploys nobody notices" on the real host: a load loop through Caddy while platform-api's image changes from
 * one stand-in release to the next (0 failed requests, the body switches version), then a release that never turns
 * healthy (the deploy fails at the standby copy, the previous release keeps serving, 0 failed requests), then the way
 * back (the previous release deployed again replaces the broken standby).
 *
 * The deploy is what `pulumi up` does to the containers: every container whose inputs changed is replaced
 * (replaceOnChanges ["*"], deleteBeforeReplace: stop with its grace, remove, create, wait healthy) in dependency order,
 * independent ones at once; a create that fails stops everything that depends on it. Only dependsOn orders them:
 * the engine deletes a dependent early only when one of its inputs comes from the replaced resource
 * (pulumi/pulumi pkg/resource/deploy/step_generator.go, calculateDependentReplacements), and the primary takes
 * nothing from its standby.
 */

const SERVICE_IMAGE_KEY = "imagePlatformApi";
const REPOSITORY = "ghcr.io/visualkit/platform-api";
/** The stand-in answers 503 to everything for a VERSION starting with "broken" (test/host/images/standin.py). */
const RELEASES = { v2: `${REPOSITORY}:v2`, broken: `${REPOSITORY}:broken-v3` } as const;
/**
 * Bounds of the load loop: it never runs longer or sends more, whatever the deploy does. Each worker pauses between
 * requests: two workers still sample the route every ~100 ms, and the host keeps its CPU for the deploy (at full speed the
 * loop alone made Caddy and the stand-ins a second busy core of the emulated VM it first ran on).
 */
const LOOP_LIMITS = { requests: 40_000, ms: 40 * 60_000, workers: 2, pauseMs: 150, requestTimeoutMs: 35_000 } as const;

export const isContainer = (r: RecordedResource) => r.type === "docker:index/container:Container";

export interface Sample {
    readonly start: number;
    readonly end: number;
    readonly version?: string;
    readonly failure?: string;
}

/** Sequential HTTPS GETs through Caddy (127.0.0.1, the host's forwarded 443) by a few workers, recording every answer. */
export class LoadLoop {
    readonly samples: Sample[] = [];
    private stopped = false;
    private readonly done: Promise<void>;
    private readonly agent: Agent;

    constructor(private readonly target: { port: number; host: string; path: string; ca: string }) {
        this.agent = new Agent({ keepAlive: true, maxSockets: LOOP_LIMITS.workers, ca: target.ca });
        const until = Date.now() + LOOP_LIMITS.ms;
        const worker = async () => {
            while (!this.stopped && Date.now() < until && this.samples.length < LOOP_LIMITS.requests) {
                this.samples.push(await this.once());
                await sleep(LOOP_LIMITS.pauseMs);
            }
        };
        this.done = Promise.all(Array.from({ length: LOOP_LIMITS.workers }, worker)).then(() => undefined);
    }

    private once(): Promise<Sample> {
        const start = Date.now();
        return new Promise((resolve) => {
            const req = request(
                { host: "127.0.0.1", port: this.target.port, path: this.target.path, servername: this.target.host, headers: { host: this.target.host }, agent: this.agent, timeout: LOOP_LIMITS.requestTimeoutMs },
                (res) => {
                    let body = "";
                    res.setEncoding("utf8");
                    res.on("data", (d: string) => (body += d));
                    res.on("end", () => {
                        const end = Date.now();
                        if (res.statusCode !== 200) return resolve({ start, end, failure: `HTTP ${res.statusCode}: ${body.slice(0, 80)}` });
                        try {
                            resolve({ start, end, version: String((JSON.parse(body) as { version: unknown }).version) });
                        } catch {
                            resolve({ start, end, failure: `not the service's JSON: ${body.slice(0, 80)}` });
                        }
                    });
                    res.on("error", (e) => resolve({ start, end: Date.now(), failure: e.message }));
                },
            );
            req.on("timeout", () => req.destroy(new Error(`no answer in ${LOOP_LIMITS.requestTimeoutMs} ms`)));
            req.on("error", (e) => resolve({ start, end: Date.now(), failure: e.message }));
            req.end();
        });
    }

    /** Ends the loop after the requests in flight. */
    async stop(): Promise<void> {
        this.stopped = true;
        await this.done;
        this.agent.destroy();
    }

    get count(): number {
        return this.samples.length;
    }
}

export interface Window {
    readonly requests: number;
    readonly failures: string[];
    readonly longestMs: number;
    readonly versions: Record<string, number>;
    /** Responses of `before` that started after the first `after` response had ended (a switch back). */
    readonly backwards: number;
}

export function summarize(samples: readonly Sample[], before?: string, after?: string): Window {
    const versions: Record<string, number> = {};
    for (const s of samples) if (s.version) versions[s.version] = (versions[s.version] ?? 0) + 1;
    const firstAfter = after ? samples.filter((s) => s.version === after).reduce((m, s) => Math.min(m, s.end), Infinity) : Infinity;
    return {
        requests: samples.length,
        failures: samples.filter((s) => s.failure).map((s) => s.failure!),
        longestMs: samples.reduce((m, s) => Math.max(m, s.end - s.start), 0),
        versions,
        backwards: before ? samples.filter((s) => s.version === before && s.start > firstAfter).length : 0,
    };
}

export const describe = (w: Window) =>
    `${w.requests} requests, ${w.failures.length} failed, longest wait ${w.longestMs} ms, versions ${Object.entries(w.versions).map(([v, n]) => `${v}×${n}`).join(" ")}`;

/** The deployed containers by name (what Pulumi's state holds), updated by each deploy. */
export type Deployed = Map<string, RecordedResource>;

/**
 * Replaces every container of `next` whose inputs differ from what is deployed, as `pulumi up` would, and runs again
 * every remote command whose `triggers` take a replaced container's id (its readiness gate, lib/readiness.ts, and its
 * pids limit: pulumi-command replaces a command when its triggers change); throws the first failure.
 */
export async function deploy(ctx: Context, deployed: Deployed, next: Plan): Promise<string[]> {
    const ssh = need(ctx.ssh, "SSH");
    const changed = new Set(next.resources.filter((r) => isContainer(r) && JSON.stringify(r.rawInputs) !== JSON.stringify(deployed.get(String(r.rawInputs.name))?.rawInputs)).map((r) => r.name));
    const rerun = (r: RecordedResource) => COMMAND_TYPES.includes(r.type) && (r.propertyDependencies.triggers ?? []).some((d) => changed.has(d));
    await tagImages(ctx, next);
    const refs = imageReferences(next);
    const replaced: string[] = [];
    await runInDependencyOrder(next, (r) => changed.has(r.name) || rerun(r), async (r) => {
        if (!isContainer(r)) return lateCommand(ctx, r);
        const name = String(r.rawInputs.name);
        const old = deployed.get(name);
        if (old) await deleteContainer(ssh, old);
        // Pulumi records a failed create too (with an initialization error): the next deploy replaces it again.
        deployed.set(name, r);
        const t0 = Date.now();
        await createResource(ctx, r, refs);
        replaced.push(name);
        ctx.log(`  replaced ${name} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    });
    return replaced;
}

export const rollout: Phase = {
    name: "an image change loses no request; a release that never turns healthy leaves the previous one serving",
    tag: "rollout",
    timeoutMs: 45 * 60_000,
    critical: false,
    async run(ctx) {
        const started = Date.now();
        const plan = need(ctx.plan, "the plan");
        const port = need(ctx.httpsPort, "the forwarded HTTPS port");
        const check = ((plan.outputs as { healthChecks?: { name: string; url: string }[] }).healthChecks ?? []).find((c) => c.name === "api");
        if (!check) throw new Error("the plan's outputs have no health check named api");
        const url = new URL(check.url);
        const ca = readFileSync(await fetchCaddyRoot(ctx), "utf8");
        const deployed: Deployed = new Map(plan.resources.filter(isContainer).map((r) => [String(r.rawInputs.name), r]));
        const v1 = String(deployed.get("platform-api")?.rawInputs.image ?? "");
        const v1Version = String(imageReferences(plan).get(v1) ?? "").split(":").pop() ?? "";

        // 1. A new release: both copies replaced one after the other while the loop runs.
        const v2Plan = await ctx.render({ [SERVICE_IMAGE_KEY]: RELEASES.v2 });
        const loop = new LoadLoop({ port, host: url.hostname, path: url.pathname, ca });
        await sleep(3000);
        const replaced = await deploy(ctx, deployed, v2Plan);
        await sleep(3000);
        const afterV2 = loop.count;
        const v2 = summarize(loop.samples.slice(0, afterV2), v1Version, "v2");
        ctx.log(`v1 → v2 (replaced ${replaced.join(", ")}): ${describe(v2)}`);
        const problems: string[] = [];
        if (replaced.join(",") !== "platform-api-standby,platform-api") problems.push(`the deploy replaced ${replaced.join(", ")}, not the standby and then the primary of platform-api`);
        if (v2.failures.length > 0) problems.push(`${v2.failures.length} requests failed during the v1 → v2 deploy: ${[...new Set(v2.failures)].slice(0, 3).join("; ")}`);
        if (!v2.versions[v1Version] || !v2.versions.v2) problems.push(`the body did not switch from ${v1Version} to v2: ${JSON.stringify(v2.versions)}`);
        if (v2.backwards > 0) problems.push(`${v2.backwards} responses of ${v1Version} after v2 had answered`);

        // 2. A release that never turns healthy: the standby's wait fails, the primary (v2) keeps serving.
        const brokenPlan = await ctx.render({ [SERVICE_IMAGE_KEY]: RELEASES.broken });
        const failure = await deploy(ctx, deployed, brokenPlan).then(
            (r) => `the deploy succeeded (replaced ${r.join(", ")})`,
            (e: Error) => e,
        );
        await sleep(3000);
        const afterBroken = loop.count;
        const broken = summarize(loop.samples.slice(afterV2, afterBroken));
        ctx.log(`v2 → broken-v3: deploy failed: ${failure instanceof Error ? failure.message.split("\n")[0] : failure}; ${describe(broken)}`);
        if (!(failure instanceof Error) || !failure.message.includes("platform-api-standby")) problems.push(`the broken release's deploy did not fail at platform-api-standby: ${String(failure).split("\n")[0]}`);
        if (deployed.get("platform-api")?.rawInputs.image !== v2Plan.resources.find((r) => r.rawInputs.name === "platform-api")?.rawInputs.image) problems.push("the primary was replaced by the broken release");
        if (broken.failures.length > 0) problems.push(`${broken.failures.length} requests failed during the broken deploy: ${[...new Set(broken.failures)].slice(0, 3).join("; ")}`);
        if (Object.keys(broken.versions).join(",") !== "v2") problems.push(`during the broken deploy the service answered ${JSON.stringify(broken.versions)}, not v2 only`);

        // 3. The way back: the previous release deployed again (git revert, pulumi up) replaces the broken standby.
        const back = await deploy(ctx, deployed, v2Plan);
        await sleep(3000);
        await loop.stop();
        const revert = summarize(loop.samples.slice(afterBroken));
        ctx.log(`revert to v2 (replaced ${back.join(", ")}): ${describe(revert)}`);
        if (back.join(",") !== "platform-api-standby") problems.push(`the revert replaced ${back.join(", ") || "nothing"}, not the broken standby alone`);
        if (revert.failures.length > 0) problems.push(`${revert.failures.length} requests failed during the revert`);

        // A window the loop did not sample (it had stopped at one of its bounds) proves nothing: run 13 once passed
        // with 0 requests during the revert.
        for (const [window, w] of [["v1 → v2 deploy", v2], ["broken deploy", broken], ["revert", revert]] as const) {
            if (w.requests === 0) problems.push(`no request was sampled during the ${window}: the load loop had stopped at its bound (${JSON.stringify(LOOP_LIMITS)})`);
        }
        const all = summarize(loop.samples);
        ctx.log(`load loop: ${describe(all)}`);
        ctx.figure("zero-downtime loop", (Date.now() - started) / 1000);
        // The host now runs v2: later phases (the restart) see the plan that is deployed.
        ctx.plan = v2Plan;
        if (problems.length > 0) throw new Error(problems.join("; "));
    },
};
