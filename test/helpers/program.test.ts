import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runProgram } from "./program";

/** The shared runs of runProgram: one test cannot change what another reads, and changed inputs mean a new run. */

test("a shared run is a copy: changing one caller's result leaves the next caller's intact", async () => {
    const first = await runProgram("dev");
    const server = first.named("visualkit-dev-main-server");
    const type = server.inputs.serverType;
    server.inputs.serverType = "changed by a test";
    first.resources.length = 0;
    first.files.clear();
    const second = await runProgram("dev");
    expect(second.named("visualkit-dev-main-server").inputs.serverType).toBe(type);
    expect(second.files.size).toBeGreaterThan(0);
});

test("new content in a folder a config value names is a new run, not the shared one", async () => {
    const src = mkdtempSync(join(tmpdir(), "widget-src-"));
    try {
        const hash = async () => ((await runProgram("dev", { set: { widgetCdnSourceDir: src } })).named("visualkit-dev-widget-cdn-upload").rawInputs.triggers as string[])[0];
        writeFileSync(join(src, "sdk.js"), "one");
        const before = await hash();
        writeFileSync(join(src, "sdk.js"), "two");
        expect(await hash()).not.toBe(before);
    } finally {
        rmSync(src, { recursive: true, force: true });
    }
});
