import { createHash, randomBytes } from "node:crypto";
import type { RecordedResource } from "../../../mocks/runtime";
import { runProgram, type ProgramRun, type RunOptions } from "../../helpers/program";

/**
 * The rendered plan the tier replays: the real program under mocks (the same offline render as `npm run render`)
 * with the overrides the test hosts need. Generated passwords get fresh random values instead of the render's placeholder,
 * so Postgres, Redis and Janus run with real secrets that never leave this run.
 */

export type Plan = ProgramRun;

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function password(length: number): string {
    return [...randomBytes(length)].map((b) => ALNUM[b % ALNUM.length]).join("");
}

/** Like RandomPassword's state: one value per resource for the whole run, so a second render changes no password. */
const passwords = new Map<string, string>();

/** `secrets`: keys of `set` given as secrets (as `pulumi config set --secret` stores them; config refuses them plain). */
export async function renderPlan(stack: string, set: RunOptions["set"], secrets: readonly string[] = []): Promise<Plan> {
    return runProgram(stack, {
        set,
        secrets,
        state(type, name, inputs) {
            if (type !== "random:index/randomPassword:RandomPassword") return undefined;
            // The host's SSH key is derived from its secret and installed by the user data (lib/ssh-host-key.ts): the
            // render's placeholder keeps cloud-init.yaml byte for byte the committed one, which both test hosts boot.
            if (name.endsWith("-ssh-host-key")) return undefined;
            if (inputs.special !== false) throw new Error(`${name}: the host tier only generates passwords without special characters`);
            if (!passwords.has(name)) passwords.set(name, password(Number(inputs.length ?? 32)));
            return { result: passwords.get(name) };
        },
    });
}

/** Pulumi's dependsOn on a component means every resource under it; this expands names to custom resources. */
function descendants(plan: Plan, name: string): string[] {
    const direct = plan.resources.filter((r) => r.parent === name);
    const self = plan.resources.find((r) => r.name === name);
    return [...(self?.custom ? [name] : []), ...direct.flatMap((r) => descendants(plan, r.name))];
}

/** References the mocks do not record as options: a container names its networks and its image's id. */
function implicitDeps(plan: Plan, r: RecordedResource): string[] {
    const deps: string[] = [];
    if (r.type === "docker:index/container:Container") {
        const networks = (r.rawInputs.networksAdvanced as { name: string }[] | undefined) ?? [];
        for (const n of networks) {
            const net = plan.resources.find((x) => x.type === "docker:index/network:Network" && x.rawInputs.name === n.name);
            if (net) deps.push(net.name);
        }
    }
    return deps;
}

/** The resources `pick` selects, each with the names of the selected ones it waits for. */
export function dependencyGraph(plan: Plan, pick: (r: RecordedResource) => boolean): Map<RecordedResource, Set<string>> {
    const chosen = plan.resources.filter(pick);
    const names = new Set(chosen.map((r) => r.name));
    return new Map(
        chosen.map((r) => [r, new Set([...r.options.dependsOn.flatMap((d) => descendants(plan, d)), ...implicitDeps(plan, r)].filter((d) => names.has(d) && d !== r.name))]),
    );
}

/**
 * The resources `pick` selects, each after everything it depends on (dependsOn, expanded through components, plus
 * network references); ties keep the render's order. A dependency outside the selection counts as done.
 */
export function dependencyOrder(plan: Plan, pick: (r: RecordedResource) => boolean): RecordedResource[] {
    const graph = dependencyGraph(plan, pick);
    const done = new Set<string>();
    const order: RecordedResource[] = [];
    while (order.length < graph.size) {
        const next = [...graph].find(([r, deps]) => !done.has(r.name) && [...deps].every((d) => done.has(d)));
        if (!next) throw new Error(`dependency cycle among ${[...graph.keys()].filter((r) => !done.has(r.name)).map((r) => r.name).join(", ")}`);
        done.add(next[0].name);
        order.push(next[0]);
    }
    return order;
}

/**
 * Whether `r` comes after a container: it depends on one, directly or through other resources (dependsOn and network
 * references). Such a remote step (a container's pids limit) runs in the containers phase, beside what it needs.
 */
export function afterContainers(plan: Plan, r: RecordedResource): boolean {
    const graph = new Map([...dependencyGraph(plan, () => true)].map(([x, deps]) => [x.name, deps]));
    const byName = new Map(plan.resources.map((x) => [x.name, x]));
    const seen = new Set<string>();
    const visit = (name: string): boolean => {
        if (seen.has(name)) return false;
        seen.add(name);
        return [...(graph.get(name) ?? [])].some((d) => byName.get(d)?.type === "docker:index/container:Container" || visit(d));
    };
    return visit(r.name);
}

/** Runs `f` on every selected resource as soon as its dependencies are done, independent ones at once (as the engine does). */
export async function runInDependencyOrder(plan: Plan, pick: (r: RecordedResource) => boolean, f: (r: RecordedResource) => Promise<void>): Promise<void> {
    const graph = dependencyGraph(plan, pick);
    dependencyOrder(plan, pick); // fails on a cycle before anything runs
    const started = new Map<string, Promise<void>>();
    const start = (r: RecordedResource): Promise<void> => {
        let p = started.get(r.name);
        if (!p) {
            const deps = [...graph.get(r)!].map((d) => start([...graph.keys()].find((x) => x.name === d)!));
            p = Promise.all(deps).then(() => f(r));
            started.set(r.name, p);
        }
        return p;
    };
    // Every branch runs to its end (a failure skips only what depends on it), then the first failure is reported.
    const results = await Promise.allSettled([...graph.keys()].map(start));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failure) throw failure.reason;
}

/** Image reference per image id: the mocks give a RemoteImage the sha256 of its reference as its id. */
export function imageReferences(plan: Plan): Map<string, string> {
    return new Map(
        plan.ofType("docker:index/remoteImage:RemoteImage").map((r) => {
            const ref = String(r.rawInputs.name);
            return [`sha256:${createHash("sha256").update(ref).digest("hex")}`, ref];
        }),
    );
}
