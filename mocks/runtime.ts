import { runInThisContext } from "node:vm";
import * as pulumi from "@pulumi/pulumi";
import { SECRET_PLACEHOLDER } from "../config/secret";
import { publishedFiles, resetPublishedFiles } from "../lib/artifacts";
import { builtinInvoke, builtinState, fakeId } from "./fakes";
import { drainRegistrations, isSecretValue, outputValue, watchRegistrations, type AliasParts } from "./sdk";

/**
 * Runs the real program in-process under Pulumi's mocks: no CLI, no credentials, no network. Records every
 * registered resource (type, name, parent, inputs) and resolves the stack outputs and generated files, with
 * every secret replaced by "[secret]". Shared by `npm run render`, the tests and the scripts that plan from a render
 * (adopt, the SDK floor benchmark). What it takes from the SDK beyond a program's API is in ./sdk.ts, the fake
 * provider answers in ./fakes.ts.
 */

export interface RecordedResource {
    readonly type: string;
    readonly name: string;
    readonly parent: string | null;
    readonly custom: boolean;
    /** Inputs as the provider would receive them; secret values are "[secret]". */
    readonly inputs: Record<string, unknown>;
    /** The same inputs with secret values kept (tests compare them); never written to disk. */
    readonly rawInputs: Record<string, unknown>;
    /** Names of the inputs that are secrets. */
    readonly secretInputs: readonly string[];
    /**
     * Input name → names of the resources its value came from (the engine's property dependencies). Not written to
     * rendered/; the sequence model (test/sequence) reads them.
     */
    readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
    /** Resource options the program set that reviewers care about. */
    readonly options: {
        import?: string;
        protect?: boolean;
        retainOnDelete?: boolean;
        ignoreChanges?: string[];
        replaceOnChanges?: string[];
        deleteBeforeReplace?: boolean;
        dependsOn: string[];
        /** Former identities (a URN, or the parts of one that changed, e.g. `{ type }`): what keeps a renamed resource. */
        aliases?: (string | Record<string, string | boolean>)[];
    };
}

export interface MockRunResult {
    readonly resources: RecordedResource[];
    readonly outputs: Record<string, unknown>;
    /** Outputs with secrets kept, for assertions. */
    readonly rawOutputs: Record<string, unknown>;
    /** Generated files by relative path, as deployed (secrets appear as the mocks' "[secret]" values). */
    readonly files: Map<string, string>;
    readonly invokes: { token: string; inputs: Record<string, unknown> }[];
}

export interface MockRunOptions {
    readonly project: string;
    readonly stack: string;
    /** Full keys (visualkit:domain) to raw strings, as the CLI passes config. */
    readonly config: Record<string, string>;
    readonly secretKeys: readonly string[];
    /** The program: Pulumi calls index.ts's exported function the same way. */
    readonly program: () => Promise<Record<string, unknown>>;
    /** Extra state per resource type, merged over the built-in fakes (tests use it to pin a value). */
    readonly state?: (type: string, name: string, inputs: Record<string, unknown>) => Record<string, unknown> | undefined;
    /**
     * Exit code of an attached one-shot container (`attach: true`), by its Docker name, e.g. `{ "chatwoot-prepare": 1 }`
     * to see what a failed database preparation does to the deployment. Every one-shot container not named here
     * exits 0, as it does on a healthy host.
     * @default {}
     */
    readonly exitCodes?: Readonly<Record<string, number>>;
    /** Invoke results by token; an invoke with no answer here or built in fails the run. */
    readonly invokes?: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>>;
}

/**
 * The aliases the program set. A generated provider SDK adds one of its own to a resource whose type it renamed
 * (cloudflare's DnsRecord carries `{ type: "cloudflare:index/record:Record" }`): the same in every program, so left out.
 */
function programAliases(type: string, custom: boolean, aliases: readonly AliasParts[]): RecordedResource["options"]["aliases"] {
    const pkg = type.split(":")[0];
    const own = aliases.filter((a) => !(custom && typeof a !== "string" && Object.keys(a).length === 1 && String(a.type).split(":")[0] === pkg));
    return own.length > 0 ? [...own] : undefined;
}

/** Replaces every secret wrapper with the placeholder (redact) or its value (keep). */
function unwrap(v: unknown, redact: boolean): unknown {
    if (isSecretValue(v)) return redact ? SECRET_PLACEHOLDER : unwrap(v.value, redact);
    if (Array.isArray(v)) return v.map((x) => unwrap(x, redact));
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x, redact)]));
    return v;
}

