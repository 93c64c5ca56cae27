import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { ROOT } from "../helpers/program";

/*
 * The README is the operators' page and stays short; everything else lives in docs/ and is reached by links. A moved
 * file or a renamed heading must not leave a link pointing nowhere, and no document may point outside the
 * repository (a reader of a clone has nothing there).
 */

export const README_MAX_LINES = 250;

/** README.md and every Markdown file under docs/. */
export function documents(root: string): string[] {
    const walk = (dir: string): string[] =>
        readdirSync(dir).flatMap((name) => {
            const path = join(dir, name);
            return statSync(path).isDirectory() ? walk(path) : name.endsWith(".md") ? [path] : [];
        });
    return [join(root, "README.md"), ...(existsSync(join(root, "docs")) ? walk(join(root, "docs")) : [])];
}

/** The lines of a Markdown text outside fenced code blocks (``` or ~~~, any length of three or more). */
function proseLines(text: string): string[] {
    const out: string[] = [];
    let fence: string | undefined;
    for (const line of text.split("\n")) {
        const m = /^\s*(`{3,}|~{3,})/.exec(line);
        if (m) {
            if (fence === undefined) fence = m[1];
            else if (line.trim() === fence) fence = undefined;
            continue;
        }
        if (fence === undefined) out.push(line);
    }
    return out;
}

/** GitHub's heading anchor (github-slugger): lower case, punctuation and symbols dropped, spaces to hyphens. */
export function slug(heading: string): string {
    const text = heading
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // a link keeps its text
        .replace(/`/g, "")
        .replace(/<[^>]+>/g, "")
        .trim()
        .toLowerCase();
    return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
}

/** Every anchor a Markdown file offers: its headings' slugs, repeated ones numbered as GitHub does (-1, -2, …). */
export function anchors(text: string): Set<string> {
    const seen = new Map<string, number>();
    const out = new Set<string>();
    for (const line of proseLines(text)) {
        const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
        if (!m) continue;
        const base = slug(m[1]);
        const n = seen.get(base) ?? 0;
        seen.set(base, n + 1);
        out.add(n === 0 ? base : `${base}-${n}`);
    }
    return out;
}

/** Inline links `[text](target)` outside code: fenced blocks and inline code spans are not links. */
export function links(text: string): string[] {
    const out: string[] = [];
    for (const line of proseLines(text)) {
        const prose = line.replace(/`[^`]*`/g, "");
        for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push(m[1]);
    }
    return out;
}

/** Every problem with the links of `file`: a missing file, a missing anchor, a target outside the repository. */
export function brokenLinks(root: string, file: string): string[] {
    const text = readFileSync(file, "utf8");
    const where = relative(root, file);
    const problems: string[] = [];
    for (const target of links(text)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: — not a file of the repository
        const [pathPart, anchor] = target.split("#", 2) as [string, string | undefined];
        const path = pathPart === "" ? file : resolve(dirname(file), decodeURIComponent(pathPart));
        if (path !== root && !path.startsWith(root + sep)) {
            problems.push(`${where}: ${target} points outside the repository`);
            continue;
        }
        if (!existsSync(path)) {
            problems.push(`${where}: ${target}: no file ${relative(root, path)}`);
            continue;
        }
        if (anchor !== undefined) {
            if (!path.endsWith(".md")) problems.push(`${where}: ${target}: an anchor into a file that is not Markdown`);
            else if (!anchors(readFileSync(path, "utf8")).has(anchor)) problems.push(`${where}: ${target}: no heading #${anchor} in ${relative(root, path)}`);
        }
    }
    // A path written as text or code that climbs out of the repository (the reference document once was one).
    for (const m of text.matchAll(/(?<![\w/.])(?:\.\.\/)+[\w.-]+(?:\/[\w.-]+)*/g)) {
        const path = resolve(dirname(file), m[0]);
        if (!path.startsWith(root + sep)) problems.push(`${where}: ${m[0]} names a path outside the repository`);
    }
    return problems;
}

