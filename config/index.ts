import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../lib/shipped";
import { localFacts } from "./local";
import { KEYS, PROVIDER_SECRETS, fullKey } from "./keys";
import type { RawConfig } from "./raw";
import { readStackYaml, type WrittenScalar } from "./stack-yaml";

export { ConfigError } from "./issues";
export { SecretString, SECRET_PLACEHOLDER } from "./secret";
export type { PlatformConfig } from "./types";

// The SDK keeps secret-key lookup internal; it is the only way to tell "set with --secret" from plain text.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };

/**
 * The one place that reads stack config, the provider-credential environment variables and SSH_AUTH_SOCK, as the
 * raw values config/parse.ts normalizes (stack/index.ts validates them with the catalog and throws once).
 */
export function readRawConfig(): RawConfig {
    const values = pulumi.runtime.allConfig();
    const secretKeys = new Set(
        [...KEYS.filter((k) => k.secret).map((k) => fullKey(k.key)), ...PROVIDER_SECRETS.map((p) => p.key)].filter((k) => runtimeConfig.isConfigSecret(k)),
    );
    const env = Object.fromEntries(PROVIDER_SECRETS.map((p) => [p.env, process.env[p.env]]));
    const engine = pulumi.runtime.hasEngine() ? (pulumi.runtime.isDryRun() ? "preview" : "up") : undefined;
    const local = { ...localFacts(process.env, engine === "up"), engine } as const;
    const written = writtenInStackFile(pulumi.getProject(), pulumi.getStack(), values);
    return { project: pulumi.getProject(), stack: pulumi.getStack(), values, secretKeys, env, local, written };
}

/**
 * How Pulumi.<stack>.yaml wrote each scalar that is not a YAML string, kept only for keys whose value the engine
 * handed over unchanged from that file (a value from `--config` or an ESC environment is not the file's).
 */
function writtenInStackFile(project: string, stack: string, values: Record<string, string>): Record<string, WrittenScalar> {
    let text: string;
    try {
        text = readFileSync(join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), "utf8");
    } catch {
        return {};
    }
    const file = readStackYaml(text, project, `Pulumi.${stack}.yaml`, "");
    const top = (path: string) => path.match(/^[^.[]+/)?.[0] ?? path;
    return Object.fromEntries(Object.entries(file.written).filter(([path]) => file.values[top(path)] !== undefined && file.values[top(path)] === values[top(path)]));
}
