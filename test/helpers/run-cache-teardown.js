"use strict";
// Jest's globalTeardown: removes the run cache of test/helpers/run-cache.js.
module.exports = async () => require("./run-cache").removeRunCache();
