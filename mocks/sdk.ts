import * as pulumi from "@pulumi/pulumi";

/**
 * Every place the mock runtime leans on the Pulumi SDK beyond writing a program, in one file. What has a public API
 * uses it; the one internal left is pinned by test/mocks/sdk.test.ts, which names the SDK version it was checked
 * against and fails when node_modules holds another one.
 */

/** The @pulumi/pulumi release the internal below was read in; test/mocks/sdk.test.ts fails when the installed one differs. */
export const SDK_CHECKED_AGAINST = "3.270.0";

/** What to read again in a new SDK before raising SDK_CHECKED_AGAINST. */
export const TO_RECHECK = [
    "Output's promise() (output.js, class OutputImpl): still resolves the value of a known output, undefined for an unknown one, and rejects when the output failed",
    "Output's allResources() (output.js, class OutputImpl): still resolves every resource an output's value came from, what runtime/rpc.js serializeProperty records as the input's property dependencies",
];

/**
 * How a secret reaches the mocks' newResource: wrapped as `{ [specialSigKey]: specialSecretSig, value }`, the wire
 * format of secrets. Both constants are exported by the SDK (`pulumi.runtime`, runtime/rpc).
 */
export function isSecretValue(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig;
}

/**
 * The value of an output, or the error it failed with. Internal: the public way (`apply`) never calls back for an
 * unknown value and cannot report a failure, so a run would hang instead of failing; `promise()` does both.
 */
export function outputValue<T>(o: pulumi.Output<T>): Promise<T> {
    return (o as unknown as { promise(): Promise<T> }).promise();
}

/** An alias as written in the options: a URN, or its plain parts (a parent resource by its name). */
export type AliasParts = string | Readonly<Record<string, string | boolean>>;

/**
 * Names the parent and the `dependsOn` resources of each resource as it registers, from a stack transformation
 * (public: it sees the resource object, its name and its options before registration; the mocks' newResource gets
 * neither parent nor options). Call inside `runInPulumiStack`, before the program: the stack resource itself is not
 * seen, so a parent that is the stack has no name (null).
 */
export function watchRegistrations(
    record: (
        key: { type: string; name: string; custom: boolean },
        parent: string | null,
        opts: pulumi.CustomResourceOptions,
        dependsOn: string[],
        aliases: AliasParts[],
        propertyDependencies: Promise<Record<string, string[]>>,
    ) => void,
): void {
    const names = new WeakMap<pulumi.Resource, string>();
    const aliasParts = (a: unknown): AliasParts => {
        if (typeof a === "string") return a;
        const parts: Record<string, string | boolean> = {};
        for (const [k, v] of Object.entries((a ?? {}) as Record<string, unknown>)) {
            if (typeof v === "string" || typeof v === "boolean") parts[k] = v;
            else if (v instanceof pulumi.Resource) parts[k] = String(names.get(v));
        }
        return parts;
    };
    pulumi.runtime.registerStackTransformation((t) => {
        names.set(t.resource, t.name);
        const opts = t.opts as pulumi.CustomResourceOptions;
        const deps = ([] as pulumi.Resource[]).concat((opts.dependsOn ?? []) as pulumi.Resource[]);
        const parent = t.opts.parent === undefined ? undefined : names.get(t.opts.parent);
        // Inside the constructor CustomResource.isInstance is not true yet; instanceof is.
        const custom = t.resource instanceof pulumi.CustomResource;
        const propertyDependencies = propertyDependenciesOf(t.props ?? {}, (r) => names.get(r));
        record({ type: t.type, name: t.name, custom }, parent ?? null, opts, deps.map((d) => String(names.get(d))), (opts.aliases ?? []).map(aliasParts), propertyDependencies);
        return undefined;
    });
}

/**
 * The resources each input's value came from, by input name: what the SDK sends the engine as the resource's
 * `propertyDependencies` (runtime/rpc.js serializeProperty adds every resource of an Output's allResources() and
 * every resource passed as a value). The engine's delete-before-replace cascade follows these edges and no others
 * (pulumi/pulumi pkg/resource/deploy/step_generator.go:3328), so the sequence model needs them. Internal:
 * `allResources` (see TO_RECHECK). A failed output has no dependencies to report (the registration fails anyway).
 */
async function propertyDependenciesOf(props: Record<string, unknown>, nameOf: (r: pulumi.Resource) => string | undefined): Promise<Record<string, string[]>> {
    const collect = async (v: unknown, into: Set<string>, depth: number): Promise<void> => {
        if (depth > 20 || v === null || v === undefined) return;
        if (pulumi.Output.isInstance(v)) {
            const all = (v as unknown as { allResources?: () => Promise<Set<pulumi.Resource>> }).allResources;
            for (const r of (await all?.call(v).catch(() => new Set<pulumi.Resource>())) ?? []) {
                const n = nameOf(r);
                if (n !== undefined) into.add(n);
            }
            return collect(await outputValue(v).catch(() => undefined), into, depth + 1);
        }
        if (pulumi.Resource.isInstance(v)) {
            const n = nameOf(v);
            if (n !== undefined) into.add(n);
            return;
        }
        if (v instanceof Promise) return collect(await v.catch(() => undefined), into, depth + 1);
        if (Array.isArray(v)) {
            for (const x of v) await collect(x, into, depth + 1);
            return;
        }
        if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) await collect(x, into, depth + 1);
    };
    const out: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(props)) {
        const into = new Set<string>();
        await collect(v, into, 0);
        if (into.size > 0) out[k] = [...into].sort();
    }
    return out;
}

/**
 * Waits until every registration the program started has reached the mocks, also those it did not await; what the
 * language host does when a program ends (public `disconnect`: drains the RPC queue, then closes connections the
 * mocks do not have, so the next `setMocks` starts clean).
 */
export function drainRegistrations(): Promise<void> {
    return pulumi.runtime.disconnect();
}
