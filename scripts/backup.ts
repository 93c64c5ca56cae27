import { resolveTarget, runRemote, takeTargetOptions, TARGET_USAGE } from "./backup/remote";

/**
 * `npm run backup -- <stack> [--list] [target options]`
 *
 * Takes a backup now on the stack's host (the same script the nightly timer runs) and prints its snapshot id, or with
 * --list lists the snapshots. Exit 0 on success, the host script's status on failure (1), 2 on bad usage.
 */
const USAGE = `usage: npm run backup -- <stack> [--list] ${TARGET_USAGE}`;

function main(): number {
    const argv = process.argv.slice(2);
    if (argv.includes("--help") || argv.includes("-h")) {
        console.log(USAGE);
        return 0;
    }
    let words: string[];
    let target;
    try {
        const { target: opts, rest } = takeTargetOptions(argv);
        const list = rest.includes("--list");
        const positional = rest.filter((a) => a !== "--list");
        const unknown = positional.find((a) => a.startsWith("-"));
        if (unknown) throw new Error(`unknown option ${unknown}`);
        if (positional.length > 1) throw new Error(`unexpected argument ${positional[1]}`);
        opts.stack = positional[0];
        if (!opts.stack && !opts.host && !opts.outputs) throw new Error("which stack? give its name (dev, prod)");
        target = resolveTarget(opts);
        words = list ? ["visualkit-backup", "--list"] : ["visualkit-backup"];
    } catch (e) {
        console.error(`backup: ${(e as Error).message}\n${USAGE}`);
        return 2;
    }
    return runRemote(target, words);
}

process.exitCode = main();
