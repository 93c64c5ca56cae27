import { parseChange } from "./deploy/release";
import { resolveDigest } from "./deploy/resolve";
import { planDeploy, release } from "./deploy/run";
import { targetNames } from "./deploy/targets";
import { answerHelp } from "./usage";

/**
 * `npm run deploy -- <stack> <service>=<image> [<service>=<image> …] [--resolve] [--no-up] [--no-push]`
 *
 * Writes immutable image references into Pulumi.<stack>.yaml, records the previous ones in deploy/history/<stack>.json,
 * re-renders rendered/<stack>, commits and pushes to main, then runs `pulumi up` (docs/deploy.md). --resolve first asks
 * the registry for the digest each tag names (scripts/deploy/resolve.ts), so a moving tag is deployed as that build. Exit 0 on success,
 * 1 when a step failed, 2 on bad usage.
 */
const USAGE = `usage: npm run deploy -- <stack> <service>=<image> [<service>=<image> …] [--resolve] [--no-up] [--no-push]
  service: ${targetNames().join(", ")}
  image:   a digest (registry/name@sha256:…) or a full version tag (registry/name:1.2.3);
           with --resolve any tag, deployed as the digest the registry names for it now`;

async function main(): Promise<number> {
    const argv = process.argv.slice(2);
    answerHelp(USAGE, argv);
    const flags = new Set(argv.filter((a) => a.startsWith("--")));
    const words = argv.filter((a) => !a.startsWith("--"));
    try {
        for (const f of flags) if (!["--no-up", "--no-push", "--resolve"].includes(f)) throw new Error(`unknown option ${f}`);
        const [stack, ...pairs] = words;
        if (!stack || stack.includes("=")) throw new Error("which stack? give its name first (dev, prod)");
        if (pairs.length === 0) throw new Error("what to deploy? give <service>=<image>");
        let resolved = pairs;
        if (flags.has("--resolve")) {
            try {
                resolved = await Promise.all(pairs.map(resolvePair));
            } catch (e) {
                // The registry could not be asked: a failed step (1), not bad usage.
                console.error(`deploy: ${(e as Error).message}`);
                return 1;
            }
        }
        const changes = resolved.map(parseChange);
        return release({ stack, up: !flags.has("--no-up"), push: !flags.has("--no-push") }, () => planDeploy(stack, changes));
    } catch (e) {
        console.error(`deploy: ${(e as Error).message}\n${USAGE}`);
        return 2;
    }
}

/** `service=name:tag` → `service=name:tag@sha256:…`; a failure names the service and stops the deploy. */
async function resolvePair(pair: string): Promise<string> {
    const eq = pair.indexOf("=");
    if (eq <= 0) return pair;
    try {
        const image = await resolveDigest(pair.slice(eq + 1));
        if (image !== pair.slice(eq + 1)) console.log(`resolved ${pair.slice(eq + 1)} → ${image}`);
        return `${pair.slice(0, eq)}=${image}`;
    } catch (e) {
        throw new Error(`--resolve ${pair.slice(0, eq)}: ${(e as Error).message}`);
    }
}

void main().then((code) => (process.exitCode = code));
