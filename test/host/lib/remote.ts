import type { RecordedResource } from "../../../mocks/runtime";
import type { ProcResult } from "./proc";
import type { Ssh } from "./ssh";

/**
 * Replays one resource of the command provider against the VM the way @pulumi/command 1.x runs it: a remote
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
            // 1.x: `source` is an asset or archive; the mock runtime records a FileAsset as { fileAsset: <path> }
            // (the engine's serialization), an asset object as its `path`.
            const asset = inputs.source as { path?: string; fileAsset?: string } | undefined;
            const source = asset?.fileAsset !== undefined ? { path: asset.fileAsset } : asset;
            if (!source?.path) throw new Error(`${r.name}: only file assets (a path) can be replayed, got ${JSON.stringify(source)}`);
            await ssh.copy(source.path, String(inputs.remotePath), timeoutMs);
            return { code: 0, stdout: "", stderr: "", ms: 0 };
        }
        default:
            throw new Error(`${r.name}: ${r.type} is not a command resource`);
    }
}
