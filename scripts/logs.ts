import { readOutputs, resolveTarget, runRemote, takeTargetOptions, TARGET_USAGE } from "./backup/remote";

/**
 * `npm run logs -- <stack> <container> [journalctl options] [target options]`
 *
 * A container's logs from the host's journal, over SSH (docs/monitoring.md#logs). Containers log to journald with
 * their name as the journal's identifier (catalog/defaults.ts CONTAINER_LOGS), so this also shows the copies a
 * deploy replaced, which `docker logs` cannot. Without options: the last 200 lines; any journalctl option may follow
 * (`-f`, `--since -2h`, `-n 1000`, `-o json`). The host is the stack's first (outputs `host.ipv4`) unless --host.
 * Exit: journalctl's status, 255 when SSH fails, 2 on bad usage.
 */
const USAGE = `usage: npm run logs -- <stack> <container> [journalctl options, e.g. -f --since -2h] ${TARGET_USAGE}`;
const DEFAULTS = ["-n", "200"];
/** Words that pass to the remote shell unquoted (runRemote's rule). */
const SAFE = /^[A-Za-z0-9._\/-]+$/;

/** The remote command for a container; throws with the reason on a word it will not send. */
export function logsCommand(container: string, options: readonly string[]): string[] {
    if (!/^[a-z0-9][a-z0-9_.-]*$/.test(container)) throw new Error(`"${container}" is not a container name (chatwoot-rails, janus-gateway, ...)`);
    const bad = options.find((o) => !SAFE.test(o));
    if (bad !== undefined) throw new Error(`journalctl option ${JSON.stringify(bad)} has characters the remote shell would read; write --since -2h rather than --since "2 hours ago"`);
    return ["journalctl", "--no-pager", "-o", "short-iso", "-t", container, ...(options.length > 0 ? options : DEFAULTS)];
}

function main(): number {
    const argv = process.argv.slice(2);
    if (argv.includes("--help") || argv.includes("-h")) {
        console.log(USAGE);
        return 0;
    }
    try {
        const { target: opts, rest } = takeTargetOptions(argv);
        const [stack, container, ...options] = rest;
        if (!stack || !container) throw new Error("which stack and which container? e.g. npm run logs -- prod chatwoot-rails");
        opts.stack = stack;
        const words = logsCommand(container, options);
        if (!opts.host) {
            const ipv4 = (readOutputs(opts).host as { ipv4?: string } | undefined)?.ipv4;
            if (!ipv4) throw new Error(`the outputs of stack ${stack} have no host.ipv4; run pulumi up first, or pass --host root@<address>`);
            opts.host = `root@${ipv4}`;
        }
        // With --host given, resolveTarget only builds the SSH arguments (port, key, known_hosts, no prompts).
        return runRemote(resolveTarget(opts), words);
    } catch (e) {
        console.error(`logs: ${(e as Error).message}\n${USAGE}`);
        return 2;
    }
}

if (require.main === module || process.argv[1]?.endsWith("logs.ts")) process.exitCode = main();
