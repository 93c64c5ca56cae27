import { PLATFORM_API_DERIVED_ENV, VK_AGENT_DERIVED_ENV } from "../../catalog/input";
import type { ConfigReader } from "../reader";
import { SecretString } from "../secret";
import { ENV_NAME, SECRET_ENV_NAME } from "../validators";

/** The containers' own environment variables, plain and secret, and the Gemini key vk-agent is given. */
export interface EnvSection {
    readonly env: { readonly platformApi: Readonly<Record<string, string>>; readonly vkAgent: Readonly<Record<string, string>> };
    readonly secretEnv: { readonly platformApi: Readonly<Record<string, SecretString>> };
    readonly geminiApiKey?: SecretString;
}

/**
 * Linux refuses to start a program when one "NAME=value" string is longer than MAX_ARG_STRLEN (32 pages, 128 KiB;
 * include/uapi/linux/binfmts.h): the container would fail on every start with "argument list too long".
 */
export const MAX_ENV_ENTRY_BYTES = 128 * 1024;

export function readEnv(r: ConfigReader): EnvSection {
    const envMap = (key: string, secret: boolean, derived: readonly string[] = []): Record<string, string> => {
        const out: Record<string, string> = {};
        for (const [name, v] of Object.entries(r.strMap(key))) {
            if (!ENV_NAME.test(name)) r.add(`${key}.${name}`, `"${name}" is not a valid environment variable name (letters, digits, underscore; not starting with a digit)`, `rename it in Pulumi.${r.stack}.yaml`);
            else if (Buffer.byteLength(`${name}=${v}`) + 1 > MAX_ENV_ENTRY_BYTES) r.add(`${key}.${name}`, `is ${Buffer.byteLength(v)} bytes; Linux refuses to start a program with an environment entry over 128 KiB`, "ship it as a file (a volume or the image) and pass its path instead");
            else if (!secret && SECRET_ENV_NAME.test(name) && v !== "" && !derived.includes(name)) {
                // Plain config is committed and lands in rendered/: a credential there is published.
                const where = key === "platformApiEnv" ? `pulumi config set --secret --path 'visualkit:platformApiSecretEnv.${name}' <value> -s ${r.stack}, and remove visualkit:platformApiEnv.${name}` : `keep it out of the committed stack file: vk-agent's only secret is visualkit:geminiApiKey; remove visualkit:vkAgentEnv.${name} and ask for a secret key for it`;
                r.add(`${key}.${name}`, `is named like a credential (${name.match(SECRET_ENV_NAME)![0]}) but is plain config, which is committed and rendered in the open`, where);
            } else out[name] = v;
        }
        return out;
    };
    const platformApi = envMap("platformApiEnv", false, PLATFORM_API_DERIVED_ENV);
    const vkAgent = envMap("vkAgentEnv", false, VK_AGENT_DERIVED_ENV);
    for (const name of Object.keys(vkAgent).filter((n) => (VK_AGENT_DERIVED_ENV as readonly string[]).includes(n))) {
        r.add(`vkAgentEnv.${name}`, "is set by the program (derived from the catalog, or from geminiApiKey)", `remove it from visualkit:vkAgentEnv in Pulumi.${r.stack}.yaml`);
    }
    const secretEnv = Object.fromEntries(Object.entries(envMap("platformApiSecretEnv", true)).map(([k, v]) => [k, new SecretString(v)]));
    for (const [key, names] of [["platformApiEnv", Object.keys(platformApi)], ["platformApiSecretEnv", Object.keys(secretEnv)]] as const) {
        for (const name of names.filter((n) => (PLATFORM_API_DERIVED_ENV as readonly string[]).includes(n))) {
            r.add(`${key}.${name}`, "is set by the program (Janus's internal URL, token secret and plugin admin keys; the TURN URLs, secret and credential lifetime)", `remove it from visualkit:${key} in Pulumi.${r.stack}.yaml`);
        }
    }
    for (const name of Object.keys(secretEnv).filter((n) => n in platformApi)) {
        r.add(`platformApiSecretEnv.${name}`, `is also set in visualkit:platformApiEnv; a container gets each variable once`, `keep it in one of the two (a secret belongs in platformApiSecretEnv): remove visualkit:platformApiEnv.${name} from Pulumi.${r.stack}.yaml`);
    }
    return { env: { platformApi, vkAgent }, secretEnv: { platformApi: secretEnv }, geminiApiKey: r.secret("geminiApiKey", true) };
}
