#!/usr/bin/env node
// Runs a TypeScript entry point without type-checking (that is `npm test`'s job), the way `pulumi up` runs the
// program with `noCheck`. Transpiled files are cached by content hash, so a repeated run does not even load the
// TypeScript compiler: `npm run render` and `npm run bench` start about as fast as plain JavaScript.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const crypto = require("node:crypto");

const CACHE = path.join(__dirname, "..", "node_modules", ".cache", "visualkit-ts");
const OPTIONS = { module: 1 /* CommonJS */, target: 9 /* ES2022 */, esModuleInterop: true, inlineSourceMap: true, isolatedModules: true };
let ts;

require.extensions[".ts"] = function compileTs(module, filename) {
    const source = fs.readFileSync(filename, "utf8");
    const key = crypto.createHash("sha256").update(JSON.stringify(OPTIONS)).update(filename).update(source).digest("hex");
    const cached = path.join(CACHE, `${key}.js`);
    let code;
    try {
        code = fs.readFileSync(cached, "utf8");
    } catch {
        ts = ts || require("typescript");
        code = ts.transpileModule(source, { compilerOptions: OPTIONS, fileName: filename }).outputText;
        fs.mkdirSync(CACHE, { recursive: true });
        const tmp = `${cached}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, code);
        fs.renameSync(tmp, cached);
    }
    module._compile(code, filename);
};

const entry = process.argv[2];
if (!entry) {
    console.error("usage: node scripts/run-ts.js <file.ts> [args...]");
    process.exit(2);
}
process.argv.splice(1, 1);
require(path.resolve(entry));
