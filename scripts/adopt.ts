import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError } from "../config/issues";
import { CloudflareApiError } from "./adopt/cloudflare-api";
import { resourceNamesInState, runAdopt } from "./adopt/run";
import { commandLine } from "./usage";

const ADOPT_USAGE = "usage: npm run adopt -- <stack> [--dry-run] [--state <pulumi stack export file>]   (needs CLOUDFLARE_API_TOKEN)";

/**
 * The stack's state, so adopt writes entries only for objects the stack does not manage yet: `--state FILE` (the
 * output of `pulumi stack export`), else `pulumi stack export` run here; a stack that does not exist yet has none.
 */
function stateOf(root: string, stack: string, stateFile: string | undefined): Set<string> {
    if (stateFile !== undefined) return resourceNamesInState(JSON.parse(readFileSync(stateFile, "utf8")));
    const res = spawnSync("pulumi", ["stack", "export", "--stack", stack], { cwd: root, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    if (res.status === 0) return resourceNamesInState(JSON.parse(res.stdout));
    if (/no stack named|stack .* not found/i.test(res.stderr ?? "")) return new Set();
    console.error(
        `adopt: cannot read the state of stack ${stack} (${res.error ? "pulumi CLI not found" : (res.stderr ?? "").trim()}). adopt writes only objects the ` +
            `state does not hold: run \`pulumi stack export --stack ${stack} > state.json\` where the CLI and backend are, then npm run adopt -- ${stack} --state state.json`,
    );
    process.exit(2);
}

/**
 * `npm run adopt -- <stack> [--dry-run] [--state FILE]`: the takeover table and `visualkit:adopt` (scripts/adopt/run.ts).
 * Exit 0 when done, 1 when Cloudflare refused or the config is invalid, 2 on usage or a missing token.
 */
async function cli(): Promise<void> {
    const { values, positionals } = commandLine(ADOPT_USAGE, { "dry-run": { type: "boolean" }, state: { type: "string" } });
    const dryRun = values["dry-run"] ?? false;
    const stack = positionals.length === 1 ? positionals[0] : undefined;
    const root = resolve(__dirname, "..");
    if (!stack || !existsSync(join(root, `Pulumi.${stack}.yaml`))) {
        console.error(`usage: npm run adopt -- <stack> [--dry-run] [--state <pulumi stack export file>]   (a stack with a Pulumi.<stack>.yaml here${stack ? `; Pulumi.${stack}.yaml not found` : ""})`);
        process.exit(2);
    }
    const token = process.env.CLOUDFLARE_API_TOKEN ?? "";
    if (!token) {
        console.error(
            "adopt: CLOUDFLARE_API_TOKEN is not set. Create a token with Zone: Zone Read, DNS Read, Zone Settings Read, Dynamic Redirect Read " +
                "and Account: Cloudflare Pages Read (https://dash.cloudflare.com/profile/api-tokens), then: export CLOUDFLARE_API_TOKEN=<token>",
        );
        process.exit(2);
    }
    try {
        const inState = stateOf(root, stack, values.state);
        const run = await runAdopt({ root, stack, token, baseUrl: process.env.CLOUDFLARE_API_BASE_URL || undefined, write: !dryRun, inState });
        process.stdout.write(run.output);
    } catch (e) {
        if (e instanceof ConfigError || e instanceof CloudflareApiError) console.error(`adopt: ${e.message}`);
        else console.error(`adopt ${stack} failed: ${(e as Error).stack ?? e}`);
        process.exit(1);
    }
}

void cli();
