import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { listFolder } from "../../config/folder";
import { renderWidgetFolderScript, renderWidgetSyncScript } from "../../render/widget-cdn";
import { copyFolder, replayCommand } from "./lib/remote";
import { run } from "./lib/proc";
import type { Ssh } from "./lib/ssh";

/**
 * The real-host tier's replay of the widget upload (a FileArchive of the source folder), run against this machine
 * instead of the VM: `exec` runs the SSH session's command in a local shell, as sshd would on the VM.
 */

let work: string;
beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "replay-"));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const local = { exec: (command: string, opts: { stdin?: string | Buffer } = {}) => run("/bin/sh", ["-c", command], { input: opts.stdin }) } as unknown as Ssh;

function put(root: string, files: Record<string, string>): void {
    for (const [rel, text] of Object.entries(files)) {
        mkdirSync(dirname(join(root, rel)), { recursive: true });
        writeFileSync(join(root, rel), text);
    }
}

const LONG = `${"deep/".repeat(25)}widget.js`;

function source(): string {
    const src = join(work, "dist");
    put(src, { "sdk.js": "console.log(1)", "v1/widget.css": "a{}", [LONG]: "x".repeat(700) });
    symlinkSync("sdk.js", join(src, "latest.js"));
    return src;
}

test("a folder archive whose path ends in / lands as the folder's files in remotePath; without it, as remotePath/<name>", async () => {
    const src = source();
    await copyFolder(local, `${src}/`, join(work, "staged"), 10_000);
    expect(listFolder(join(work, "staged")).files).toEqual(listFolder(src).files);
    await copyFolder(local, src, join(work, "into"), 10_000);
    expect(listFolder(join(work, "into", "dist")).files).toEqual(listFolder(src).files);
});

test("the recorded upload, replayed and synced, serves exactly the source folder's files (links to files as files)", async () => {
    const src = source();
    const [folder, root, staged] = [join(work, "data", "widget-cdn"), join(work, "opt", "widget-cdn"), join(work, "var", "visualkit-widget-cdn-0123456789abcdef")];
    const upload = { type: "command:remote:CopyToRemote", name: "upload", rawInputs: { source: { fileArchive: `${src}/` }, remotePath: staged } };
    await replayCommand(local, upload as unknown as Parameters<typeof replayCommand>[1]);
    for (const script of [renderWidgetFolderScript(folder, root), renderWidgetSyncScript(staged, folder, "0123456789abcdef")]) {
        const res = spawnSync("/bin/sh", ["-c", script], { encoding: "utf8" });
        expect(res.stderr).toBe("");
        expect(res.status).toBe(0);
    }
    const served = listFolder(root);
    expect(served.files).toEqual(listFolder(src).files);
    for (const f of served.files) expect(readFileSync(join(root, f))).toEqual(readFileSync(join(src, f)));
    expect(served.linkedFolders).toEqual([]);
    expect(spawnSync("find", [root + "/", "-type", "l"], { encoding: "utf8" }).stdout).toBe("");
});
