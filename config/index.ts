import { statSync } from "node:fs";
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { deepFreeze } from "../catalog";
import type { Catalog } from "../catalog/types";
import { listFolder } from "../lib/folder";
import { ConfigError } from "./issues";
import { KEYS, PROVIDER_SECRETS, fullKey } from "./keys";
import { parseConfig, type FolderFacts, type LocalFacts } from "./parse";
import type { PlatformConfig } from "./types";

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
 * The one place that reads stack config, the provider-credential environment variables and SSH_AUTH_SOCK. Returns the
 * validated, frozen config and the catalog built from it, or throws a ConfigError listing every problem.
 */
export function loadConfig(): { config: PlatformConfig; catalog: Catalog } {
    const values = pulumi.runtime.allConfig();
    const secretKeys = new Set(
        [...KEYS.filter((k) => k.secret).map((k) => fullKey(k.key)), ...PROVIDER_SECRETS.map((p) => p.key)].filter((k) => runtimeConfig.isConfigSecret(k)),
    );
    const env = Object.fromEntries(PROVIDER_SECRETS.map((p) => [p.env, process.env[p.env]]));
    const stack = pulumi.getStack();
    const local = localFacts(process.env, pulumi.runtime.hasEngine() && !pulumi.runtime.isDryRun());
    const { config, catalog, issues } = parseConfig({ project: pulumi.getProject(), stack, values, secretKeys, env, local });
    if (!config || !catalog) throw new ConfigError(stack, issues);
    return { config: deepFreeze(config), catalog };
}
