"use strict";
// Jest's globalSetup: the folder of program runs that test/helpers/program.ts shares between test files, workers and
// jest runs (VK_TEST_RUN_CACHE, inherited by the workers). A run's file is named by its inputs (stack, config,
// secrets, environment, named files); the folder is named by everything else a run can depend on: the program's
// source and shipped files, the dependencies (package-lock.json) and the helper itself. A change to any of them is
// a new, empty folder (older ones are removed), so no run of older code is ever handed out; editing a test reuses the
// runs. VK_TEST_FRESH_RUNS=1 uses an empty folder for this jest run only.
const { createHash } = require("node:crypto");
const { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join, relative, sep } = require("node:path");

const ROOT = join(__dirname, "..", "..");
/**
 * Outside the project (the tests check that running the program writes nothing into it, node_modules/.cache
 * included), one folder per checkout, so two checkouts do not remove each other's runs.
 */
const CACHE = join(tmpdir(), `visualkit-test-runs-${createHash("sha256").update(ROOT).digest("hex").slice(0, 12)}`);
/**
 * Top-level entries no run reads: dependencies (stood for by package-lock.json), outputs, tests. Dot folders (git,
 * CI's Node, workflows) are skipped too.
 */
const SKIP = new Set(["node_modules", "rendered", "test"]);
/** The files under test/ that shape a run's result. */
const TEST_FILES = ["test/helpers/program.ts", "test/helpers/run-cache.js"];

function sourceHash(root = ROOT) {
    const hash = createHash("sha256");
    const add = (path) => hash.update(`${relative(root, path).split(sep).join("/")}\0`).update(readFileSync(path)).update("\0");
    const walk = (dir) => {
        for (const name of readdirSync(dir).sort()) {
            if (dir === root && (SKIP.has(name) || name.startsWith("."))) continue;
            const path = join(dir, name);
            const s = statSync(path);
            if (s.isDirectory()) walk(path);
            else if (s.isFile()) add(path);
        }
    };
    walk(root);
    for (const f of TEST_FILES) add(join(root, f));
    return hash.digest("hex").slice(0, 16);
}

module.exports = async function setupRunCache() {
    if (process.env.VK_TEST_FRESH_RUNS) {
        process.env.VK_TEST_RUN_CACHE = mkdtempSync(join(tmpdir(), "vk-test-runs-"));
        return;
    }
    const current = sourceHash();
    mkdirSync(join(CACHE, current), { recursive: true });
    for (const old of readdirSync(CACHE)) if (old !== current) rmSync(join(CACHE, old), { recursive: true, force: true });
    process.env.VK_TEST_RUN_CACHE = join(CACHE, current);
};

module.exports.sourceHash = sourceHash;
