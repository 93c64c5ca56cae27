import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { HostHandle } from "../../lib/host";
import type { Catalog } from "../../catalog/types";
import { localFacts } from "../../config";
import { parseConfig } from "../../config/parse";
import type { PlatformConfig } from "../../config/types";
import { runWithMocks, type MockRunOptions, type MockRunResult, type RecordedResource } from "../../scripts/mock-runtime";
import { readStackConfig } from "../../scripts/stack-config";

/**
 * Runs the real program (index.ts) under mocks, with a stack file's config plus overrides, and gives awaited
 * access to everything it registered. Every invoke must be mocked: an un-mocked one fails the run.
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
    readonly state?: MockRunOptions["state"];
    readonly invokes?: MockRunOptions["invokes"];
    readonly exitCodes?: MockRunOptions["exitCodes"];
}

export function stackConfig(stack: string, opts: RunOptions = {}): { project: string; config: Record<string, string>; secretKeys: string[] } {
    const base = readStackConfig(ROOT, stack);
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

export async function runProgram(stack: string, opts: RunOptions = {}): Promise<ProgramRun> {
    const { project, config, secretKeys } = stackConfig(stack, opts);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const program = require("../../index") as () => Promise<Record<string, unknown>>;
    const result = await runWithMocks({ project, stack, config, secretKeys, program, state: opts.state, invokes: opts.invokes, exitCodes: opts.exitCodes });
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

/** The typed config and catalog a stack file (plus overrides) parses into, without running the program. */
export function parsedStack(stack: string, opts: RunOptions = {}): { config: PlatformConfig; catalog: Catalog } {
    const { project, config, secretKeys } = stackConfig(stack, opts);
    const parsed = parseConfig({ project, stack, values: config, secretKeys: new Set(secretKeys), env: {}, local: localFacts({}, false) });
    if (!parsed.config || !parsed.catalog) throw new Error(parsed.issues.map((i) => `${i.key}: ${i.problem}`).join("\n"));
    return { config: parsed.config, catalog: parsed.catalog };
}

/** Runs components built directly (not through index.ts) under the mocks, with no stack config. */
export function runComponents(program: () => Promise<Record<string, unknown>>, stack = "prod"): Promise<MockRunResult> {
    return runWithMocks({ project: "visualkit", stack, config: {}, secretKeys: [], program });
}

/** A stand-in for HetznerHost: documentation addresses, and `ready` as the host's readiness step. */
export function fakeHost(ready: pulumi.Resource, name = "main"): HostHandle {
    return {
        name,
        ipv4: pulumi.output("203.0.113.10"),
        ipv6: pulumi.output("2001:db8::1"),
        connection: pulumi.output({ host: "203.0.113.10", user: "root" }),
        ready,
    };
}
