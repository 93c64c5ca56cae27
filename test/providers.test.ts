import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ROOT } from "./helpers/program";

/**
 * `pulumi up` installs the provider plugin named by each provider SDK's package.json (`pulumi.name` and
 * `pulumi.version`). A stray publish such as @pulumi/command@4.5.0 (version "v4.5.0", no plugin version, 0.x code)
 * type-checks and passes every mock, but asks for a plugin that does not exist. So every provider SDK the program
 * really loads must look like a genuine release, the one the lock file pins.
 */

/** Every `@pulumi/<x>` package reached from index.ts through the program's own relative imports. */
function importedPulumiPackages(): string[] {
    const found = new Set<string>();
    const seen = new Set<string>();
    const visit = (file: string) => {
        if (seen.has(file)) return;
        seen.add(file);
        const text = readFileSync(file, "utf8");
        for (const m of text.matchAll(/(?:from\s+|require\(\s*|import\(\s*)["']([^"']+)["']/g)) {
            const spec = m[1];
            const pkg = spec.match(/^(@pulumi\/[^/]+)/);
            if (pkg) found.add(pkg[1]);
            if (spec.startsWith(".")) {
                const base = resolve(dirname(file), spec);
                const target = [`${base}.ts`, join(base, "index.ts")].find((p) => existsSync(p));
                if (target) visit(target);
            }
        }
    };
    visit(join(ROOT, "index.ts"));
    return [...found].sort();
}

interface SdkPackageJson {
    name: string;
    version: string;
    pulumi?: { resource?: boolean; name?: string; version?: string };
}

/** Why a provider SDK's package.json is not a genuine release matching the lock file; empty when it is. */
export function genuineReleaseProblems(pkg: SdkPackageJson, lockedVersion: string | undefined): string[] {
    const problems: string[] = [];
    if (pkg.version !== lockedVersion) problems.push(`installed version ${pkg.version} is not the lock file's ${lockedVersion}`);
    if (pkg.version.startsWith("v")) problems.push(`version "${pkg.version}" starts with "v": npm releases of Pulumi providers never do`);
    if (pkg.pulumi?.resource !== true || !pkg.pulumi.name) problems.push("its package.json has no pulumi block naming the provider plugin");
    if (!pkg.pulumi?.version) problems.push("its pulumi block names no plugin version, so `pulumi up` cannot know which plugin to install");
    else if (pkg.pulumi.version !== pkg.version) problems.push(`it asks for plugin ${pkg.pulumi.version}, not ${pkg.version}`);
    return problems;
}

const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string }> };
// @pulumi/pulumi is the SDK itself, not a provider: it has no plugin.
const providers = importedPulumiPackages().filter((p) => p !== "@pulumi/pulumi");

test("the program's providers are found by following its imports", () => {
    // A scan that finds nothing would make the check below pass vacuously.
    expect(providers.length).toBeGreaterThanOrEqual(4);
    expect(providers).toContain("@pulumi/command");
});

test.each(providers)("%s is a genuine provider release: lock file version, plugin named with the same version", (name) => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as SdkPackageJson;
    expect(genuineReleaseProblems(pkg, lock.packages[`node_modules/${name}`]?.version)).toEqual([]);
});

test("the check rejects the stray @pulumi/command 4.5.0 publish", () => {
    // Its package.json as published (name, version and pulumi block), against the lock entry it came with.
    const stray: SdkPackageJson = { name: "@pulumi/command", version: "v4.5.0", pulumi: { resource: true, name: "command" } };
    const problems = genuineReleaseProblems(stray, "4.5.0");
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/lock file/), expect.stringMatching(/starts with "v"/), expect.stringMatching(/no plugin version/)]));
});
