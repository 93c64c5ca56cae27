import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { fullKey, KEYS, PROVIDER_SECRETS } from "../config/keys";
import { SECRET_PLACEHOLDER } from "../config/secret";

/**
 * Reads Pulumi.<stack>.yaml the way the CLI would hand it to the program, for the offline render: values as
 * strings (lists and maps as JSON), encrypted (`secure:`) values and missing required secrets as placeholders.
 */
export function readStackConfig(root: string, stack: string): { project: string; config: Record<string, string>; secretKeys: string[] } {
    const project = String((parse(readFileSync(join(root, "Pulumi.yaml"), "utf8")) as { name: string }).name);
    const file = join(root, `Pulumi.${stack}.yaml`);
    let doc: { config?: Record<string, unknown> } | null;
    try {
        doc = parse(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
    } catch (e) {
        throw new Error(`cannot read ${file}: ${(e as Error).message}`);
    }
    const config: Record<string, string> = {};
    const secretKeys = new Set<string>();
    for (const [rawKey, value] of Object.entries(doc?.config ?? {})) {
        const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
        let secret = false;
        const redact = (v: unknown): unknown => {
            if (v && typeof v === "object" && !Array.isArray(v) && "secure" in (v as object)) {
                secret = true;
                return SECRET_PLACEHOLDER;
            }
            if (Array.isArray(v)) return v.map(redact);
            if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redact(x)]));
            return v;
        };
        const v = redact(value);
        config[key] = typeof v === "string" ? v : JSON.stringify(v);
        if (secret) secretKeys.add(key);
    }
    // Required secrets that are not in the file render as placeholders too: the render needs no credentials.
    const isSet = (k: string) => (config[fullKey(k)] ?? "") !== "";
    for (const k of KEYS) {
        const required = k.requiredWith ? isSet(k.requiredWith) && config[fullKey(k.requiredWith)].startsWith(k.requiredWithPrefix ?? "") : !k.optional;
        if (k.secret && required && !isSet(k.key)) {
            config[fullKey(k.key)] = SECRET_PLACEHOLDER;
            secretKeys.add(fullKey(k.key));
        }
    }
    for (const p of PROVIDER_SECRETS) {
        if (!isSet(p.key)) {
            config[p.key] = SECRET_PLACEHOLDER;
            secretKeys.add(p.key);
        }
    }
    return { project, config, secretKeys: [...secretKeys].sort() };
}
