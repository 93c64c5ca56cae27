import type { ConfigIssue } from "../../config/issues";
import { KEYS } from "../../config/keys";
import type { LocalFacts } from "../../config/raw";
import { ConfigReader } from "../../config/reader";
import type { RawConfig } from "../../stack";
import { stackConfig } from "./program";

/** A machine where no path exists and nothing is being deployed. */
export const NO_FILES: LocalFacts = { folder: (path) => ({ kind: "missing", path }) };

/**
 * Runs one section normalizer on just the keys given (written as in Pulumi.<stack>.yaml without `visualkit:`, undefined leaves one out; lists
 * and maps as values), the way parseConfig runs it on the whole stack file. Declared secrets count as set with --secret.
 */
export function readSection<T>(
    section: (r: ConfigReader) => T,
    values: Record<string, unknown>,
    opts: { stack?: string; env?: Record<string, string>; local?: LocalFacts; plain?: string[] } = {},
): { value: T; issues: ConfigIssue[] } {
    const full = (k: string) => (k.includes(":") ? k : `visualkit:${k}`);
    const raw = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined).map(([k, v]) => [full(k), typeof v === "string" ? v : JSON.stringify(v)]));
    const secret = [...KEYS.filter((k) => k.secret).map((k) => full(k.key)), "hcloud:token", "cloudflare:apiToken"].filter((k) => !(opts.plain ?? []).map(full).includes(k));
    const r = new ConfigReader({ project: "visualkit", stack: opts.stack ?? "prod", values: raw, secretKeys: new Set(secret), env: opts.env ?? {}, local: opts.local ?? NO_FILES });
    const value = section(r);
    return { value, issues: r.issues };
}

/** The issue a user reads: the key as written in the stack file (an environment variable as is), what is wrong, and the fix. */
export function issue(key: string, problem: RegExp, fix: RegExp): ConfigIssue {
    return expect.objectContaining({ key: key.includes(":") || /^[A-Z_]+$/.test(key) ? key : `visualkit:${key}`, problem: expect.stringMatching(problem), fix: expect.stringMatching(fix) });
}

/**
 * A committed stack file as the CLI hands it over, with overrides (short keys get `visualkit:`; `undefined` removes a
 * key; lists and maps as JSON), `secrets` marked secret, on the machine `local` describes (default: offline).
 */
export function stackRaw(stack: "dev" | "prod", set: Record<string, unknown> = {}, opts: { secrets?: readonly string[]; local?: LocalFacts } = {}): RawConfig {
    const { project, config, secretKeys } = stackConfig(stack);
    const values: Record<string, string> = { ...config };
    const secrets = new Set(secretKeys);
    const full = (k: string) => (k.includes(":") ? k : `visualkit:${k}`);
    for (const [k, v] of Object.entries(set)) {
        if (v === undefined) delete values[full(k)];
        else values[full(k)] = typeof v === "string" ? v : JSON.stringify(v) ?? String(v);
    }
    for (const k of opts.secrets ?? []) secrets.add(full(k));
    return { project, stack, values, secretKeys: secrets, env: {}, local: opts.local ?? NO_FILES };
}
