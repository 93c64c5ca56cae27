import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import * as ts from "typescript";
import { ROOT } from "./helpers/program";

/** A reader holds a function of this many lines at once (issue 31); longer ones are split into named steps. */
const MAX_LINES = 80;
/** The program and its operator commands; test/ is exempt (a test reads top to bottom). */
const SOURCES = ["index.ts", "program", "catalog", "config", "components", "lib", "render", "scripts", "mocks", "policy", "stack"];

function tsFiles(path: string): string[] {
    const full = join(ROOT, path);
    if (statSync(full).isFile()) return full.endsWith(".ts") ? [full] : [];
    return readdirSync(full).filter((n) => n !== "node_modules").flatMap((n) => tsFiles(join(path, n)));
}

/** Every function, method, constructor, accessor and arrow function longer than `max` lines, as "file:line name (n lines)". */
export function longFunctions(files: string[], max: number): string[] {
    const found: string[] = [];
    for (const file of files) {
        const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
        const visit = (node: ts.Node): void => {
            if (ts.isFunctionLike(node) && "body" in node && node.body) {
                const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
                const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
                const lines = end - start + 1;
                if (lines > max) found.push(`${relative(ROOT, file)}:${start + 1} ${nameOf(node, source)} (${lines} lines)`);
            }
            ts.forEachChild(node, visit);
        };
        visit(source);
    }
    return found;
}

function nameOf(node: ts.SignatureDeclaration, source: ts.SourceFile): string {
    if (ts.isConstructorDeclaration(node)) return `${(node.parent as ts.ClassDeclaration).name?.text ?? "class"} constructor`;
    if (node.name) return node.name.getText(source);
    const parent = node.parent;
    if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText(source);
    return "(anonymous)";
}

describe("functions a reader can hold", () => {
    test(`no function in the program or its commands is over ${MAX_LINES} lines`, () => {
        expect(longFunctions(SOURCES.flatMap(tsFiles), MAX_LINES)).toEqual([]);
    });

    test("the check sees functions, methods, constructors and arrow functions, and counts their lines", () => {
        const dir = mkdtempSync(join(tmpdir(), "structure-"));
        const lines = (n: number) => Array.from({ length: n - 2 }, (_, i) => `        x += ${i};`).join("\n");
        const file = join(dir, "probe.ts");
        writeFileSync(file, [
            `function named() {\n${lines(5)}\n}`,
            `class C {\n    constructor() {\n${lines(5)}\n    }\n    method() {\n${lines(5)}\n    }\n}`,
            `const arrow = () => {\n${lines(5)}\n};`,
            `const fine = () => {\n${lines(4)}\n};`,
        ].join("\n"));
        const found = longFunctions([file], 4).map((f) => f.replace(/^.*probe\.ts:/, ""));
        expect(found).toEqual(["1 named (5 lines)", "7 C constructor (5 lines)", "12 method (5 lines)", "18 arrow (5 lines)"]);
    });
});

/** Lines of the program's sources (not test/) that match `pattern`, as "file:line", leaving out the concept's home. */
function occurrences(pattern: RegExp, home: string[]): string[] {
    return SOURCES.flatMap(tsFiles)
        .filter((f) => !home.includes(relative(ROOT, f)))
        .flatMap((f) => readFileSync(f, "utf8").split("\n").map((line, i) => (pattern.test(line) ? `${relative(ROOT, f)}:${i + 1}` : "")))
        .filter(Boolean);
}

describe("one home per concept (issue 31)", () => {
    test("a service's port is found by its id in one place, portOf in catalog/derived.ts", () => {
        expect(occurrences(/ports\.find\(\((\w+)\) => [^)]*\b\1\.id ===/, ["catalog/derived.ts"])).toEqual([]);
    });

    test("the default Caddy version is written once, DEFAULT_CADDY_VERSION in catalog/input.ts", () => {
        expect(occurrences(/["'`]2\.6\.2["'`]/, ["catalog/input.ts"])).toEqual([]);
    });
});
