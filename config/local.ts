import { statSync } from "node:fs";
import { resolve } from "node:path";
import { listFolder } from "../lib/folder";
import type { FolderFacts, LocalFacts } from "./raw";

/*
 * What config validation learns from this machine (a folder, the SSH agent), without the Pulumi SDK: the offline
 * parse (tests, the policy pack, scripts) imports this, not config/index.ts, and so does not load the SDK.
 */

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
