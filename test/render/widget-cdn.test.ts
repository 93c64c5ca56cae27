import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { packFolder } from "../../lib/tar";
import { renderWidgetFolderScript, renderWidgetSyncScript, shellQuote } from "../../render/widget-cdn";

/** The widget CDN scripts, run by sh against a stand-in data volume (the archive from lib/tar.ts). */

let work: string;
beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "widget-cdn-"));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

function put(root: string, files: Record<string, string>): void {
    for (const [rel, text] of Object.entries(files)) {
        mkdirSync(dirname(join(root, rel)), { recursive: true });
        writeFileSync(join(root, rel), text);
    }
}

const sh = (script: string) => spawnSync("/bin/sh", ["-c", script], { encoding: "utf8" });

describe("scripts", () => {
    test("shellQuote survives quotes", () => {
        expect(sh(`printf %s ${shellQuote("it's \"x\" $HOME")}`).stdout).toBe("it's \"x\" $HOME");
    });

    test.each([
        ["folder", renderWidgetFolderScript("/mnt/data/widget-cdn", "/opt/widget-cdn")],
        ["sync", renderWidgetSyncScript("/var/tmp/a.tar.gz", "/mnt/data/widget-cdn")],
    ])("the %s script is shellcheck-clean", (_, script) => {
        const res = spawnSync("shellcheck", ["-s", "sh", "-"], { input: script, encoding: "utf8" });
        expect(res.stdout).toBe("");
        expect(res.status).toBe(0);
    });

    test("the folder script creates the folder and the link Caddy serves, and is idempotent", () => {
        const folder = join(work, "data", "widget-cdn");
        const root = join(work, "opt", "widget-cdn");
        for (let i = 0; i < 2; i++) expect(sh(renderWidgetFolderScript(folder, root)).status).toBe(0);
        expect(statSync(folder).isDirectory()).toBe(true);
        expect(lstatSync(root).isSymbolicLink()).toBe(true);
        expect(readlinkSync(root)).toBe(folder);
    });

    test("a hand-made folder at the root is left alone and reported", () => {
        const root = join(work, "opt", "widget-cdn");
        put(root, { "old.js": "1" });
        const res = sh(renderWidgetFolderScript(join(work, "data", "widget-cdn"), root));
        expect(res.status).toBe(0);
        expect(res.stderr).toContain("is a real folder");
        expect(readFileSync(join(root, "old.js"), "utf8")).toBe("1");
    });

    test("a sync replaces the content: new files arrive, deleted ones disappear, the archive is removed", () => {
        const folder = join(work, "data", "widget-cdn");
        put(folder, { "gone.js": "old", "sdk.js": "old" });
        const src = join(work, "src");
        put(src, { "sdk.js": "new", "v2/extra.js": "e" });
        const archive = join(work, "upload.tar.gz");
        writeFileSync(archive, packFolder(src).archive);
        const res = sh(renderWidgetSyncScript(archive, folder));
        expect(res.stderr).toBe("");
        expect(res.status).toBe(0);
        expect(res.stdout).toContain("2 files");
        expect(readFileSync(join(folder, "sdk.js"), "utf8")).toBe("new");
        expect(readFileSync(join(folder, "v2/extra.js"), "utf8")).toBe("e");
        expect(existsSync(join(folder, "gone.js"))).toBe(false);
        expect(existsSync(archive)).toBe(false);
        expect(statSync(join(folder, "sdk.js")).mode & 0o777).toBe(0o644);
        expect(existsSync(`${folder}.old`)).toBe(false);
    });
});
