import { createInterface } from "node:readline";
import { checkSnapshotId, checkTargetTime, resolveTarget, runRemote, takeTargetOptions, TARGET_USAGE } from "./backup/remote";

/**
 * `npm run restore -- <stack> [--snapshot ID | --to-time TIMESTAMP] [--yes] [--drill] [target options]`
 *
 * Restores a snapshot (default: the latest) into the running platform on the stack's host: Chatwoot rails and
 * sidekiq stop, the database and files are replaced, they start again and must turn healthy. Asks for the stack name
 * first unless --yes. With --drill it restores into a scratch Postgres instead, compares row counts with the live
 * database and touches nothing. With --to-time the database (not the files) is recovered to that moment from the WAL
 * archive (point-in-time recovery, docs/backups.md); a malformed timestamp is refused here, one outside the recovery
 * window by the host, both before anything stops. Exit 0 on success, 1 on failure (missing snapshot, wrong password, unreachable
 * repository, not confirmed), 2 on bad usage.
 */
const USAGE = `usage: npm run restore -- <stack> [--snapshot ID | --to-time TIMESTAMP] [--yes] [--drill] ${TARGET_USAGE}`;

interface Args {
    readonly stack?: string;
    readonly snapshot?: string;
    readonly toTime?: string;
    readonly yes: boolean;
    readonly drill: boolean;
}

function parse(rest: readonly string[]): Args {
    let stack: string | undefined;
    let snapshot: string | undefined;
    let toTime: string | undefined;
    let yes = false;
    let drill = false;
    for (let i = 0; i < rest.length; i++) {
        const arg = rest[i];
        if (arg === "--yes") yes = true;
        else if (arg === "--drill") drill = true;
        else if (arg === "--snapshot") {
            const v = rest[++i];
            if (v === undefined) throw new Error("--snapshot needs an id");
            snapshot = checkSnapshotId(v);
        } else if (arg === "--to-time") {
            const v = rest[++i];
            if (v === undefined) throw new Error("--to-time needs a timestamp, e.g. 2026-12-05T14:30:00Z");
            toTime = checkTargetTime(v);
        } else if (arg.startsWith("-")) throw new Error(`unknown option ${arg}`);
        else if (stack === undefined) stack = arg;
        else throw new Error(`unexpected argument ${arg}`);
    }
    if (snapshot !== undefined && toTime !== undefined) throw new Error("--snapshot and --to-time exclude each other");
    return { stack, snapshot, toTime, yes, drill };
}

/** One line from standard input (a terminal or a pipe); undefined at its end. */
function ask(question: string): Promise<string | undefined> {
    return new Promise((resolve) => {
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        let answered = false;
        rl.question(question, (answer) => {
            answered = true;
            rl.close();
            resolve(answer.trim());
        });
        rl.on("close", () => {
            if (!answered) resolve(undefined);
        });
    });
}

async function main(): Promise<number> {
    const argv = process.argv.slice(2);
    if (argv.includes("--help") || argv.includes("-h")) {
        console.log(USAGE);
        return 0;
    }
    let args: Args;
    let target;
    try {
        const { target: opts, rest } = takeTargetOptions(argv);
        args = parse(rest);
        opts.stack = args.stack;
        if (!opts.stack && !opts.host && !opts.outputs) throw new Error("which stack? give its name (dev, prod)");
        target = resolveTarget(opts);
    } catch (e) {
        console.error(`restore: ${(e as Error).message}\n${USAGE}`);
        return 2;
    }
    const snapshotWords = args.toTime ? ["--to-time", args.toTime] : args.snapshot ? ["--snapshot", args.snapshot] : [];
    const what = args.toTime ? `its database as it was at ${args.toTime} (the files stay)` : `snapshot ${args.snapshot ?? "latest"}`;
    if (args.drill) return runRemote(target, ["visualkit-backup-drill", ...snapshotWords]);

    if (!args.yes) {
        const name = args.stack ?? target.destination;
        const answer = await ask(
            `This replaces Chatwoot's database and files on ${target.destination} (${name}) with ${what}; ` +
                `rails and sidekiq stop meanwhile.\nType ${name} to go on: `,
        );
        if (answer !== name) {
            console.error(`restore: not confirmed${answer === undefined ? " (no answer on standard input; pass --yes to skip the question)" : ""}; nothing was changed`);
            return 1;
        }
    }
    return runRemote(target, ["visualkit-restore", "--yes", ...snapshotWords]);
}

void main().then((code) => {
    process.exitCode = code;
});
