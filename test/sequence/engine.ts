import { builtinState } from "../../mocks/fakes";
import type { RecordedResource } from "../../mocks/runtime";
import { canonicalGoDuration } from "../../lib/go-duration";
import { readinessTarget } from "../../lib/readiness";

/**
 * A small model of what the Pulumi engine and the providers do on a `pulumi up` that is not the first: the mocks
 * (mocks/runtime.ts) give the goal graph the program registers — inputs, options, `dependsOn` and property
 * dependencies — and this model plays it against the state the previous `up` left and a model of the host. It models
 * only the rules the program's operation depends on, each with the source line it follows (engine: pulumi/pulumi
 * 1b5949891b3c, v3.259, pkg/resource/deploy/step_generator.go; providers at the versions the SDKs pin):
 *
 *   R1 read-back      the state keeps what the provider read back, and the next `up` diffs the program's inputs
 *                     against that (Docker health-check durations: Go's Duration.String()).
 *   R2 replace keys   which input changes replace a resource, per provider.
 *   R3 import refusal a resource that still carries an import id may not be replaced (step_generator.go:1976-1995).
 *   R4 DBR cascade    replacing a delete-before-replace resource first deletes every dependent that references it
 *                     through an *input* (property dependency) and would itself be replaced
 *                     (step_generator.go:2043-2068, calculateDependentReplacements :3268, the property scan :3328).
 *   R5 CBR deletes    a create-before-replace replacement deletes the old resource after all creates and updates
 *                     (step_generator.go:2164); one whose deployment failed before that stays pending delete, and the
 *                     next `up` deletes it (GenerateDeletes, step_generator.go:2390).
 *   R6 stop on error  the first failed step ends the deployment; nothing after it runs.
 *   R7 registration   a resource whose inputs come from a failed check (an `apply` that throws) is never registered:
 *                     the program fails there (the SDK rejects the registration; mocks/runtime.ts MockRunError).
 *
 * It is deliberately not a second engine: no parallelism (steps run one at a time in dependency order, which the
 * engine's parallel order refines), no refresh, no preview, no provider other than those the program uses.
 */

export type Inputs = Record<string, unknown>;

/** One resource in the state. */
export interface StateResource {
    readonly name: string;
    readonly type: string;
    /** What the provider stored (R1), not what the program sent. */
    readonly inputs: Inputs;
    readonly outputs: Inputs;
    readonly options: RecordedResource["options"];
    readonly dependsOn: readonly string[];
    readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
    /** Created, but its create reported an error (a container that never turned healthy). */
    readonly initErrors?: boolean;
}

export interface State {
    readonly live: ReadonlyMap<string, StateResource>;
    /** Replaced resources whose delete has not run yet (R5): `delete: true` in `pulumi stack export`. */
    readonly pendingDelete: readonly StateResource[];
}

export const EMPTY_STATE: State = { live: new Map(), pendingDelete: [] };

/** The host as far as the modelled providers touch it. */
export interface Host {
    /** Containers that exist, by Docker name: the image reference each runs, and whether it is running and healthy. */
    readonly containers: Map<string, { image: string; serving: boolean }>;
    /** Image references present on the host. */
    readonly images: Set<string>;
    /** Image references whose containers never turn healthy. */
    readonly brokenImages: Set<string>;
    /** Image references whose one-shot containers (the Chatwoot migration) exit 1. */
    readonly failingJobs: Set<string>;
    /** Remote commands that ran (create or update), in order. */
    readonly commandRuns: string[];
}

export function newHost(): Host {
    return { containers: new Map(), images: new Set(), brokenImages: new Set(), failingJobs: new Set(), commandRuns: [] };
}

/** What a provider operation reported. */
export interface Outcome {
    readonly ok: boolean;
    readonly detail?: string;
    /** Created but failed after (a container that never turned healthy): the engine records it with init errors. */
    readonly initErrors?: boolean;
    /** Outputs the provider adds to the inputs (a one-shot container's exitCode). */
    readonly outputs?: Inputs;
}

