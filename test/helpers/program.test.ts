import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import { runCacheFile, runProgram } from "./program";

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

describe("runs shared between the test files of one jest run (VK_TEST_RUN_CACHE)", () => {
    const cache = process.env.VK_TEST_RUN_CACHE;

    test("jest's global set-up made the folder", () => {
        expect(cache).toBeDefined();
        expect(existsSync(cache!)).toBe(true);
    });

    test("another test file's run is read from the folder, as plain data of this file", async () => {
        // A run no other test file makes (the environment is part of a run's key), so marking it changes nothing
        // another file reads.
        process.env.VK_TEST_RUN_CACHE_PROBE = `${process.pid}-${Date.now()}`;
        await runProgram("dev");
        const file = runCacheFile("dev")!;
        expect(existsSync(file)).toBe(true);
        // Mark it, then ask a fresh copy of the helper (another test file's view): it must hand out the marked run,
        // not run the program again.
        const run = deserialize(readFileSync(file)) as { resources: { name: string }[] };
        run.resources[0].name = "marked";
        writeFileSync(file, serialize(run));
        let other: typeof import("./program") | undefined;
        jest.isolateModules(() => {
            other = require("./program");
        });
        try {
            const read = await other!.runProgram("dev");
            expect(read.resources[0].name).toBe("marked");
            // Built in this realm: prototypes and Map are the test's own, so instanceof and toEqual behave.
            expect(Object.getPrototypeOf(read.resources[0])).toBe(Object.prototype);
            expect(read.files).toBeInstanceOf(Map);
        } finally {
            delete process.env.VK_TEST_RUN_CACHE_PROBE;
        }
    });
});
