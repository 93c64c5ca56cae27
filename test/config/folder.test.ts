import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { folderContent, listFolder } from "../../config/folder";

/** The widget CDN's source folder as the sync sees it: what it holds, and the content hash a sync is triggered on. */

let work: string;
beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "folder-"));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

function put(root: string, files: Record<string, string>): void {
    for (const [rel, text] of Object.entries(files)) {
        mkdirSync(dirname(join(root, rel)), { recursive: true });
        writeFileSync(join(root, rel), text);
    }
}

const LONG = `${"deep/".repeat(25)}widget.js`;

test("lists folders and files in a fixed order, links to files as files, bad links apart", () => {
    const src = join(work, "src");
    put(src, { "sdk.js": "1", "v1/widget.css": "a{}", "B.js": "2", [LONG]: "x" });
    mkdirSync(join(src, "empty"));
    symlinkSync("sdk.js", join(src, "latest.js"));
    symlinkSync("missing.js", join(src, "gone.js"));
    symlinkSync("v1", join(src, "current"));
    const listing = listFolder(src);
    expect(listing.files).toEqual(["B.js", LONG, "latest.js", "sdk.js", "v1/widget.css"]);
    expect(listing.dirs).toEqual([...LONG.split("/").slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join("/")), "empty", "v1"]);
    expect(listing.broken).toEqual(["gone.js"]);
    expect(listing.linkedFolders).toEqual(["current"]);
});

describe("folderContent", () => {
    test("the same files give the same hash, whatever order they were written in, their times or their modes", () => {
        const a = join(work, "a");
        const b = join(work, "b");
        put(a, { "x.js": "1", "d/y.js": "2" });
        put(b, { "d/y.js": "2", "x.js": "1" });
        utimesSync(join(b, "x.js"), new Date(0), new Date(0));
        chmodSync(join(b, "d", "y.js"), 0o600);
        expect(folderContent(a)).toEqual(folderContent(b));
        expect(folderContent(a).files).toEqual(["d/y.js", "x.js"]);
    });

    test.each<[string, (dir: string) => void]>([
        ["a changed file", (d) => writeFileSync(join(d, "x.js"), "changed")],
        ["a renamed file", (d) => (rmSync(join(d, "x.js")), writeFileSync(join(d, "z.js"), "ab"))],
        ["bytes moved from one file to the next", (d) => (writeFileSync(join(d, "x.js"), "a"), writeFileSync(join(d, "y.js"), "bc"))],
        ["a new empty folder", (d) => mkdirSync(join(d, "v2"))],
        ["a removed file", (d) => rmSync(join(d, "y.js"))],
    ])("%s gives another hash", (_what, change) => {
        const dir = join(work, "src");
        put(dir, { "x.js": "ab", "y.js": "c" });
        const before = folderContent(dir).sha256;
        change(dir);
        expect(folderContent(dir).sha256).not.toBe(before);
    });
});
