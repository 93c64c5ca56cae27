/**
 * The data tier (`npm run test:data`): the test files test/tiers.js names, with the fast tier's settings.
 */
const { DATA_TIER } = require("./test/tiers");
const fast = require("./jest.config");

module.exports = {
    ...fast,
    testMatch: DATA_TIER.map((f) => `<rootDir>/${f}`),
    testPathIgnorePatterns: ["/node_modules/"],
};
