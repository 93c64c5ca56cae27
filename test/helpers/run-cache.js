"use strict";
// Jest's globalSetup: a fresh folder for the program runs that test/helpers/program.ts shares between the test files
// and workers of this jest run (VK_TEST_RUN_CACHE, inherited by the workers). The folder lives as long as the run:
// runs are keyed by their inputs, not by the program's source, so a cache kept across runs could hand out a run of
// older code. The teardown (run-cache-teardown.js) removes it.
const { mkdtempSync, rmSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");

module.exports = async function setupRunCache() {
    process.env.VK_TEST_RUN_CACHE = mkdtempSync(join(tmpdir(), "vk-test-runs-"));
};

module.exports.removeRunCache = function removeRunCache() {
    const dir = process.env.VK_TEST_RUN_CACHE;
    if (dir) rmSync(dir, { recursive: true, force: true });
    delete process.env.VK_TEST_RUN_CACHE;
};
