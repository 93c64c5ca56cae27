import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
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

describe("runs shared between test files, workers and jest runs (VK_TEST_RUN_CACHE)", () => {
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
            rmSync(file, { force: true });
        }
    });

    test("the folder is named by the program's files, the dependencies and the helper, not by the tests", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { sourceHash } = require("./run-cache") as { sourceHash: (root: string) => string };
        const root = mkdtempSync(join(tmpdir(), "vk-source-"));
        try {
            const write = (path: string, text: string) => {
                mkdirSync(dirname(join(root, path)), { recursive: true });
                writeFileSync(join(root, path), text);
            };
            for (const f of ["index.ts", "components/a.ts", "scripts/host/x.sh", "package-lock.json", "test/helpers/program.ts", "test/helpers/run-cache.js", "test/a.test.ts"]) write(f, f);
            const first = sourceHash(root);
            write("test/a.test.ts", "a test edited");
            write("rendered/dev/resources.json", "{}");
            mkdirSync(join(root, "node_modules", ".cache"), { recursive: true });
            expect(sourceHash(root)).toBe(first);
            for (const f of ["components/a.ts", "scripts/host/x.sh", "package-lock.json", "test/helpers/program.ts"]) {
                write(f, `${f} changed`);
                const changed = sourceHash(root);
                expect({ f, changed: changed !== first }).toEqual({ f, changed: true });
                write(f, f);
            }
            write("components/b.ts", "a new file");
            expect(sourceHash(root)).not.toBe(first);
        } finally {
            rmSync(root, { recursive: true, force: true });
        }
    });
});