/**
 * Assets and archives as the provider would get them, named by kind: `{ fileAsset: path }`, `{ stringAsset: text }`,
 * `{ fileArchive: path }`, `{ remoteAsset: uri }`. Their content sits behind promises the recorded inputs cannot hold.
 */
async function readAssets(v: unknown): Promise<unknown> {
    if (v instanceof pulumi.asset.FileAsset) return { fileAsset: await v.path };
    if (v instanceof pulumi.asset.StringAsset) return { stringAsset: await v.text };
    if (v instanceof pulumi.asset.RemoteAsset) return { remoteAsset: await v.uri };
    if (v instanceof pulumi.asset.FileArchive) return { fileArchive: await v.path };
    if (Array.isArray(v)) return Promise.all(v.map(readAssets));
    if (v && typeof v === "object" && !(v instanceof Promise)) {
        return Object.fromEntries(await Promise.all(Object.entries(v).map(async ([k, x]) => [k, await readAssets(x)] as const)));
    }
    return v;
}

/** Resolves outputs and promises inside a value; secret outputs become the placeholder when redacting. */
async function resolve(v: unknown, redact: boolean): Promise<unknown> {
    if (pulumi.Output.isInstance(v)) {
        const [value, secret] = await Promise.all([outputValue(v), pulumi.isSecret(v)]);
        if (secret && redact) return SECRET_PLACEHOLDER;
        return resolve(value, redact);
    }
    if (v instanceof Promise) return resolve(await v, redact);
    if (Array.isArray(v)) return Promise.all(v.map((x) => resolve(x, redact)));
    if (v && typeof v === "object" && !pulumi.Resource.isInstance(v)) {
        const entries = await Promise.all(Object.entries(v).map(async ([k, x]) => [k, await resolve(x, redact)] as const));
        return Object.fromEntries(entries.filter(([, x]) => x !== undefined));
    }
    return v;
}

/**
 * A run that failed the way `pulumi up` would: the program threw, or a resource's inputs could not be resolved (an
 * `apply` threw, e.g. a failed one-shot container stopping what depends on it). Carries what had been registered.
 */
export class MockRunError extends Error {
    constructor(
        message: string,
        readonly resources: readonly { readonly type: string; readonly name: string }[],
    ) {
        super(message);
        this.name = "MockRunError";
    }
}

export async function runWithMocks(opts: MockRunOptions): Promise<MockRunResult> {
    const records: Recorded[] = [];
    const propertyDeps = new Map<string, Promise<Record<string, string[]>>>();
    const parents = new Map<string, string | null>();
    const options = new Map<string, RecordedResource["options"]>();
    const invokes: MockRunResult["invokes"] = [];
    const failures: string[] = [];

    installMocks(opts, records, invokes, failures);
    pulumi.runtime.setAllConfig(opts.config, [...opts.secretKeys]);
    resetPublishedFiles();

    const { rejections, restore } = ownUnhandledRejections();

    let programOutputs: Record<string, unknown> = {};
    let programError: unknown;
    await pulumi.runtime.runInPulumiStack(async () => {
        watchRegistrations(({ type, name, custom }, parent, o, dependsOn, aliases, propertyDependencies) => {
            const key = `${type}::${name}`;
            parents.set(key, parent);
            propertyDeps.set(key, propertyDependencies);
            options.set(key, {
                import: o.import,
                protect: o.protect,
                retainOnDelete: o.retainOnDelete,
                ignoreChanges: o.ignoreChanges,
                replaceOnChanges: o.replaceOnChanges,
                deleteBeforeReplace: o.deleteBeforeReplace,
                dependsOn,
                aliases: programAliases(type, custom, aliases),
            });
        });
        try {
            programOutputs = await opts.program();
        } catch (e) {
            // Rethrown below: an error escaping the stack's init becomes an unhandled rejection inside the SDK.
            programError = e;
        }
        return programOutputs;
    });

    // Let registrations that were started but not awaited by the program finish, even when the program failed: a
    // late registerOutputs reaching the next run's monitor would crash the process ("unknown resource").
    await drainRegistrations().catch((e: unknown) => rejections.push(e));
    // Unhandled rejections are reported after the microtask queue drains.
    await new Promise((done) => setImmediate(done));
    restore();
    if (programError !== undefined) throw programError;
    if (failures.length > 0) throw new Error(failures.join("\n"));
    if (rejections.length > 0) {
        const messages = [...new Set(rejections.map((r) => (r instanceof Error ? r.message : String(r))))];
        throw new MockRunError(messages.join("\n"), records.map((r) => ({ type: r.type, name: r.name })));
    }

    return collect(records, { parents, options, propertyDeps }, programOutputs, invokes);
}

