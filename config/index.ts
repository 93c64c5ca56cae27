import * as pulumi from "@pulumi/pulumi";
import { deepFreeze } from "../catalog";
import type { Catalog } from "../catalog/types";
import { ConfigError } from "./issues";
import { KEYS, PROVIDER_SECRETS, fullKey } from "./keys";
import { parseConfig } from "./parse";
import type { PlatformConfig } from "./types";

export { ConfigError } from "./issues";
export { SecretString, SECRET_PLACEHOLDER } from "./secret";
export type { PlatformConfig } from "./types";

// The SDK keeps secret-key lookup internal; it is the only way to tell "set with --secret" from plain text.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };

/**
 * The one place that reads stack config (and the two provider-credential environment variables). Returns the
 * validated, frozen config and the catalog built from it, or throws a ConfigError listing every problem.
 */
export function loadConfig(): { config: PlatformConfig; catalog: Catalog } {
    const values = pulumi.runtime.allConfig();
    const secretKeys = new Set(
        [...KEYS.filter((k) => k.secret).map((k) => fullKey(k.key)), ...PROVIDER_SECRETS.map((p) => p.key)].filter((k) => runtimeConfig.isConfigSecret(k)),
    );
    const env = Object.fromEntries(PROVIDER_SECRETS.map((p) => [p.env, process.env[p.env]]));
    const stack = pulumi.getStack();
    const { config, catalog, issues } = parseConfig({ project: pulumi.getProject(), stack, values, secretKeys, env });
    if (!config || !catalog) throw new ConfigError(stack, issues);
    return { config: deepFreeze(config), catalog };
}
