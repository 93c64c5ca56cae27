import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ConfigError } from "../config/issues";
import { fullKey, KEYS, PROVIDER_SECRETS } from "../config/keys";
import { SECRET_PLACEHOLDER } from "../config/secret";
import { readStackYaml, type WrittenScalar } from "../config/stack-yaml";

/**
 * Reads Pulumi.<stack>.yaml the way the CLI hands it to the program (config/stack-yaml.ts: the CLI's YAML typing,
 * lists and maps as JSON), for the offline render and the policy pack: encrypted (`secure:`) values and missing
 * required secrets as placeholders. A file the CLI would refuse (a key set twice, a map key that is not a string)
 * throws a ConfigError listing every such problem with its line.
 */
export function readStackConfig(
    root: string,
    stack: string,
): { project: string; config: Record<string, string>; secretKeys: string[]; written: Record<string, WrittenScalar> } {
    const project = String((parse(readFileSync(join(root, "Pulumi.yaml"), "utf8")) as { name: string }).name);
    const name = `Pulumi.${stack}.yaml`;
    const file = join(root, name);
    let text: string;
    try {
        text = readFileSync(file, "utf8");
    } catch (e) {
        throw new Error(`cannot read ${file}: ${(e as Error).message}`);
    }
    const read = readStackYaml(text, project, name, SECRET_PLACEHOLDER);
    if (read.problems.length > 0) throw new ConfigError(stack, read.problems);
    const config: Record<string, string> = { ...read.values };
    const secretKeys = new Set(read.secretKeys);
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
    return { project, config, secretKeys: [...secretKeys].sort(), written: read.written };
}
