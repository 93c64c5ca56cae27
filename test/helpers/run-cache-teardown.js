"use strict";
// Jest's globalTeardown: removes the one-run folder that VK_TEST_FRESH_RUNS=1 asked for; the shared one is kept.
const { rmSync } = require("node:fs");
const { tmpdir } = require("node:os");

module.exports = async function teardownRunCache() {
    const dir = process.env.VK_TEST_RUN_CACHE;
    if (dir && process.env.VK_TEST_FRESH_RUNS && dir.startsWith(tmpdir())) rmSync(dir, { recursive: true, force: true });
};