/**
 * The providers' side of each step, on a host. `modelEffects` plays them on the in-memory Host; a real-host phase
 * supplies its own (create the container on a real Docker engine, run the command over real SSH, ...) and gets the
 * same engine order. `imageRef` is the reference behind a container's image id.
 */
export interface Effects {
    create(g: RecordedResource, imageRef: string | undefined): Promise<Outcome>;
    /** An update in place (a Command's update runs `create` again; pulumi-command v1.2.1 commandController.go:63-83). */
    update(g: RecordedResource, old: StateResource): Promise<Outcome>;
    delete(r: StateResource): Promise<Outcome>;
    /** Docker names of the containers serving now (for the zero-downtime checks). */
    serving(): Promise<Set<string>>;
}

export function modelEffects(host: Host): Effects {
    return {
        async create(g, image) {
            if (g.type === IMAGE) host.images.add(String(g.rawInputs.name));
            if (g.type === REMOTE_COMMAND || g.type === LOCAL_COMMAND) host.commandRuns.push(g.name);
            // A readiness gate (lib/readiness.ts) fails while the container it names does not pass its health check.
            const gated = g.type === REMOTE_COMMAND ? readinessTarget(String(g.rawInputs.create ?? "")) : undefined;
            if (gated !== undefined && !host.containers.get(gated)?.serving) return { ok: false, detail: `readiness: ${gated} did not pass its health check` };
            if (g.type !== CONTAINER) return { ok: true };
            const ref = image ?? String(g.rawInputs.image);
            const dockerName = String(g.rawInputs.name);
            if (host.containers.has(dockerName)) return { ok: false, detail: `Conflict. The container name "/${dockerName}" is already in use` };
            if (g.rawInputs.attach === true) {
                // A one-shot job: runs to its exit; the provider records the exit code without failing.
                host.containers.set(dockerName, { image: ref, serving: false });
                return { ok: true, outputs: { exitCode: host.failingJobs.has(ref) ? 1 : 0 } };
            }
            const healthy = !host.brokenImages.has(ref);
            host.containers.set(dockerName, { image: ref, serving: healthy });
            // The provider's wait fails; the engine records the container with initialization errors.
            if (!healthy && g.rawInputs.wait === true) return { ok: false, initErrors: true, detail: `container ${dockerName} did not become healthy` };
            return { ok: true };
        },
        async update(g) {
            if (g.type === REMOTE_COMMAND || g.type === LOCAL_COMMAND) host.commandRuns.push(g.name);
            const gated = g.type === REMOTE_COMMAND ? readinessTarget(String(g.rawInputs.create ?? "")) : undefined;
            if (gated !== undefined && !host.containers.get(gated)?.serving) return { ok: false, detail: `readiness: ${gated} did not pass its health check` };
            return { ok: true };
        },
        async delete(r) {
            if (r.type === CONTAINER) host.containers.delete(String(r.inputs.name));
            if (r.type !== IMAGE) return { ok: true };
            const ref = String(r.inputs.name);
            // keep_locally returns before any `docker rmi` (resource_docker_image_funcs.go:190 at v4.5.0).
            if (r.inputs.keepLocally === true) return { ok: true };
            // Docker refuses to untag the last tag of an image a container uses (test/sequence/docker-images.test.ts).
            const user = [...host.containers].find(([, c]) => c.image === ref);
            if (user) return { ok: false, detail: `Error response from daemon: conflict: unable to remove repository reference "${ref}" (must force) - container ${user[0]} is using its referenced image` };
            host.images.delete(ref);
            return { ok: true };
        },
        async serving() {
            return new Set([...host.containers].filter(([, c]) => c.serving).map(([n]) => n));
        },
    };
}

export type StepOp = "same" | "create" | "import" | "update" | "replace-create" | "delete-replaced" | "delete" | "delete-dependent";

export interface Step {
    readonly op: StepOp;
    readonly name: string;
    readonly ok: boolean;
    readonly detail?: string;
}

