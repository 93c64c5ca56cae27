import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "../helpers/program";

/**
 * Every operator command answers `--help` with its usage on standard output and exit 0, before it reads a stack or
 * loads the SDK (issue: render, bench and migrate-data used to take `--help` for a stack name or a bad usage).
 */
const COMMANDS = ["render", "bench", "migrate-data", "adopt", "cost-diff", "drift-issue", "install-host-key", "smoke", "backup", "restore", "deploy", "rollback", "widget-release", "logs", "ssh", "exec", "console", "ssh-window"];
const scripts = require(join(ROOT, "package.json")).scripts as Record<string, string>;

test.each(COMMANDS)("npm run %s -- --help: usage on stdout, exit 0", (command) => {
    const script = scripts[command];
    expect(script).toMatch(/^node scripts\/run-ts\.js scripts\/[\w/-]+\.ts/);
    const [, ...argv] = script.split(" ");
    const res = spawnSync(process.execPath, [...argv, "--help"], { cwd: ROOT, encoding: "utf8", timeout: 60_000, env: { ...process.env, CLOUDFLARE_API_TOKEN: "", GITHUB_TOKEN: "" } });
    expect({ status: res.status, out: res.stdout }).toEqual({ status: 0, out: expect.stringMatching(/^usage: /) });
}, 60_000);
