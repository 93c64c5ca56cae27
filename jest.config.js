/**
 * The fast tier (`npm test`). Tests mirror the source tree under test/; the data tier (test/tiers.js,
 * jest.data.config.js) is left to `npm run test:data`. Type-checking is `tsc` (`npm run typecheck`, in `npm test`);
 * ts-jest only transpiles (tsconfig's isolatedModules), so no test file is type-checked twice.
 */
const { DATA_TIER } = require("./test/tiers");

module.exports = {
    testEnvironment: "node",
    roots: ["<rootDir>/test"],
    testMatch: ["**/*.test.ts"],
    testPathIgnorePatterns: ["/node_modules/", ...DATA_TIER.map((f) => `<rootDir>/${f.replace(/\./g, "\\.")}$`)],
    transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: false }] },
    testTimeout: 60000,
    // Program runs under mocks are shared by every test file and jest run of the same code (test/helpers/run-cache.js).
    globalSetup: "<rootDir>/test/helpers/run-cache.js",
    globalTeardown: "<rootDir>/test/helpers/run-cache-teardown.js",
    // Jest's default on 2 cores is one worker (cores - 1); many suites wait on real tools (caddy, janus, sh,
    // cloud-init) or on health intervals, so more workers overlap that waiting. Measured on this 2-core machine
    // (2026-12-01, the fast tier as it is now): 2 workers 69 s wall, 3 workers 60 s, 4 workers 63 s: three.
    maxWorkers: 3,
    reporters: ["default", ["<rootDir>/test/helpers/suite-times.js", { top: 10 }]],
};