export interface UpResult {
    readonly steps: Step[];
    readonly state: State;
    /** The error `pulumi up` ends with, when it fails. */
    readonly error?: string;
    /** The host's containers that were serving after each step (docker names), for zero-downtime checks. */
    readonly servingAfterEachStep: { step: string; serving: Set<string> }[];
}

const CONTAINER = "docker:index/container:Container";
const IMAGE = "docker:index/remoteImage:RemoteImage";
const REMOTE_COMMAND = "command:remote:Command";
const LOCAL_COMMAND = "command:local:Command";
const COPY = "command:remote:CopyToRemote";

/**
 * R1: what the provider stores for the inputs it was given. The Docker provider flattens a container's health check
 * with time.Duration.String() (kreuzwerker/terraform-provider-docker v4.5.0,
 * internal/provider/resource_docker_container_funcs.go:964-966).
 */
export function readBack(type: string, inputs: Inputs): Inputs {
    if (type !== CONTAINER || !inputs.healthcheck) return inputs;
    const hc = inputs.healthcheck as Record<string, unknown>;
    const canon = (v: unknown) => (typeof v === "string" ? canonicalGoDuration(v) : v);
    return { ...inputs, healthcheck: { ...hc, interval: canon(hc.interval), timeout: canon(hc.timeout), startPeriod: canon(hc.startPeriod) } };
}

/**
 * R2: input keys whose change replaces the resource (the provider's ForceNew/RequiresReplace/replaceOnChanges, plus
 * the program's own `replaceOnChanges`).
 *   - docker Container: every argument the program sets is ForceNew in the provider except a few it does not use
 *     (resource_docker_container.go at v4.5.0): all keys.
 *   - docker RemoteImage: name, pull_triggers, triggers, platform (resource_docker_image.go:36-41, 61-69, 84-96 at
 *     v4.5.0); keep_locally and force_remove update in place.
 *   - Command, CopyToRemote: `triggers` only (pulumi-command v1.2.1 provider/pkg/provider/common/inputs.go:10,
 *     remote/copy.go:38); anything else is an update that runs `create` again (remote/commandController.go:63-83) —
 *     a CopyToRemote update copies only when its source hash or remotePath changed (remote/copyController.go:137-152).
 *   - Cloudflare (terraform-provider-cloudflare v5.22.0): PagesDomain name, project_name, account_id
 *     (pages_domain/schema.go:35-48); PagesProject name, account_id (pages_project/schema.go:42-51); Ruleset kind,
 *     name, phase, zone_id (ruleset/schema.go:58-123); DnsRecord zone_id and type (dns_record/schema.go:44-98).
 *   - hcloud: the program's resources update in place for what the scenarios change (server ignoreChanges covers
 *     user data and keys); SshKey public_key is replaced.
 */
