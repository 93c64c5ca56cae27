import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { shellQuote } from "../../../lib/shipped";
import type { RecordedResource } from "../../../mocks/runtime";
import type { ProcResult } from "./proc";
import type { Ssh } from "./ssh";

/**
 * Replays one resource of the command provider against the host the way @pulumi/command 1.x runs it: a remote
 * Command opens one SSH session, sends each `environment` entry as an SSH "env" request (sshd keeps only what it
 * AcceptEnv's), pipes `stdin` and runs `create` as the session's command; a file copy puts the local file at
 * `remotePath`. Returns what the step printed; a failed step throws with its output.
 */

export const COMMAND_TYPES = ["command:remote:Command", "command:remote:CopyFile", "command:remote:CopyToRemote"];

export async function replayCommand(ssh: Ssh, r: RecordedResource, timeoutMs = 900_000): Promise<ProcResult> {
    const inputs = r.rawInputs;
    switch (r.type) {
        case "command:remote:Command": {
            if (typeof inputs.create !== "string") throw new Error(`${r.name}: no create command to replay`);
            const result = await ssh.exec(inputs.create, {
                stdin: typeof inputs.stdin === "string" ? inputs.stdin : undefined,
                env: inputs.environment as Record<string, string> | undefined,
                timeoutMs,
            });
            if (result.code !== 0) throw new Error(`${r.name} exited ${result.code}:\n${(result.stderr + result.stdout).trim()}`);
            return result;
        }
        case "command:remote:CopyFile":
            await ssh.copy(String(inputs.localPath), String(inputs.remotePath), timeoutMs);
            return { code: 0, stdout: "", stderr: "", ms: 0 };
        case "command:remote:CopyToRemote": {
            // 1.x: `source` is an asset or archive; the mock runtime records a FileAsset as { fileAsset: <path> } and a
            // FileArchive as { fileArchive: <path> } (the engine's serialization), an asset object as its `path`.
            const source = inputs.source as { path?: string; fileAsset?: string; fileArchive?: string } | undefined;
            const remotePath = String(inputs.remotePath);
            if (source?.fileArchive !== undefined) {
                await copyFolder(ssh, source.fileArchive, remotePath, timeoutMs);
                return { code: 0, stdout: "", stderr: "", ms: 0 };
            }
            const path = source?.fileAsset ?? source?.path;
            if (!path) throw new Error(`${r.name}: only file assets and folder archives (a path) can be replayed, got ${JSON.stringify(source)}`);
            await ssh.copy(path, remotePath, timeoutMs);
            return { code: 0, stdout: "", stderr: "", ms: 0 };
        }
        default:
            throw new Error(`${r.name}: ${r.type} is not a command resource`);
    }
}

/**
 * A folder archive as command 1.2.1 copies it: a path ending in `/` puts the folder's files into `remotePath`, one
 * without puts the folder itself there as `remotePath/<name>`; links to files arrive as files. Sent here as one tar
 * stream (GNU tar, links followed) rather than file by file over SFTP: the same files, far fewer round trips.
 */
export async function copyFolder(ssh: Pick<Ssh, "exec">, localPath: string, remotePath: string, timeoutMs: number): Promise<void> {
    if (!statSync(localPath, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`${localPath}: a folder archive's path must be a folder here`);
    const into = localPath.endsWith("/") ? remotePath : `${remotePath.replace(/\/+$/, "")}/${localPath.replace(/\/+$/, "").split("/").pop()}`;
    const stream = execFileSync("tar", ["-C", localPath, "--dereference", "-cf", "-", "."], { maxBuffer: 1 << 30 });
    const quoted = shellQuote(into);
    const result = await ssh.exec(`mkdir -p ${quoted} && tar -xf - -C ${quoted} --no-same-owner`, { stdin: stream, timeoutMs });
    if (result.code !== 0) throw new Error(`copying ${localPath} to ${into} failed (${result.code}): ${(result.stderr + result.stdout).trim()}`);
}
