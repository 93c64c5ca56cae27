import { createHash } from "node:crypto";
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { deserialize, serialize } from "node:v8";
import type * as pulumi from "@pulumi/pulumi";
import type { HostHandle } from "../../lib/host";
import type { Catalog } from "../../catalog/types";
import { localFacts } from "../../config/local";
import { parseConfig } from "../../stack";
import type { PlatformConfig } from "../../config/types";
import type { MockRunOptions, MockRunResult, RecordedResource } from "../../mocks/runtime";
import { readStackConfig } from "../../stack/stack-config";

/**
 * Runs the real program (index.ts) under mocks, with a stack file's config plus overrides, and gives awaited
 * access to everything it registered. Every invoke must be mocked: an un-mocked one fails the run.
 *
 * The Pulumi SDK is loaded on the first run, not on import: suites that only need ROOT or parsedStack stay pure
 * and start in a fraction of the time.
 */
export const ROOT = resolve(__dirname, "..", "..");

export interface ProgramRun extends MockRunResult {
    /** Resources of one type token. */
    ofType(type: string): RecordedResource[];
    /** The one resource with this name; fails when there is none or more. */
    named(name: string): RecordedResource;
}

export interface RunOptions {
    /** Config overrides (short keys get the visualkit: namespace); `undefined` removes a key. */
    readonly set?: Record<string, string | number | boolean | object | undefined>;
    /** Keys (short or full) to mark as secret. */
    readonly secrets?: readonly string[];
    /** A run with a state hook is never shared (a function has no value to compare). */
    readonly state?: MockRunOptions["state"];
    /** A run with invoke answers is never shared (functions have no value to compare). */
    readonly invokes?: MockRunOptions["invokes"];
    readonly exitCodes?: MockRunOptions["exitCodes"];
    /**
     * Run the program again even when this file already ran the same config: for tests about what a run does
     * besides its result (files it writes or removes) or about two runs agreeing.
     * @default false (an equal earlier run's result is shared, as a copy)
     */
    readonly fresh?: boolean;
}

type StackFile = ReturnType<typeof readStackConfig>;
const stackFiles = new Map<string, { text: string; base: StackFile }>();