export function replacesOn(type: string, key: string, options: RecordedResource["options"]): boolean {
    if (options.replaceOnChanges?.includes("*") || options.replaceOnChanges?.includes(key)) return true;
    switch (type) {
        case CONTAINER:
            return true;
        case IMAGE:
            return ["name", "pullTriggers", "triggers", "platform"].includes(key);
        case REMOTE_COMMAND:
        case LOCAL_COMMAND:
        case COPY:
            return key === "triggers";
        case "cloudflare:index/pagesDomain:PagesDomain":
            return ["name", "projectName", "accountId"].includes(key);
        case "cloudflare:index/pagesProject:PagesProject":
            return ["name", "accountId"].includes(key);
        case "cloudflare:index/ruleset:Ruleset":
            return ["kind", "name", "phase", "zoneId"].includes(key);
        case "cloudflare:index/dnsRecord:DnsRecord":
            return ["zoneId", "type"].includes(key);
        case "hcloud:index/sshKey:SshKey":
            return key === "publicKey";
        default:
            return false;
    }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Keys whose new input differs from the stored value (R1: stored is what was read back), ignoreChanges left out. */
export function changedKeys(old: StateResource, goal: RecordedResource): string[] {
    const ignored = new Set(goal.options.ignoreChanges ?? []);
    const keys = new Set([...Object.keys(old.inputs), ...Object.keys(goal.rawInputs)]);
    return [...keys].filter((k) => !ignored.has(k) && !same(old.inputs[k], goal.rawInputs[k])).sort();
}

/** Dependency order of the goal graph (dependsOn and property dependencies), keeping registration order otherwise. */
function order(goals: readonly RecordedResource[]): RecordedResource[] {
    const byName = new Map(goals.map((g) => [g.name, g]));
    const out: RecordedResource[] = [];
    const seen = new Set<string>();
    const visit = (g: RecordedResource) => {
        if (seen.has(g.name)) return;
        seen.add(g.name);
        for (const d of [...g.options.dependsOn, ...Object.values(g.propertyDependencies).flat()]) {
            const dep = byName.get(d);
            if (dep) visit(dep);
        }
        out.push(g);
    };
    goals.forEach(visit);
    return out;
}

/** Image references by image id, from the image resources (the mocks' ids are a function of the reference). */
function imageRefs(goals: readonly RecordedResource[], state: State): Map<string, string> {
    const refs = new Map<string, string>();
    for (const r of [...state.live.values(), ...state.pendingDelete]) if (r.type === IMAGE) refs.set(String(r.outputs.imageId), String(r.inputs.name));
    for (const g of goals) if (g.type === IMAGE) refs.set(String(builtinState(IMAGE, g.name, g.rawInputs, {}).imageId), String(g.rawInputs.name));
    return refs;
}

/** Plays one `pulumi up` of the goal graph against the previous state, with the providers' effects on a host. */
export async function up(prev: State, goals: readonly RecordedResource[], effects: Effects): Promise<UpResult> {
    const live = new Map(prev.live);
    const pending: StateResource[] = [...prev.pendingDelete];
    const replacedLater: StateResource[] = [];
    const steps: Step[] = [];
    const serving: UpResult["servingAfterEachStep"] = [];
    const refs = imageRefs(goals, prev);
    const goalNames = new Set(goals.map((g) => g.name));
    let error: string | undefined;

    const record = async (s: Step) => {
        steps.push(s);
        serving.push({ step: `${s.op} ${s.name}`, serving: await effects.serving() });
        if (!s.ok && error === undefined) error = `${s.op} ${s.name}: ${s.detail ?? "failed"}`;
        return s.ok;
    };

    /** The provider's create, and what the engine stores. */
    const create = async (g: RecordedResource, op: StepOp): Promise<boolean> => {
        const image = g.type === CONTAINER ? refs.get(String(g.rawInputs.image)) : undefined;
        const outcome = await effects.create(g, image);
        if (outcome.ok || outcome.initErrors) {
            live.set(g.name, {
                name: g.name,
                type: g.type,
                inputs: readBack(g.type, g.rawInputs),
                outputs: { ...g.rawInputs, ...builtinState(g.type, g.name, g.rawInputs, {}), ...(outcome.outputs ?? {}) },
                options: g.options,
                dependsOn: g.options.dependsOn,
                propertyDependencies: g.propertyDependencies,
                initErrors: outcome.initErrors === true,
            });
        }
        return record({ op, name: g.name, ok: outcome.ok, detail: outcome.detail });
    };

    /** The provider's delete. */
    const remove = async (r: StateResource, op: StepOp): Promise<boolean> => {
        const outcome = await effects.delete(r);
        return record({ op, name: r.name, ok: outcome.ok, detail: outcome.detail });
    };

    /** R4: the dependents the engine deletes before a delete-before-replace resource. */
    const dependentReplacements = (root: StateResource): StateResource[] => {
        const replaceSet = new Set([root.name]);
        const out: StateResource[] = [];
        for (const r of live.values()) {
            if (r.name === root.name) continue;
            const hit = Object.entries(r.propertyDependencies).some(([key, deps]) => deps.some((d) => replaceSet.has(d)) && replacesOn(r.type, key, r.options));
            if (hit) {
                replaceSet.add(r.name);
                out.push(r);
            }
        }
        return out;
    };

    for (const g of order(goals)) {
        if (error !== undefined) break;
        // R7: an input computed from a one-shot job's exit code (the Chatwoot gate) throws when the job failed.
        const jobDeps = Object.values(g.propertyDependencies).flat().map((d) => live.get(d)).filter((d): d is StateResource => d?.type === CONTAINER && d.inputs.attach === true);
        const failedJob = jobDeps.find((d) => d.outputs.exitCode !== 0);
        if (failedJob) {
            error = `${failedJob.inputs.name} exited with code ${String(failedJob.outputs.exitCode)}: ${g.name} was not registered`;
            break;
        }
        const old = live.get(g.name);
        if (!old) {
            if (g.options.import !== undefined) {
                live.set(g.name, { name: g.name, type: g.type, inputs: readBack(g.type, g.rawInputs), outputs: { ...g.rawInputs }, options: g.options, dependsOn: g.options.dependsOn, propertyDependencies: g.propertyDependencies });
                await record({ op: "import", name: g.name, ok: true });
            } else await create(g, "create");
            continue;
        }
        const keys = changedKeys(old, g);
        if (keys.length === 0 && !old.initErrors) {
            await record({ op: "same", name: g.name, ok: true });
            live.set(g.name, { ...old, options: g.options, dependsOn: g.options.dependsOn, propertyDependencies: g.propertyDependencies });
            continue;
        }
        const replace = keys.some((k) => replacesOn(g.type, k, g.options)) || (old.initErrors === true && (g.options.replaceOnChanges ?? []).includes("*"));
        if (!replace) {
            // An update in place; a Command's update runs `create` again.
            const outcome = await effects.update(g, old);
            if (outcome.ok) live.set(g.name, { ...old, inputs: readBack(g.type, g.rawInputs), options: g.options, dependsOn: g.options.dependsOn, propertyDependencies: g.propertyDependencies });
            await record({ op: "update", name: g.name, ok: outcome.ok, detail: outcome.ok ? keys.join(", ") : outcome.detail });
            continue;
        }
        if (g.options.import !== undefined) {
            // R3 (step_generator.go:1976-1995; an error in `up`, a warning in preview).
            await record({ op: "replace-create", name: g.name, ok: false, detail: `previously-imported resources that still specify an ID may not be replaced; please remove the \`import\` declaration from your program; ${keys.join(", ")}` });
            break;
        }
        if (g.options.deleteBeforeReplace === true) {
            // R4: dependents first, in reverse dependency order, then the resource itself.
            for (const d of dependentReplacements(old).reverse()) {
                live.delete(d.name);
                if (!(await remove(d, "delete-dependent"))) break;
            }
            if (error !== undefined) break;
            live.delete(g.name);
            if (!(await remove(old, "delete-replaced"))) break;
            await create(g, "replace-create");
        } else {
            // R5: the new one first; the old one is deleted at the end, or stays pending delete if the up fails.
            await create(g, "replace-create");
            if (live.get(g.name) !== old) replacedLater.push(old);
        }
    }

    const leftover = [...prev.live.values()].filter((r) => !goalNames.has(r.name) && live.has(r.name));
    if (error === undefined) {
        // R5: replaced resources of this run and pending deletes of earlier runs, then resources the program dropped.
        const queue = [...replacedLater, ...pending.splice(0), ...leftover.reverse()];
        for (const r of queue) {
            if (error !== undefined) {
                pending.push(r);
                continue;
            }
            const dropped = leftover.includes(r);
            if (dropped) live.delete(r.name);
            if (!(await remove(r, dropped ? "delete" : "delete-replaced"))) pending.push(r);
        }
    } else pending.push(...replacedLater);
    return { steps, state: { live, pendingDelete: pending }, error, servingAfterEachStep: serving };
}
