import { parseChange } from "./deploy/release";
import { planDeploy, release } from "./deploy/run";
import { targetNames } from "./deploy/targets";

/**
 * `npm run deploy -- <stack> <service>=<image> [<service>=<image> …] [--no-up] [--no-push]`
 *
 * Writes immutable image references into Pulumi.<stack>.yaml, records the previous ones in deploy/history/<stack>.json,
 * re-renders rendered/<stack>, commits and pushes to main, then runs `pulumi up` (docs/deploy.md). Exit 0 on success,
 * 1 when a step failed, 2 on bad usage.
 */
const USAGE = `usage: npm run deploy -- <stack> <service>=<image> [<service>=<image> …] [--no-up] [--no-push]
  service: ${targetNames().join(", ")}
  image:   a digest (registry/name@sha256:…) or a full version tag (registry/name:1.2.3)`;

function main(): number {
    const argv = process.argv.slice(2);
    if (argv.includes("--help") || argv.includes("-h")) {
        console.log(USAGE);
        return 0;
    }
    const flags = new Set(argv.filter((a) => a.startsWith("--")));
    const words = argv.filter((a) => !a.startsWith("--"));
    try {
        for (const f of flags) if (f !== "--no-up" && f !== "--no-push") throw new Error(`unknown option ${f}`);
        const [stack, ...pairs] = words;
        if (!stack || stack.includes("=")) throw new Error("which stack? give its name first (dev, prod)");
        if (pairs.length === 0) throw new Error("what to deploy? give <service>=<image>");
        const changes = pairs.map(parseChange);
        return release({ stack, up: !flags.has("--no-up"), push: !flags.has("--no-push") }, () => planDeploy(stack, changes));
    } catch (e) {
        console.error(`deploy: ${(e as Error).message}\n${USAGE}`);
        return 2;
    }
}

process.exitCode = main();
