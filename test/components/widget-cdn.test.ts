import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packFolder } from "../../lib/tar";
import { runProgram } from "../helpers/program";

/** The widget CDN in the program's graph: the folder always, the sync only with visualkit:widgetCdnSourceDir. */

let src: string;
beforeAll(() => {
    src = mkdtempSync(join(tmpdir(), "widget-src-"));
    mkdirSync(join(src, "v1"));
    writeFileSync(join(src, "sdk.js"), "console.log('widget')");
    writeFileSync(join(src, "v1", "widget.css"), "a{}");
});
afterAll(() => rmSync(src, { recursive: true, force: true }));

test("without a source folder: the folder and link are ensured after readiness, files are left alone", async () => {
    const run = await runProgram("prod");
    const folder = run.named("visualkit-prod-widget-cdn-folder");
    expect(folder.rawInputs.create).toContain("install -d -m 0755 '/mnt/data/widget-cdn'");
    expect(folder.rawInputs.create).toContain("ln -sfn '/mnt/data/widget-cdn' '/opt/widget-cdn'");
    expect(folder.options.dependsOn).toEqual(["visualkit-prod-main-ready"]);
    expect(run.resources.filter((r) => r.name.startsWith("visualkit-prod-widget-cdn-")).map((r) => r.name)).toEqual(["visualkit-prod-widget-cdn-folder"]);
});

test("with a source folder: one upload and one sync, both triggered on the content hash", async () => {
    const run = await runProgram("prod", { set: { widgetCdnSourceDir: src } });
    const hash = packFolder(src).sha256;
    const upload = run.named("visualkit-prod-widget-cdn-upload");
    const sync = run.named("visualkit-prod-widget-cdn-sync");
    expect(upload.type).toBe("command:remote:CopyFile");
    expect(upload.rawInputs.remotePath).toBe(`/var/tmp/visualkit-widget-cdn-${hash.slice(0, 16)}.tar.gz`);
    expect((upload.rawInputs.triggers as string[])[0]).toBe(hash);
    expect(upload.options.ignoreChanges).toEqual(["localPath"]);
    expect((sync.rawInputs.triggers as string[])[0]).toBe(hash);
    expect(sync.rawInputs.create).toContain(`tar -xzf '${upload.rawInputs.remotePath}'`);
    expect(sync.options.dependsOn).toEqual([upload.name]);
    expect(upload.options.dependsOn).toEqual(["visualkit-prod-widget-cdn-folder"]);
});

test("a source folder that does not exist is a clear error naming the key", async () => {
    await expect(runProgram("prod", { set: { widgetCdnSourceDir: join(src, "missing") } })).rejects.toThrow(/visualkit:widgetCdnSourceDir: .*missing is not a folder/);
});
