import { statSync } from "node:fs";
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { listFolder } from "../lib/folder";
import { KEYS, PROVIDER_SECRETS, fullKey } from "./keys";
import type { FolderFacts, LocalFacts, RawConfig } from "./raw";

export { ConfigError } from "./issues";
export { SecretString, SECRET_PLACEHOLDER } from "./secret";
export type { PlatformConfig } from "./types";

// The SDK keeps secret-key lookup internal; it is the only way to tell "set with --secret" from plain text.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };

/** A local folder as the widget sync would upload it; paths relative to the working folder (the project's). */
export function inspectFolder(path: string): FolderFacts {
    const abs = resolve(path);
    const st = statSync(abs, { throwIfNoEntry: false });
    if (!st) return { kind: "missing", path: abs };
    if (!st.isDirectory()) return { kind: "file", path: abs };
    const { files, broken, linkedFolders } = listFolder(abs);
    return { kind: "folder", path: abs, files: files.length, broken, linkedFolders };
}

/**
 * The local facts config validation checks. The agent only matters when SSH steps really run: a `pulumi up` with an
 * engine, not a preview and not the offline render (mocks have no engine), so neither depends on this machine's agent.
 */
export function localFacts(env: NodeJS.ProcessEnv, deploying: boolean): LocalFacts {
    if (!deploying) return { folder: inspectFolder };
    const socket = env.SSH_AUTH_SOCK || undefined;
    const state = socket === undefined ? "unset" : statSync(socket, { throwIfNoEntry: false })?.isSocket() ? "running" : "stale";
    return { folder: inspectFolder, sshAgent: { state, socket } };
}

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
    const local = localFacts(process.env, pulumi.runtime.hasEngine() && !pulumi.runtime.isDryRun());
    return { project: pulumi.getProject(), stack: pulumi.getStack(), values, secretKeys, env, local };
}
