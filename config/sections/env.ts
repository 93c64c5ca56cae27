import { PLATFORM_API_DERIVED_ENV, VK_AGENT_DERIVED_ENV } from "../../catalog/input";
import type { ConfigReader } from "../reader";
import { SecretString } from "../secret";
import { ENV_NAME } from "../validators";

/** The containers' own environment variables, plain and secret, and the Gemini key vk-agent is given. */
export interface EnvSection {
    readonly env: { readonly platformApi: Readonly<Record<string, string>>; readonly vkAgent: Readonly<Record<string, string>> };
    readonly secretEnv: { readonly platformApi: Readonly<Record<string, SecretString>> };
    readonly geminiApiKey?: SecretString;
}

export function readEnv(r: ConfigReader): EnvSection {
    const envMap = (key: string): Record<string, string> => {
        const out: Record<string, string> = {};
        for (const [name, v] of Object.entries(r.obj(key))) {
            if (!ENV_NAME.test(name)) r.add(`${key}.${name}`, `"${name}" is not a valid environment variable name (letters, digits, underscore; not starting with a digit)`, `rename it in Pulumi.${r.stack}.yaml`);
            else if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") r.add(`${key}.${name}`, "must be a string, number or boolean", `quote the value in Pulumi.${r.stack}.yaml`);
            else out[name] = String(v);
        }
        return out;
    };
    const platformApi = envMap("platformApiEnv");
    const vkAgent = envMap("vkAgentEnv");
    for (const name of Object.keys(vkAgent).filter((n) => (VK_AGENT_DERIVED_ENV as readonly string[]).includes(n))) {
        r.add(`vkAgentEnv.${name}`, "is set by the program (derived from the catalog, or from geminiApiKey)", `remove it from visualkit:vkAgentEnv in Pulumi.${r.stack}.yaml`);
    }
    const secretEnv = Object.fromEntries(Object.entries(envMap("platformApiSecretEnv")).map(([k, v]) => [k, new SecretString(v)]));
    for (const [key, names] of [["platformApiEnv", Object.keys(platformApi)], ["platformApiSecretEnv", Object.keys(secretEnv)]] as const) {
        for (const name of names.filter((n) => (PLATFORM_API_DERIVED_ENV as readonly string[]).includes(n))) {
            r.add(`${key}.${name}`, "is set by the program (Janus's internal URL, its generated token secret and plugin admin keys)", `remove it from visualkit:${key} in Pulumi.${r.stack}.yaml`);
        }
    }
    for (const name of Object.keys(secretEnv).filter((n) => n in platformApi)) {
        r.add(`platformApiSecretEnv.${name}`, `is also set in visualkit:platformApiEnv; a container gets each variable once`, `keep it in one of the two (a secret belongs in platformApiSecretEnv): remove visualkit:platformApiEnv.${name} from Pulumi.${r.stack}.yaml`);
    }
    return { env: { platformApi, vkAgent }, secretEnv: { platformApi: secretEnv }, geminiApiKey: r.secret("geminiApiKey", true) };
}
