import type { ConfigIssue } from "./issues";
import { fullKey, KEYS, type KeySpec } from "./keys";
import type { RawConfig } from "./raw";
import { SecretString } from "./secret";

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

    /** Trimmed; the declared default when absent; reported when required and absent. */
    str(key: string): string | undefined {
        const v = this.rawOf(key);
        const d = this.spec(key).default;
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
        if (/^\d+$/.test(v)) return Number(v);
        this.add(key, `must be a whole number, not "${v}"`, this.setCmd(key, "<number>"));
        return undefined;
    }

    list(key: string): string[] | undefined {
        const v = this.rawOf(key) === undefined ? this.spec(key).default : this.json(key);
        if (v === undefined) {
            if (!this.spec(key).optional) this.add(key, "is required", `add it as a YAML list in Pulumi.${this.stack}.yaml (${this.spec(key).description})`);
            return undefined;
        }
        if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
            this.add(key, "must be a list of strings", `write it as a YAML list under visualkit:${key} in Pulumi.${this.stack}.yaml`);
            return undefined;
        }
        return v.map((x: string) => x.trim());
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
