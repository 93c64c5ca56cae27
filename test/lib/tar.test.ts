import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { packFolder } from "../../lib/tar";

/** The deterministic archive of the widget CDN sync, read back by GNU tar. */

let work: string;
beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "tar-"));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

function put(root: string, files: Record<string, string>): void {
    for (const [rel, text] of Object.entries(files)) {
        mkdirSync(dirname(join(root, rel)), { recursive: true });
        writeFileSync(join(root, rel), text);
    }
}

const LONG = `${"deep/".repeat(25)}widget.js`;

describe("packFolder", () => {
    test("GNU tar extracts exactly the folder's files, long paths included", () => {
        const src = join(work, "src");
        put(src, { "sdk.js": "console.log(1)", "v1/widget.css": "a{}", [LONG]: "x".repeat(700) });
        const packed = packFolder(src);
        expect(packed.files).toEqual(["sdk.js", "v1/widget.css", LONG].sort());
        const archive = join(work, "a.tar.gz");
        writeFileSync(archive, packed.archive);
        const out = join(work, "out");
        mkdirSync(out);
        const res = spawnSync("tar", ["-xzf", archive, "-C", out], { encoding: "utf8" });
        expect(res.stderr).toBe("");
        expect(res.status).toBe(0);
        expect(readFileSync(join(out, "sdk.js"), "utf8")).toBe("console.log(1)");
        expect(readFileSync(join(out, LONG), "utf8")).toBe("x".repeat(700));
        expect(readFileSync(join(out, "v1/widget.css"), "utf8")).toBe("a{}");
    });

    test("the same content gives the same bytes; any change gives another hash", () => {
        const a = join(work, "a");
        const b = join(work, "b");
        put(a, { "x.js": "1", "d/y.js": "2" });
        put(b, { "d/y.js": "2", "x.js": "1" });
        expect(packFolder(a).sha256).toBe(packFolder(b).sha256);
        writeFileSync(join(b, "x.js"), "changed");
        expect(packFolder(a).sha256).not.toBe(packFolder(b).sha256);
    });
});
