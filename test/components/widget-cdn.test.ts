import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { ARCHIVE_CACHE_DIR } from "../../components/widget-cdn";
import { packFolder } from "../../lib/tar";
import { ROOT, runProgram } from "../helpers/program";

/** The widget CDN in the program's graph: the folder always, the sync only with visualkit:widgetCdnSourceDir. */

/** The local file the upload sends (its FileAsset's path). */
const localPath = (upload: { rawInputs: Record<string, unknown> }): string => String((upload.rawInputs.source as { fileAsset?: string }).fileAsset);

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
    expect(folder.rawInputs.create).toContain("folder='/mnt/data/widget-cdn'");
    expect(folder.rawInputs.create).toContain("releases='/mnt/data/widget-cdn-releases'");
    expect(folder.rawInputs.create).toContain("root='/opt/widget-cdn'");
    expect(folder.options.dependsOn).toEqual(["visualkit-prod-main-ready"]);
    expect(run.resources.filter((r) => r.name.startsWith("visualkit-prod-widget-cdn-")).map((r) => r.name)).toEqual(["visualkit-prod-widget-cdn-folder"]);
});

test("with a source folder: one upload and one sync, both triggered on the content hash", async () => {
    const run = await runProgram("prod", { set: { widgetCdnSourceDir: src } });
    const hash = packFolder(src).sha256;
    const upload = run.named("visualkit-prod-widget-cdn-upload");
    const sync = run.named("visualkit-prod-widget-cdn-sync");
    expect(upload.type).toBe("command:remote:CopyToRemote");
    expect(upload.rawInputs.remotePath).toBe(`/var/tmp/visualkit-widget-cdn-${hash.slice(0, 16)}.tar.gz`);
    expect((upload.rawInputs.triggers as string[])[0]).toBe(hash);
    // The same path on every machine (laptop, CI): relative to the project, named by the content only.
    // A file asset: Pulumi hashes the file and records the hash, so new content is a diff of its own.
    expect(upload.rawInputs.source).toEqual({ fileAsset: `${ARCHIVE_CACHE_DIR}/${hash}.tar.gz` });
    expect(isAbsolute(localPath(upload))).toBe(false);
    expect(upload.options.ignoreChanges).toBeUndefined();
    expect((sync.rawInputs.triggers as string[])[0]).toBe(hash);
    // The sync removes the archive: a new sync script (same content) must come with a new upload.
    expect(upload.rawInputs.triggers).toContain(sync.rawInputs.create);
    expect(sync.rawInputs.triggers).toEqual(upload.rawInputs.triggers);
    expect(sync.rawInputs.create).toContain(`archive='${upload.rawInputs.remotePath}'`);
    expect(sync.rawInputs.create).toContain(`"$releases/${hash.slice(0, 16)}.XXXXXX"`);
    expect(sync.options.dependsOn).toEqual([upload.name]);
    expect(upload.options.dependsOn).toEqual(["visualkit-prod-widget-cdn-folder"]);
});

test("a source folder that does not exist is a clear error naming the key", async () => {
    await expect(runProgram("prod", { set: { widgetCdnSourceDir: join(src, "missing") } })).rejects.toThrow(/visualkit:widgetCdnSourceDir: .*missing does not exist/);
});

test("a second deploy with other content uploads the new content from a new path", async () => {
    const next = mkdtempSync(join(tmpdir(), "widget-src-"));
    try {
        writeFileSync(join(next, "sdk.js"), "console.log('widget v2')");
        const upload = async (dir: string) => (await runProgram("prod", { set: { widgetCdnSourceDir: dir } })).named("visualkit-prod-widget-cdn-upload");
        const first = (await upload(src)).rawInputs;
        const latest = await upload(next);
        const second = latest.rawInputs;
        expect(localPath(latest)).not.toBe(localPath({ rawInputs: first }));
        expect(second.remotePath).not.toBe(first.remotePath);
        expect((second.triggers as string[])[0]).not.toBe((first.triggers as string[])[0]);
        // What the provider gets: Pulumi fills an ignored property from the state, on a replacement too. It reads the
        // path relative to the project folder (its working directory).
        const sent = (latest.options.ignoreChanges ?? []).includes("source") ? localPath({ rawInputs: first }) : localPath(latest);
        const uploaded = gunzipSync(readFileSync(resolve(ROOT, String(sent)))).toString("latin1");
        expect(uploaded).toContain("console.log('widget v2')");
        expect(uploaded).not.toContain("console.log('widget')");
    } finally {
        rmSync(next, { recursive: true, force: true });
    }
});

test("archives of other content are removed once a day old; younger ones may belong to a concurrent run", async () => {
    const cache = resolve(ROOT, ARCHIVE_CACHE_DIR);
    mkdirSync(cache, { recursive: true });
    const stale = join(cache, `${"0".repeat(63)}1.tar.gz`);
    const fresh = join(cache, `${"0".repeat(63)}2.tar.gz`);
    writeFileSync(stale, "old");
    writeFileSync(fresh, "other stack");
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    utimesSync(stale, twoDaysAgo, twoDaysAgo);
    try {
        // fresh: the removal is a side effect of the run itself, which a shared result would skip.
        const run = await runProgram("prod", { set: { widgetCdnSourceDir: src }, fresh: true });
        expect(existsSync(resolve(ROOT, localPath(run.named("visualkit-prod-widget-cdn-upload"))))).toBe(true);
        expect(existsSync(stale)).toBe(false);
        expect(existsSync(fresh)).toBe(true);
    } finally {
        rmSync(stale, { force: true });
        rmSync(fresh, { force: true });
    }
});
