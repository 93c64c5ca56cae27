/**
 * Tests mirror the source tree under test/. Type-checking is `tsc` (`npm run typecheck`, in `npm test`); ts-jest
 * only transpiles (tsconfig's isolatedModules), so no test file is type-checked twice.
 */
module.exports = {
    testEnvironment: "node",
    roots: ["<rootDir>/test"],
    testMatch: ["**/*.test.ts"],
    transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: false }] },
    testTimeout: 60000,
    // Jest's default on 2 cores is one worker (cores - 1); many suites wait on real tools (caddy, janus, sh,
    // cloud-init), so two workers overlap that waiting: measured ~14% less wall time, the same CPU time.
    maxWorkers: 2,
    reporters: ["default", ["<rootDir>/test/helpers/suite-times.js", { top: 10 }]],
};
