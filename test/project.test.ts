import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ROOT } from "./helpers/program";

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    main?: string;
    engines?: { node?: string };
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
};
const tsconfig = JSON.parse(readFileSync(join(ROOT, "tsconfig.json"), "utf8")) as { compilerOptions: Record<string, unknown> };
const project = parse(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as { main?: string; requiredPulumiVersion?: string; runtime: { name: string; options?: Record<string, unknown> } };

describe("how `pulumi up` runs the program", () => {
    test("the entry point is the TypeScript source, never a build output that could be stale", () => {
        // Pulumi's Node.js host takes package.json "main" when Pulumi.yaml has none.
        expect(project.main ?? pkg.main).toBe("index.ts");
    });

    test("TypeScript is transpiled without type-checking at run time (tsconfig noCheck), and type-checked by npm test", () => {
        expect(project.runtime).toMatchObject({ name: "nodejs", options: { typescript: true } });
        expect(tsconfig.compilerOptions.noCheck).toBe(true);
        const scripts = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
        // `tsc -b` on a config that extends tsconfig.json and turns checking back on (incremental: see docs/testing.md).
        const typecheck = /^tsc -b (\S+)$/.exec(scripts.typecheck);
        expect(typecheck).not.toBeNull();
        const checked = JSON.parse(readFileSync(join(ROOT, typecheck![1]), "utf8")) as { extends?: string; compilerOptions: Record<string, unknown> };
        expect(checked.extends).toBe("./tsconfig.json");
        expect(checked.compilerOptions.noCheck).toBe(false);
        expect(scripts.test).toMatch(/typecheck/);
    });
});

test("the project refuses CLIs older than 3.252 (they delete adopted DNS records on the second up), and the pinned CLI satisfies it", () => {
    // One lower bound in blang/semver's range syntax, the form ValidatePulumiVersionRange parses.
    const range = /^>=(\d+)\.(\d+)\.(\d+)$/.exec(project.requiredPulumiVersion ?? "");
    expect(range).not.toBeNull();
    const floor = range!.slice(1).map(Number);
    const atLeast = (v: number[], min: number[]) => v[0] !== min[0] ? v[0] > min[0] : v[1] !== min[1] ? v[1] > min[1] : v[2] >= min[2];
    expect(atLeast(floor, [3, 252, 0])).toBe(true);
    expect(atLeast(pkg.devDependencies.pulumi.split(".").map(Number), floor)).toBe(true);
});

describe("dependencies", () => {
    test.each([...Object.entries(pkg.dependencies), ...Object.entries(pkg.devDependencies)])("%s is pinned to an exact version (%s)", (_name, version) => {
        expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    });

    test("Cloudflare is the v6 provider (DnsRecord, not the deprecated Record)", () => {
        expect(pkg.dependencies["@pulumi/cloudflare"]).toMatch(/^6\./);
    });

    test("the supported Node is declared and matches the SDK's floor", () => {
        const sdkEngines = (JSON.parse(readFileSync(join(ROOT, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")) as { engines: { node: string } }).engines.node;
        expect(sdkEngines).toBe(">=22");
        expect(pkg.engines?.node).toMatch(/^>=22\b/);
    });
});

describe("what the repository holds", () => {
    // The janus-calls-guard test runs Python, which writes scripts/host/__pycache__/*.pyc next to the script.
    test("no compiled Python is committed, and __pycache__/ is ignored", () => {
        const listed = spawnSync("git", ["ls-files"], { cwd: ROOT, encoding: "utf8" });
        expect(listed.status).toBe(0);
        const files = listed.stdout.split("\n");
        expect(files.filter((f) => /(^|\/)__pycache__\/|\.py[co]$/.test(f))).toEqual([]);
        const ignored = spawnSync("git", ["check-ignore", "-q", "scripts/host/__pycache__/x.cpython-311.pyc"], { cwd: ROOT });
        expect(ignored.status).toBe(0);
    });
});
