import type { ConfigIssue } from "./issues";
import { fullKey, KEYS, type KeySpec } from "./keys";
import type { RawConfig } from "./raw";
import { SecretString } from "./secret";
import type { WrittenScalar } from "./stack-yaml";

const SPEC = new Map(KEYS.map((k) => [k.key, k]));

/**
 * Reads typed values out of the raw config for the section normalizers (config/sections/) and collects every problem
 * they find. A value that is missing or malformed is reported once, here or by its section, and read as undefined,
 * so each section goes on and the user sees all problems in one run. Keys are written without `visualkit:`.
 */
export class ConfigReader {
    readonly issues: ConfigIssue[] = [];
    constructor(readonly raw: RawConfig) {}

    get stack(): string {
        return this.raw.stack;
    }

    /** The `pulumi config set` command that fixes a key. */
    setCmd(key: string, value: string, secret = false): string {
        return `pulumi config set ${secret ? "--secret " : ""}${fullKey(key)} ${value} -s ${this.stack}`;
    }

    /** A problem with a `visualkit:` key. */
    add(key: string, problem: string, fix: string): void {
        this.issues.push({ key: fullKey(key), problem, fix });
    }

    /** A problem with something outside the namespace (a provider's key, an environment variable), named as is. */
    report(issue: ConfigIssue): void {
        this.issues.push(issue);
    }

    rawOf(key: string): string | undefined {
        return this.raw.values[fullKey(key)];
    }

    spec(key: string): KeySpec {
        const s = SPEC.get(key);
        if (!s) throw new Error(`config: ${key} is not declared in config/keys.ts`);
        return s;
    }

    /** How the stack file wrote a scalar that is not a YAML string, by path (`caddyVersion`, `platformApiEnv.V`). */
    written(path: string): WrittenScalar | undefined {
        return this.raw.written?.[fullKey(path)];
    }

    /**
     * A problem when the value at `path` is text the user wrote as a YAML number, boolean or date that the Pulumi
     * CLI hands over as other text (`2.10` as "2.1", `0123` as "83"): the program can only see what it is handed.
     */
    changedByYaml(path: string): boolean {
        const w = this.written(path);
        if (!w || w.kind === "null" || w.cli === w.source) return false;
        const what = w.kind === "timestamp" ? "a date" : w.kind === "bool" ? "a boolean" : w.kind === "int" && /^[-+]?0[0-9_]/.test(w.source) ? "an octal number" : "a number";
        this.add(path, `is written ${w.source} (line ${w.line}), which YAML reads as ${what}: the Pulumi CLI hands the program "${w.cli}", not "${w.source}"`, `quote it in Pulumi.${this.stack}.yaml: ${fullKey(path).replace(/^([^.[]+)\./, "$1 → ")}: "${w.source}"`);
        return true;
    }

    /** Trimmed; the declared default when absent; reported when required and absent. */
    str(key: string): string | undefined {
        const v = this.rawOf(key);
        const d = this.spec(key).default;
        if (v !== undefined && this.spec(key).type === "string" && this.changedByYaml(key)) return undefined;
        if (v !== undefined) return v.trim();
        if (d !== undefined) return String(d);
        if (!this.spec(key).optional) this.add(key, "is required", `${this.setCmd(key, "<value>")}  (${this.spec(key).description})`);
        return undefined;
    }

    /** Like `str`, with "" meaning unset. */
    optStr(key: string): string | undefined {
        const v = this.str(key);
        return v === "" ? undefined : v;
    }

    bool(key: string): boolean | undefined {
        const v = this.str(key);
        if (v === undefined) return undefined;
        if (v === "true" || v === "false") return v === "true";
        this.add(key, `must be true or false, not "${v}"`, this.setCmd(key, "true"));
        return undefined;
    }

    int(key: string): number | undefined {
        const v = this.str(key);
        if (v === undefined) return undefined;
        // 1e2 and 0x32 reach the program as 100 and 50 and are taken as such; a leading 0 (octal to YAML) is not.
        const w = this.written(key);
        if (w?.kind === "int" && /^[-+]?0[0-9_]/.test(w.source) && this.changedByYaml(key)) return undefined;
        if (/^\d+$/.test(v) && Number.isSafeInteger(Number(v))) return Number(v);
        if (/^\d+$/.test(v) || /^\d+(\.\d+)?e\+\d+$/.test(v)) {
            this.add(key, `${w ? `${w.source} (handed to the program as ${v})` : v} is far too large`, `${this.setCmd(key, String(this.spec(key).default ?? "<number>"))} (see its description in Pulumi.yaml)`);
            return undefined;
        }
        this.add(key, `must be a whole number, not "${v}"`, this.setCmd(key, "<number>"));
        return undefined;
    }

