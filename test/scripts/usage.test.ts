import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers/program";

/**
 * The commands read their arguments with node's util.parseArgs, strictly (scripts/usage.ts commandLine): a mistyped
 * option is bad usage (exit 2, the usage on standard error) before anything runs. A hand-written parser skipped it:
 * `migrate-data … --dryrun` ran the real migration and `adopt prod --dryrun` wrote the stack file.
 */
const stubs = mkdtempSync(join(tmpdir(), "vk-usage-"));
// Nothing may reach a host or the Pulumi CLI: ssh and npx here only say they were called.
for (const tool of ["ssh", "npx", "pulumi"]) {
    writeFileSync(join(stubs, tool), `#!/bin/sh\necho "${tool} was called" >&2\nexit 97\n`);
    chmodSync(join(stubs, tool), 0o755);
}

/** Every API a command may call, on a closed loopback port: a command that ran anyway reaches nothing. */
const NOWHERE = { CLOUDFLARE_API_BASE_URL: "http://127.0.0.1:9/client/v4", HCLOUD_ENDPOINT: "http://127.0.0.1:9/v1", GITHUB_API_URL: "http://127.0.0.1:9" };

test.each([
    ["render", ["dev", "--outdir", join(stubs, "out")], "--outdir"],
    ["migrate-data", ["prod", "--from", "root@127.0.0.1", "--to", "root@127.0.0.1", "--dryrun"], "--dryrun"],
    ["adopt", ["prod", "--dryrun"], "--dryrun"],
    ["drift-issue", ["--stack", "prod", "--dir", stubs, "--dryrun"], "--dryrun"],
    ["install-host-key", ["prod", "--host", "root@127.0.0.1", "--current-key", "ssh-ed25519 AAAA", "--prot", "22"], "--prot"],
    ["ssh-window", ["open", "prod", "--sorce", "203.0.113.7", "--run-id", "1"], "--sorce"],
])("npm run %s with a mistyped option: exit 2 naming it, with the usage, nothing run", (command, args, typo) => {
    const script = (require(join(ROOT, "package.json")).scripts as Record<string, string>)[command];
    const [, ...argv] = script.split(" ");
    const env = { ...process.env, PATH: `${stubs}:${process.env.PATH}`, CLOUDFLARE_API_TOKEN: "t", GITHUB_TOKEN: "t", GITHUB_REPOSITORY: "o/r", HCLOUD_TOKEN: "t", ...NOWHERE };
    const res = spawnSync(process.execPath, [...argv, ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000, env });
    expect({ status: res.status, err: res.stderr }).toEqual({ status: 2, err: expect.stringContaining(`Unknown option '${typo}'`) });
    expect(res.stderr).toMatch(/usage: /);
    expect(res.stderr).not.toMatch(/was called/);
}, 60_000);
