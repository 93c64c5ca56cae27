import { planRollback, release } from "./deploy/run";
import { targetNames } from "./deploy/targets";
import { answerHelp } from "./usage";

/**
 * `npm run rollback -- <stack> <service> [--dry-run] [--no-up] [--no-push]`
 *
 * Puts back the image reference the last recorded deploy of that service replaced (deploy/history/<stack>.json), by
 * the same path as a deploy: stack file, history, render, commit, push, `pulumi up`. Refuses when the history holds
 * no such deploy. --dry-run only says what it would deploy. Exit 0 on success, 1 when a step failed, 2 on bad usage.
 */
const USAGE = `usage: npm run rollback -- <stack> <service> [--dry-run] [--no-up] [--no-push]
  service: ${targetNames().join(", ")}`;

function main(): number {
    const argv = process.argv.slice(2);
    answerHelp(USAGE, argv);
    const flags = new Set(argv.filter((a) => a.startsWith("--")));
    const words = argv.filter((a) => !a.startsWith("--"));
    let stack: string;
    let service: string;
    try {
        for (const f of flags) if (!["--no-up", "--no-push", "--dry-run"].includes(f)) throw new Error(`unknown option ${f}`);
        if (words.length !== 2) throw new Error("give the stack and one service");
        [stack, service] = words;
    } catch (e) {
        console.error(`rollback: ${(e as Error).message}\n${USAGE}`);
        return 2;
    }
    if (flags.has("--dry-run")) {
        try {
            const p = planRollback(stack, service);
            console.log(`rollback ${stack} ${service} would deploy ${p.key}: ${p.from ?? "(unset)"} → ${p.to}`);
            return 0;
        } catch (e) {
            console.error(`rollback: ${(e as Error).message}`);
            return 1;
        }
    }
    return release({ stack, up: !flags.has("--no-up"), push: !flags.has("--no-push") }, () => [planRollback(stack, service)]);
}

process.exitCode = main();