/** readStackConfig, parsed again only when Pulumi.yaml or Pulumi.<stack>.yaml changed: tests read them hundreds of times. */
function readStack(stack: string): StackFile {
    let text: string;
    try {
        text = [readFileSync(join(ROOT, "Pulumi.yaml"), "utf8"), readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")].join("\0");
    } catch {
        return readStackConfig(ROOT, stack); // its error names the file
    }
    let known = stackFiles.get(stack);
    if (known?.text !== text) {
        known = { text, base: readStackConfig(ROOT, stack) };
        stackFiles.set(stack, known);
    }
    return { project: known.base.project, config: { ...known.base.config }, secretKeys: [...known.base.secretKeys], written: known.base.written };
}

export function stackConfig(stack: string, opts: RunOptions = {}): { project: string; config: Record<string, string>; secretKeys: string[] } {
    const base = readStack(stack);
    const config = { ...base.config };
    const secretKeys = new Set(base.secretKeys);
    const full = (k: string) => (k.includes(":") ? k : `visualkit:${k}`);
    for (const [k, v] of Object.entries(opts.set ?? {})) {
        if (v === undefined) delete config[full(k)];
        else config[full(k)] = typeof v === "string" ? v : JSON.stringify(v);
    }
    for (const k of opts.secrets ?? []) secretKeys.add(full(k));
    return { project: base.project, config, secretKeys: [...secretKeys] };
}

/**
 * Jest raises Error.stackTraceLimit to 100 and maps every frame through source maps, and the Pulumi SDK formats a
 * stack for every promise it creates (runtime/debuggable.js) and an unlimited one for every resource
 * (Resource.callsites, for source positions the mocks ignore): under jest that was four fifths of a run's time.
 * During a run errors get no frames; an error a run throws keeps its name and message (what tests assert on).
 * VK_TEST_STACKS=1 keeps jest's frames when one is needed for debugging.
 */
export async function withoutStackFrames<T>(run: () => Promise<T>): Promise<T> {
    if (process.env.VK_TEST_STACKS) return run();
    const { stackTraceLimit, prepareStackTrace } = Error;
    Error.stackTraceLimit = 0;
    Error.prepareStackTrace = (error: Error) => Error.prototype.toString.call(error);
    try {
        return await run();
    } finally {
        Error.stackTraceLimit = stackTraceLimit;
        Error.prepareStackTrace = prepareStackTrace;
    }
}

function mockRuntime(): typeof import("../../mocks/runtime") {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("../../mocks/runtime");
}

/** Results of this test file's runs by their inputs; never handed out, only copies of them. */
const shared = new Map<string, MockRunResult>();

/**
 * The content of the file or folder a config value names (visualkit:widgetCdnSourceDir, say), which the program
 * reads: part of the key. `undefined` when the value names nothing; `null` when the folder is too big to hash
 * cheaply, and then the run is not shared.
 */
function diskContent(value: string): string | undefined | null {
    if (value === "" || value.length > 4096 || value.includes("\n")) return undefined;
    const top = resolve(ROOT, value);
    if (!statSync(top, { throwIfNoEntry: false })) return undefined;
    const hash = createHash("sha256");
    let budget = 2000;
    const walk = (p: string, rel: string): boolean => {
        if (--budget < 0) return false;
        const s = statSync(p, { throwIfNoEntry: false });
        if (s?.isDirectory()) {
            hash.update(`d ${rel}\n`);
            return readdirSync(p).sort().every((f) => walk(join(p, f), `${rel}/${f}`));
        }
        if (s?.isFile()) hash.update(`f ${rel} ${s.mode} ${s.size}\n`).update(readFileSync(p));
        return true;
    };
    return walk(top, ".") ? hash.digest("hex") : null;
}

/**
 * Everything a run depends on: the stack, the resolved config (stack file plus overrides), the secret keys, the
 * environment (config/index.ts reads provider credentials from it) and the content of any file or folder a config
 * value names.
 */
function runKey(stack: string, project: string, config: Record<string, string>, secretKeys: string[]): string | undefined {
    const entries = Object.entries(config).sort(([a], [b]) => a.localeCompare(b));
    // JEST_WORKER_ID differs between the workers of one jest run, and nothing in the program reads it.
    const env = Object.entries(process.env)
        .filter(([k]) => k !== "JEST_WORKER_ID")
        .sort(([a], [b]) => a.localeCompare(b));
    const files = entries.map(([k, v]) => [k, diskContent(v)] as const).filter(([, h]) => h !== undefined);
    if (files.some(([, h]) => h === null)) return undefined;
    return createHash("sha256")
        .update(JSON.stringify({ stack, project, entries, secretKeys: [...secretKeys].sort(), env, files }))
        .digest("hex");
}

/**
 * A deep copy of a run's plain data (objects, arrays, Maps), so one test cannot change what another one reads. It
 * also brings data read from the run cache (node:v8, created outside this test file's realm) into the test's own
 * realm, so the kind of a value is told by its tag, not by its prototype's identity.
 */
function copy<T>(v: T): T {
    if (v === null || typeof v !== "object") return v;
    if (Array.isArray(v)) return v.map(copy) as T;
    const tag = Object.prototype.toString.call(v);
    if (tag === "[object Map]") return new Map([...(v as unknown as Map<unknown, unknown>)].map(([k, x]) => [k, copy(x)])) as T;
    const proto = Object.getPrototypeOf(v) as object | null;
    const plain = proto === null || (tag === "[object Object]" && Object.getPrototypeOf(proto) === null && proto.constructor?.name === "Object");
    if (!plain) {
        throw new Error(`runProgram shares plain data only, the run holds a ${String(proto?.constructor?.name)}: teach copy() in test/helpers/program.ts, or pass { fresh: true }`);
    }
    const out = (proto === null ? Object.create(null) : {}) as Record<string, unknown>;
    for (const [k, x] of Object.entries(v)) out[k] = copy(x);
    return out as T;
}

/**
 * Runs shared between test files, jest workers and jest runs: a folder made by test/helpers/run-cache.js (named by
 * the program's source, so a change to the code is a new folder), one file per run key. Without it (a test file run
 * by other means) each file runs its own.
 */
const RUN_CACHE = process.env.VK_TEST_RUN_CACHE;

/** The file of the run cache that holds (or will hold) the shared run of these inputs; undefined when unshared. */
export function runCacheFile(stack: string, opts: RunOptions = {}): string | undefined {
    const { project, config, secretKeys } = stackConfig(stack, opts);
    const key = runKey(stack, project, config, secretKeys);
    return RUN_CACHE && key ? join(RUN_CACHE, `${key}.v8`) : undefined;
}

function cachedRun(key: string): MockRunResult | undefined {
    if (!RUN_CACHE) return undefined;
    let bytes: Buffer;
    try {
        bytes = readFileSync(join(RUN_CACHE, `${key}.v8`));
    } catch {
        return undefined;
    }
    return copy(deserialize(bytes) as MockRunResult);
}

function keepRun(key: string, result: MockRunResult): void {
    if (!RUN_CACHE) return;
    const file = join(RUN_CACHE, `${key}.v8`);
    const tmp = `${file}.${process.pid}.tmp`;
    try {
        writeFileSync(tmp, serialize(result));
        renameSync(tmp, file); // another worker may have written the same run meanwhile: equal inputs, equal result
    } catch {
        // The folder is gone (a newer jest run moved to another source hash): this file still shares its runs in memory.
    }
}

function withLookups(result: MockRunResult): ProgramRun {
    return {
        ...result,
        ofType: (type) => result.resources.filter((r) => r.type === type),
        named(name) {
            const found = result.resources.filter((r) => r.name === name);
            if (found.length !== 1) throw new Error(`expected one resource named ${name}, found ${found.length}`);
            return found[0];
        },
    };
}

/**
 * Runs the program, or hands out a copy of an equal earlier run of the same code (same stack, config, secrets,
 * environment and named files; no hooks), made by this test file, another one or an earlier jest run: tests read many facts from the same
 * few configs, and a run costs far more than a copy. A run that throws is not kept, so each caller sees the error.
 */
export async function runProgram(stack: string, opts: RunOptions = {}): Promise<ProgramRun> {
    const { project, config, secretKeys } = stackConfig(stack, opts);
    const shareable = !opts.fresh && opts.state === undefined && opts.invokes === undefined && opts.exitCodes === undefined;
    const key = shareable ? runKey(stack, project, config, secretKeys) : undefined;
    const known = key === undefined ? undefined : (shared.get(key) ?? cachedRun(key));
    if (known) {
        shared.set(key!, known);
        return withLookups(copy(known));
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const program = require("../../index") as () => Promise<Record<string, unknown>>;
    const { runWithMocks } = mockRuntime();
    const result = await withoutStackFrames(() => runWithMocks({ project, stack, config, secretKeys, program, state: opts.state, invokes: opts.invokes, exitCodes: opts.exitCodes }));
    if (key !== undefined) {
        shared.set(key, result);
        keepRun(key, result);
        return withLookups(copy(result));
    }
    return withLookups(result);
}

/** The typed config and catalog a stack file (plus overrides) parses into, without running the program. */
export function parsedStack(stack: string, opts: RunOptions = {}): { config: PlatformConfig; catalog: Catalog } {
    const { project, config, secretKeys } = stackConfig(stack, opts);
    const parsed = parseConfig({ project, stack, values: config, secretKeys: new Set(secretKeys), env: {}, local: localFacts({}, false) });
    if (!parsed.config || !parsed.catalog) throw new Error(parsed.issues.map((i) => `${i.key}: ${i.problem}`).join("\n"));
    return { config: parsed.config, catalog: parsed.catalog };
}

/** Runs components built directly (not through index.ts) under the mocks, with no stack config. */
export function runComponents(program: () => Promise<Record<string, unknown>>, stack = "prod"): Promise<MockRunResult> {
    const { runWithMocks } = mockRuntime();
    return withoutStackFrames(() => runWithMocks({ project: "visualkit", stack, config: {}, secretKeys: [], program }));
}

/** The public key of `ed25519HostKey("fake host key", "visualkit-main")`: what fakeHost's SSH connections pin. */
export const FAKE_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIzb8Xp0ii1tbnfxDw8JiNpSybnoFk5tiNoGy1FKEjpu visualkit-main";

/** A stand-in for HetznerHost: documentation addresses, `ready` as the host's readiness step, `instance` its server id. */
export function fakeHost(ready: pulumi.Resource, name = "main", instance = "1001"): HostHandle {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { output } = require("@pulumi/pulumi") as typeof pulumi;
    return {
        name,
        ipv4: output("203.0.113.10"),
        ipv6: output("2001:db8::1"),
        sshHostKey: output(FAKE_HOST_KEY),
        connection: output({ host: "203.0.113.10", user: "root", hostKey: FAKE_HOST_KEY }),
        ready,
        instance: output(instance),
    };
}
