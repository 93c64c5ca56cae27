import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError } from "../config/issues";
import { CloudflareApiError } from "./adopt/cloudflare-api";
import { runAdopt } from "./adopt/run";

/**
 * `npm run adopt -- <stack> [--dry-run]`: the takeover table and `visualkit:adopt` (scripts/adopt/run.ts).
 * Exit 0 when done, 1 when Cloudflare refused or the config is invalid, 2 on usage or a missing token.
 */
async function cli(): Promise<void> {
    const args = process.argv.slice(2);
    const dryRun = args.includes("--dry-run");
    const stack = args.find((a) => !a.startsWith("--"));
    const root = resolve(__dirname, "..");
    if (!stack || !existsSync(join(root, `Pulumi.${stack}.yaml`))) {
        console.error(`usage: npm run adopt -- <stack> [--dry-run]   (a stack with a Pulumi.<stack>.yaml here${stack ? `; Pulumi.${stack}.yaml not found` : ""})`);
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
        const run = await runAdopt({ root, stack, token, baseUrl: process.env.CLOUDFLARE_API_BASE_URL || undefined, write: !dryRun });
        process.stdout.write(run.output);
    } catch (e) {
        if (e instanceof ConfigError || e instanceof CloudflareApiError) console.error(`adopt: ${e.message}`);
        else console.error(`adopt ${stack} failed: ${(e as Error).stack ?? e}`);
        process.exit(1);
    }
}

void cli();
