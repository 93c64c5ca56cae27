/** Tests mirror the source tree under test/. Type-checking is `tsc` (in `npm test`); jest only transpiles. */
module.exports = {
    testEnvironment: "node",
    roots: ["<rootDir>/test"],
    testMatch: ["**/*.test.ts"],
    transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: false }] },
    testTimeout: 60000,
    reporters: ["default", ["<rootDir>/test/helpers/suite-times.js", { top: 10 }]],
};