    list(key: string): string[] | undefined {
        const v = this.rawOf(key) === undefined ? this.spec(key).default : this.json(key);
        if (v === undefined) {
            if (!this.spec(key).optional) this.add(key, "is required", `add it as a YAML list in Pulumi.${this.stack}.yaml (${this.spec(key).description})`);
            return undefined;
        }
        if (!Array.isArray(v)) {
            this.add(key, "must be a list of strings", `write it as a YAML list under visualkit:${key} in Pulumi.${this.stack}.yaml`);
            return undefined;
        }
        const bad = v.flatMap((x: unknown, i) => (typeof x === "string" ? [] : [i]));
        for (const i of bad) this.add(`${key}[${i}]`, `is ${describe(v[i])}, not text`, `quote it in Pulumi.${this.stack}.yaml, or write it as text`);
        const changed = v.map((_, i) => typeof v[i] === "string" && this.changedByYaml(`${key}[${i}]`)).some(Boolean);
        if (bad.length > 0 || changed) return undefined;
        return v.map((x: string) => x.trim());
    }

    /**
     * A map of name → text (environment variables, hostname labels, import ids); {} when absent. A value that is not
     * text is refused with "quote it": YAML would hand the program 1.1 for `1.10` and 83 for `0123`.
     */
    strMap(key: string): Record<string, string> {
        const out: Record<string, string> = {};
        for (const [name, v] of Object.entries(this.obj(key))) {
            if (typeof v !== "string") this.add(`${key}.${name}`, `is ${describe(v)}, not text${typeof v === "number" ? " (YAML reads 1.10 as 1.1 and 0123 as 83)" : ""}`, `quote it in Pulumi.${this.stack}.yaml: ${name}: "<value>"`);
            else if (!this.changedByYaml(`${key}.${name}`)) out[name] = v;
        }
        return out;
    }

    /** A map; {} when absent or not a map (then reported). */
    obj(key: string): Record<string, unknown> {
        const v = this.json(key);
        if (v === undefined) return {};
        if (typeof v !== "object" || v === null || Array.isArray(v)) {
            this.add(key, "must be a map of name: value", `write it as a YAML map under visualkit:${key} in Pulumi.${this.stack}.yaml`);
            return {};
        }
        return v as Record<string, unknown>;
    }

    oneOf<T extends string>(key: string, allowed: readonly T[]): T | undefined {
        const v = this.str(key);
        if (v === undefined) return undefined;
        if ((allowed as readonly string[]).includes(v)) return v as T;
        this.add(key, `must be one of ${allowed.join(", ")}, not "${v}"`, this.setCmd(key, allowed[0]));
        return undefined;
    }

    /** `value` when `check` finds nothing wrong with it; otherwise reported with `example` in the fix. */
    checked(key: string, value: string | undefined, check: (v: string) => string | undefined, example: string): string | undefined {
        if (value === undefined) return undefined;
        const why = check(value);
        if (why) {
            this.add(key, `"${value}" ${why}`, this.setCmd(key, example));
            return undefined;
        }
        return value;
    }

    /** Whether a key must be set now: required, or required because the key it goes with is set (`requiredWith`). */
    requiredNow(key: string): boolean {
        const s = this.spec(key);
        if (s.requiredWith === undefined) return !s.optional;
        const w = this.rawOf(s.requiredWith) ?? "";
        return w !== "" && w.trim().startsWith(s.requiredWithPrefix ?? "");
    }

    secret(key: string, required: boolean): SecretString | undefined {
        const v = this.rawOf(key);
        if (v === undefined || v === "") {
            if (required) this.add(key, "is a required secret and is not set", this.setCmd(key, "<value>", true));
            return undefined;
        }
        return new SecretString(v);
    }

    private json(key: string): unknown {
        const v = this.rawOf(key);
        if (v === undefined) return undefined;
        try {
            return JSON.parse(v);
        } catch {
            return v;
        }
    }
}

/** A JSON value as a user would name it in a problem. */
export function describe(v: unknown): string {
    if (v === null) return "empty (null)";
    if (Array.isArray(v)) return "a list";
    if (typeof v === "object") return "a map";
    if (typeof v === "number") return `the number ${v}`;
    if (typeof v === "boolean") return `the boolean ${v}`;
    return `the text ${JSON.stringify(String(v)).slice(0, 80)}`;
}
