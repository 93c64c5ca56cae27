import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { folderContent } from "../../config/folder";
import { ROOT, runProgram } from "../helpers/program";

/** The widget CDN in the program's graph: the folder always, the sync only with visualkit:widgetCdnSourceDir. */

/** The local folder the upload sends (its FileArchive's path). */
const archivePath = (upload: { rawInputs: Record<string, unknown> }): string => String((upload.rawInputs.source as { fileArchive?: string }).fileArchive);

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

test("the component's type names the CDN, and the alias of its old Docker type keeps existing stacks' resources", async () => {
    const run = await runProgram("prod", { set: { widgetCdnSourceDir: src } });
    const cdn = run.named("visualkit-prod-widget-cdn");
    expect(cdn.type).toBe("visualkit:cdn:WidgetCdn");
    expect(cdn.custom).toBe(false);
    // A type change alone would be a new URN: delete the old component and its children, create new ones. The alias
    // says the old URN is this resource; its children's URNs follow their parent's aliases.
    expect(cdn.options.aliases).toEqual([{ type: "visualkit:docker:WidgetCdn" }]);
    const children = run.resources.filter((r) => r.parent === cdn.name);
    expect(children.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
        "command:remote:Command visualkit-prod-widget-cdn-folder",
        "command:remote:Command visualkit-prod-widget-cdn-sync",
        "command:remote:CopyToRemote visualkit-prod-widget-cdn-upload",
    ]);
    for (const child of children) expect(child.options.aliases).toBeUndefined();
});

test("with a source folder: Pulumi uploads the folder itself, and both steps are triggered on the content hash", async () => {
    const run = await runProgram("prod", { set: { widgetCdnSourceDir: src } });
    const hash = folderContent(src).sha256;
    const upload = run.named("visualkit-prod-widget-cdn-upload");
    const sync = run.named("visualkit-prod-widget-cdn-sync");
    expect(upload.type).toBe("command:remote:CopyToRemote");
    // A folder archive: the engine hashes the folder's content itself, so other content is a diff of its own and
    // nothing is packed on this machine. The trailing slash puts the files straight into remotePath.
    expect(upload.rawInputs.source).toEqual({ fileArchive: `${src}/` });
    expect(upload.rawInputs.remotePath).toBe(`/var/tmp/visualkit-widget-cdn-${hash.slice(0, 16)}`);
    expect((upload.rawInputs.triggers as string[])[0]).toBe(hash);
    expect(upload.options.ignoreChanges).toBeUndefined();
    expect((sync.rawInputs.triggers as string[])[0]).toBe(hash);
    // The sync removes the staged copy: a new sync script (same content) must come with a new upload.
    expect(upload.rawInputs.triggers).toContain(sync.rawInputs.create);
    expect(sync.rawInputs.triggers).toEqual(upload.rawInputs.triggers);
    expect(sync.rawInputs.create).toContain(`staged='${upload.rawInputs.remotePath}'`);
    expect(sync.rawInputs.create).toContain(`"$releases/${hash.slice(0, 16)}.XXXXXX"`);
    expect(sync.options.dependsOn).toEqual([upload.name]);
    expect(upload.options.dependsOn).toEqual(["visualkit-prod-widget-cdn-folder"]);
});

test("a relative source folder stays relative in the state, so every laptop and CI runner records the same path", async () => {
    const rel = relative(process.cwd(), src);
    const upload = (await runProgram("prod", { set: { widgetCdnSourceDir: `${rel}//` } })).named("visualkit-prod-widget-cdn-upload");
    expect(archivePath(upload)).toBe(`${rel}/`);
    expect((upload.rawInputs.triggers as string[])[0]).toBe(folderContent(src).sha256);
});

test("a source folder that does not exist is a clear error naming the key", async () => {
    await expect(runProgram("prod", { set: { widgetCdnSourceDir: join(src, "missing") } })).rejects.toThrow(/visualkit:widgetCdnSourceDir: .*missing does not exist/);
});

test("a second deploy with other content uploads to a new path with new triggers", async () => {
    const next = mkdtempSync(join(tmpdir(), "widget-src-"));
    try {
        writeFileSync(join(next, "sdk.js"), "console.log('widget v2')");
        const upload = async (dir: string) => (await runProgram("prod", { set: { widgetCdnSourceDir: dir } })).named("visualkit-prod-widget-cdn-upload");
        const first = (await upload(src)).rawInputs;
        const second = (await upload(next)).rawInputs;
        expect(second.source).toEqual({ fileArchive: `${next}/` });
        expect(second.remotePath).not.toBe(first.remotePath);
        expect((second.triggers as string[])[0]).not.toBe((first.triggers as string[])[0]);
    } finally {
        rmSync(next, { recursive: true, force: true });
    }
});

/**
 * Every file under the project with its size and modification time: the repository, and node_modules/.cache where
 * tools keep caches. Not node_modules/.cache/visualkit-ts: scripts/run-ts.js (the `npm run` scripts, which other
 * test files spawn in parallel) keeps its transpile cache there, and this process runs no script.
 */
function projectFiles(): Map<string, string> {
    const out = new Map<string, string>();
    const skip = new Set([".git", "node_modules"].map((d) => join(ROOT, d)).concat(join(ROOT, "node_modules", ".cache", "visualkit-ts")));
    const walk = (dir: string) => {
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
            const full = join(dir, entry.name);
            if (skip.has(full)) continue;
            if (entry.isDirectory()) walk(full);
            else {
                const st = statSync(full, { throwIfNoEntry: false });
                out.set(relative(ROOT, full), st ? `${st.size} ${st.mtimeMs}` : "gone");
            }
        }
    };
    walk(ROOT);
    if (statSync(join(ROOT, "node_modules", ".cache"), { throwIfNoEntry: false })) walk(join(ROOT, "node_modules", ".cache"));
    return out;
}

test("running the program with a source folder writes nothing: not under node_modules/.cache, not in the repository", async () => {
    const before = projectFiles();
    // fresh: a shared result of an earlier run would not run the program here.
    const run = await runProgram("prod", { set: { widgetCdnSourceDir: src }, fresh: true });
    expect(run.named("visualkit-prod-widget-cdn-upload").rawInputs.source).toEqual({ fileArchive: `${src}/` });
    const after = projectFiles();
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((f) => before.get(f) !== after.get(f));
    expect(changed).toEqual([]);
});
