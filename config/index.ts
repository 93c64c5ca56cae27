import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { localFacts, writtenInStackFile } from "./local";
import { KEYS, PROVIDER_SECRETS, fullKey } from "./keys";
import type { RawConfig } from "./raw";

/** The project folder (Pulumi.yaml and the stack files): this folder's parent, as the program runs from its sources. */
const PROJECT_DIR = join(__dirname, "..");

export { ConfigError } from "./issues";
export { SecretString, SECRET_PLACEHOLDER } from "./secret";
export type { PlatformConfig } from "./types";

// The SDK keeps secret-key lookup internal; it is the only way to tell "set with --secret" from plain text.
const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };

/**
 * The one place that reads stack config, the provider-credential environment variables and SSH_AUTH_SOCK, as the
 * raw values config/parse.ts normalizes (stack/index.ts validates them with the catalog and throws once), with how
 * Pulumi.<stack>.yaml wrote them (the engine hands `caddyVersion: 2.10` over as "2.1"; only the file shows the 2.10)
 * and whether a real engine (preview or up) runs the program.
 */
export function readRawConfig(): RawConfig {
    const values = pulumi.runtime.allConfig();
    const secretKeys = new Set(
        [...KEYS.filter((k) => k.secret).map((k) => fullKey(k.key)), ...PROVIDER_SECRETS.map((p) => p.key)].filter((k) => runtimeConfig.isConfigSecret(k)),
    );
    const env = Object.fromEntries(PROVIDER_SECRETS.map((p) => [p.env, process.env[p.env]]));
    const engine = pulumi.runtime.hasEngine() ? (pulumi.runtime.isDryRun() ? "preview" : "up") : undefined;
    const local = { ...localFacts(process.env, engine === "up"), engine } as const;
    const written = writtenInStackFile(PROJECT_DIR, pulumi.getProject(), pulumi.getStack(), values);
    return { project: pulumi.getProject(), stack: pulumi.getStack(), values, secretKeys, env, local, written };
}