type Recorded = Omit<RecordedResource, "parent" | "options" | "propertyDependencies">;

/** Pulumi's mocks: each resource recorded with its inputs, each invoke answered (or listed as a failure). */
function installMocks(opts: MockRunOptions, records: Recorded[], invokes: MockRunResult["invokes"], failures: string[]): void {
    pulumi.runtime.setMocks(
        {
            async newResource(args) {
                const inputs = (await readAssets(args.inputs)) as Record<string, unknown>;
                const plain = unwrap(inputs, false) as Record<string, unknown>;
                const state = { ...plain, ...builtinState(args.type, args.name, plain, opts.exitCodes ?? {}), ...(opts.state?.(args.type, args.name, plain) ?? {}) };
                if (args.type !== "pulumi:pulumi:Stack") {
                    records.push({
                        type: args.type,
                        name: args.name,
                        custom: args.custom ?? true,
                        inputs: unwrap(inputs, true) as Record<string, unknown>,
                        rawInputs: plain,
                        secretInputs: Object.keys(inputs).filter((k) => isSecretValue(inputs[k])),
                    });
                }
                const id = args.custom === false ? "" : fakeId(args.type, args.name);
                return { id, state };
            },
            call(args) {
                const inputs = unwrap(args.inputs, false) as Record<string, unknown>;
                invokes.push({ token: args.token, inputs });
                const answer = opts.invokes?.[args.token]?.(inputs) ?? builtinInvoke(args.token, inputs);
                if (answer === undefined) {
                    failures.push(`un-mocked invoke ${args.token}`);
                    throw new Error(`un-mocked invoke ${args.token}: add it to the mock runtime`);
                }
                return answer;
            },
        },
        opts.project,
        opts.stack,
        false,
    );
}

// A registration whose inputs reject is not awaited by the program: under the CLI the language host's own
// unhandledRejection handler fails the deployment with it; here it would kill the process (or, under jest, fail
// the test from outside). Like the language host, the run owns the handler while the program runs, and reports
// what it caught as the run's failure. Inside jest, `process` is a sandbox copy whose listeners Node never calls;
// the main context's global is the real process (and is `process` itself outside jest).
function ownUnhandledRejections(): { rejections: unknown[]; restore: () => void } {
    const realProcess = runInThisContext("process") as NodeJS.Process;
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    const previous = realProcess.listeners("unhandledRejection");
    realProcess.removeAllListeners("unhandledRejection");
    realProcess.on("unhandledRejection", onRejection);
    const restore = () => {
        realProcess.off("unhandledRejection", onRejection);
        for (const listener of previous) realProcess.on("unhandledRejection", listener);
    };
    return { rejections, restore };
}

/** The run's result: each resource with its parent, options and property dependencies, the published files, the outputs. */
async function collect(
    records: Recorded[],
    registered: { parents: Map<string, string | null>; options: Map<string, RecordedResource["options"]>; propertyDeps: Map<string, Promise<Record<string, string[]>>> },
    programOutputs: Record<string, unknown>,
    invokes: MockRunResult["invokes"],
): Promise<MockRunResult> {
    const { parents, options, propertyDeps } = registered;
    const resources: RecordedResource[] = await Promise.all(
        records.map(async (r) => {
            const key = `${r.type}::${r.name}`;
            return { ...r, parent: parents.get(key) ?? null, options: options.get(key) ?? { dependsOn: [] }, propertyDependencies: (await propertyDeps.get(key)) ?? {} };
        }),
    );
    const files = new Map<string, string>();
    for (const [path, content] of [...publishedFiles().entries()].sort(([a], [b]) => a.localeCompare(b))) {
        files.set(path, String(await resolve(content, false)));
    }
    return {
        resources,
        outputs: (await resolve(programOutputs, true)) as Record<string, unknown>,
        rawOutputs: (await resolve(programOutputs, false)) as Record<string, unknown>,
        files,
        invokes,
    };
}