describe("the README and docs/", () => {
    test(`README.md has at most ${README_MAX_LINES} lines`, () => {
        const lines = readFileSync(join(ROOT, "README.md"), "utf8").trimEnd().split("\n").length;
        expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
    });

    test("every relative link in README.md and docs/ reaches an existing file and heading inside the repository", () => {
        const files = documents(ROOT);
        expect(files.length).toBeGreaterThan(1);
        expect(files.flatMap((f) => brokenLinks(ROOT, f))).toEqual([]);
    });

    test("every file in docs/ is reachable from the README (directly or through another document)", () => {
        const reached = new Set<string>();
        const queue = [join(ROOT, "README.md")];
        while (queue.length > 0) {
            const file = queue.pop()!;
            if (reached.has(file)) continue;
            reached.add(file);
            for (const target of links(readFileSync(file, "utf8"))) {
                if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
                const pathPart = target.split("#")[0];
                if (pathPart === "") continue;
                const path = resolve(dirname(file), decodeURIComponent(pathPart));
                if (path.endsWith(".md") && existsSync(path)) queue.push(path);
            }
        }
        expect(documents(ROOT).filter((f) => !reached.has(f)).map((f) => relative(ROOT, f))).toEqual([]);
    });
});

describe("the link checker itself", () => {
    test("GitHub's slugs: code, punctuation and case", () => {
        expect(slug("The real-host tier (`npm run test:host`)")).toBe("the-real-host-tier-npm-run-testhost");
        expect(slug("CI/CD (GitHub Actions)")).toBe("cicd-github-actions");
        expect(slug("Cloudflare: DNS, e-mail, Pages, www redirect, zone settings")).toBe("cloudflare-dns-e-mail-pages-www-redirect-zone-settings");
        expect(slug("SSH from `pulumi up` (command provider 1.2.1)")).toBe("ssh-from-pulumi-up-command-provider-121");
        expect([...anchors("# A\n## A\n```\n# not a heading\n```\n## B")]).toEqual(["a", "a-1", "b"]);
    });

    test("a broken file, a broken anchor and a path outside the repository are each reported; code is not a link", () => {
        const doc = join(ROOT, "docs", "x.md");
        const text = [
            "[ok](../README.md#quick-start) [gone](missing.md) [anchor](../README.md#no-such-heading) [up](../../elsewhere.md)",
            "`[code](not-a-link.md)` see `../../shared/reference.md`",
            "```",
            "[fenced](also-not-a-link.md)",
            "```",
        ].join("\n");
        expect(links(text)).toEqual(["../README.md#quick-start", "missing.md", "../README.md#no-such-heading", "../../elsewhere.md"]);
        const problems = brokenLinksOf(doc, text);
        expect(problems).toEqual([
            "docs/x.md: missing.md: no file docs/missing.md",
            "docs/x.md: ../README.md#no-such-heading: no heading #no-such-heading in README.md",
            "docs/x.md: ../../elsewhere.md points outside the repository",
            "docs/x.md: ../../elsewhere.md names a path outside the repository",
            "docs/x.md: ../../shared/reference.md names a path outside the repository",
        ]);
    });
});

/** brokenLinks on a text that is not on disk: the file itself is written to a temporary copy of its place. */
function brokenLinksOf(file: string, text: string): string[] {
    const { mkdtempSync, mkdirSync, writeFileSync, copyFileSync, rmSync } = require("node:fs") as typeof import("node:fs");
    const { tmpdir } = require("node:os") as typeof import("node:os");
    const root = mkdtempSync(join(tmpdir(), "vk-links-"));
    try {
        copyFileSync(join(ROOT, "README.md"), join(root, "README.md"));
        const copy = join(root, relative(ROOT, file));
        mkdirSync(dirname(copy), { recursive: true });
        writeFileSync(copy, text);
        return brokenLinks(root, copy);
    } finally {
        rmSync(root, { recursive: true, force: true });
    }
}
