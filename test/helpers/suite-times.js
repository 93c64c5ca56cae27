"use strict";
// A jest reporter: after the run, the slowest test files with their wall time, so the fast tier's budget can be
// checked (and a new slow suite is seen) without `--json`. Options: { top: number } (default 10).
const { relative } = require("node:path");

class SuiteTimes {
    constructor(globalConfig, options = {}) {
        this.rootDir = globalConfig.rootDir;
        this.top = options.top ?? 10;
    }

    onRunComplete(_contexts, results) {
        const rows = results.testResults
            .map((r) => ({ seconds: (r.perfStats.end - r.perfStats.start) / 1000, tests: r.testResults.length, file: relative(this.rootDir, r.testFilePath) }))
            .sort((a, b) => b.seconds - a.seconds);
        const total = rows.reduce((sum, r) => sum + r.seconds, 0);
        const wall = (Date.now() - results.startTime) / 1000;
        const lines = [`Slowest test files (of ${rows.length}; ${total.toFixed(1)} s summed over workers, ${wall.toFixed(1)} s wall):`];
        for (const r of rows.slice(0, this.top)) lines.push(`${r.seconds.toFixed(1).padStart(7)} s ${String(r.tests).padStart(4)} tests  ${r.file}`);
        process.stderr.write(lines.join("\n") + "\n");
    }
}

module.exports = SuiteTimes;
