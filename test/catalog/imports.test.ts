import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(__dirname, "..", "..");

/** Every module a source file imports or re-exports, as paths relative to the repository (packages left out). */
function importsOf(file: string): string[] {
    const text = readFileSync(file, "utf8");
    const specs = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm)].map((m) => m[1]);
    return specs.filter((s) => s.startsWith(".")).map((s) => relative(ROOT, resolve(dirname(file), s)));
}

function sources(folder: string): string[] {
    return readdirSync(join(ROOT, folder), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".ts"))
        .map((f) => join(ROOT, folder, f));
}

// One direction between the two: config produces the catalog's input, the catalog never looks at config.
describe("config and catalog depend in one direction", () => {
    test("no catalog module imports from config/", () => {
        const offending = sources("catalog").flatMap((f) => importsOf(f).filter((i) => i === "config" || i.startsWith("config/")).map((i) => `${relative(ROOT, f)} imports ${i}`));
        expect(offending).toEqual([]);
    });

    test("config/ takes nothing from the catalog but its input (catalog/input.ts)", () => {
        const offending = sources("config").flatMap((f) =>
            importsOf(f)
                .filter((i) => (i === "catalog" || i.startsWith("catalog/")) && i !== "catalog/input")
                .map((i) => `${relative(ROOT, f)} imports ${i}`),
        );
        expect(offending).toEqual([]);
    });

    test("the import reader sees the imports these files have", () => {
        expect(importsOf(join(ROOT, "catalog/validate.ts"))).toContain("catalog/input");
        expect(importsOf(join(ROOT, "config/sections/routing.ts"))).toContain("catalog/input");
    });
});
