import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers/program";

/**
 * The offline parse (stack/index.ts, config/local.ts) and the test helper load no Pulumi SDK: tests, the policy pack
 * and the scripts parse stack files without it, and each suite that did load it paid ~1 s of CPU for nothing.
 * Checked in a plain Node process (jest's registry hides what is loaded) by the modules it has loaded.
 */
const tmp = mkdtempSync(join(tmpdir(), "vk-offline-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function pulumiModulesLoadedBy(files: string[]): string[] {
    const probe = join(tmp, `probe-${files.length}.ts`);
    writeFileSync(
        probe,
        [...files.map((f) => `require(${JSON.stringify(join(ROOT, f))});`), `console.log(JSON.stringify([...new Set(Object.keys(require.cache).map((k) => /node_modules\\/(@pulumi\\/[^/]+)\\//.exec(k)?.[1]).filter(Boolean))]));`].join("\n"),
    );
    const res = spawnSync(process.execPath, [join(ROOT, "scripts", "run-ts.js"), probe], { encoding: "utf8" });
    if (res.status !== 0) throw new Error(res.stderr);
    return JSON.parse(res.stdout.trim().split("\n").pop()!);
}

test("parsing a stack and the test helper load no @pulumi package", () => {
    expect(pulumiModulesLoadedBy(["stack/index.ts", "config/local.ts", "test/helpers/program.ts"])).toEqual([]);
});

test("the probe sees the SDK where it is loaded (config/index.ts reads the stack through it)", () => {
    expect(pulumiModulesLoadedBy(["config/index.ts"])).toContain("@pulumi/pulumi");
});
