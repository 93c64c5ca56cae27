import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { listFolder } from "../lib/folder";
import type { FolderFacts, LocalFacts } from "./raw";
import { readStackYaml, type WrittenScalar } from "./stack-yaml";

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
    const { dirs, files, broken, linkedFolders } = listFolder(abs);
    const vcs = [...dirs, ...files].filter((p) => VCS_METADATA.test(p));
    const keyLike = files.filter((f) => !VCS_INSIDE.test(f) && (KEY_FILE_NAME.test(f) || holdsPrivateKey(join(abs, f))));
    return { kind: "folder", path: abs, files: files.length, broken, linkedFolders, vcs, keyLike };
}

/** Version-control metadata (a `.git` file is a worktree's or submodule's link to its repository). */
const VCS_METADATA = /(^|\/)(\.git|\.hg|\.svn|\.bzr|_darcs|CVS)$/;
const VCS_INSIDE = /(^|\/)(\.git|\.hg|\.svn|\.bzr|_darcs)\//;

/** File names that hold keys or credentials: SSH identities, PEM/PKCS#12 keys and keystores, env and credential files. */
const KEY_FILE_NAME = /(^|\/)(id_(rsa|dsa|ecdsa|ed25519)(_sk)?|[^/]*\.(pem|key|p12|pfx|jks|keystore|kdbx|ppk)|\.env(\.[^/]*)?|\.netrc|\.npmrc|\.pgpass|credentials(\.json)?|[^/]*secrets?\.(json|ya?ml|env))$/i;

/** Whether a file's first 8 KB hold a PEM or OpenSSH private key block. */
function holdsPrivateKey(file: string): boolean {
    const buf = Buffer.alloc(8192);
    let fd: number | undefined;
    try {
        fd = openSync(file, "r");
        const n = readSync(fd, buf, 0, buf.length, 0);
        return /-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----/.test(buf.toString("latin1", 0, n));
    } catch {
        return false;
    } finally {
        if (fd !== undefined) closeSync(fd);
    }
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
 * How `root`/Pulumi.<stack>.yaml wrote each scalar that is not a YAML string (config/stack-yaml.ts), kept only for
 * keys whose value the engine handed over unchanged from that file: a value from `--config`, an ESC environment or a
 * test's override is not the file's. {} when there is no such file.
 */
export function writtenInStackFile(root: string, project: string, stack: string, values: Readonly<Record<string, string>>): Record<string, WrittenScalar> {
    let text: string;
    try {
        text = readFileSync(join(root, `Pulumi.${stack}.yaml`), "utf8");
    } catch {
        return {};
    }
    const file = readStackYaml(text, project, `Pulumi.${stack}.yaml`, "");
    const top = (path: string) => path.match(/^[^.[]+/)?.[0] ?? path;
    return Object.fromEntries(Object.entries(file.written).filter(([path]) => file.values[top(path)] !== undefined && file.values[top(path)] === values[top(path)]));
}
