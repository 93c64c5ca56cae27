import { readFileSync } from "node:fs";
import { checkBackups, formatFreshness, takeBackupOptions, type BackupOptions } from "./smoke/backups";
import { runChecks, type CheckResult, type SmokeCheck } from "./smoke/check";
import { certificateChecks, hostServedNames, parseHealthChecks } from "./smoke/input";
import { parseAddress } from "./smoke/probe";
import { turnChecks } from "./smoke/turn";
import { formatTable } from "./smoke/table";

/**
 * `npm run smoke -- <outputs.json | -> [--timeout <ms>] [--warn-days <n>] [--fail-days <n>] [--ca <pem-file>]... [--address <host[:port]>] [--turn-address <host[:port]>] [--backups [ssh options] | --backup-status <file>]`
 *
 * Runs every entry of the stack outputs' `healthChecks` at once: the HTTP status, the WebSocket handshake with its
 * subprotocol, and for https/wss the days until the certificate expires (warning under 21 days, failure under 7);
 * every other https/wss hostname of `endpoints` gets a certificate check; the `turn` output gets a TLS handshake and a
 * STUN Binding request at its TURN address (scripts/smoke/turn.ts; with --address, only when --turn-address says where
 * the TURN address is, since it is not the host's). Prints a table; exit 0 when nothing
 * failed (warnings included), 1 when a check failed, 2 on bad usage or unreadable outputs.
 */
const USAGE = "usage: npm run smoke -- <outputs.json | -> [--timeout <ms>] [--warn-days <n>] [--fail-days <n>] [--ca <pem-file>]... [--address <host[:port]>] [--turn-address <host[:port]>] [--backups [--host user@addr] [--port N] [--identity KEY] [--known-hosts FILE] | --backup-status FILE]";

interface Args {
    readonly source: string;
    readonly timeoutMs: number;
    readonly warnDays: number;
    readonly failDays: number;
    readonly ca: string[];
    readonly address?: { host: string; port?: number };
    /** Where the TURN check connects instead of the outputs' turn.address (a test host's forwarded port). */
    readonly turnAddress?: { host: string; port?: number };
}

function parseArgs(argv: readonly string[]): Args {
    let source: string | undefined;
    let timeoutMs = 10_000;
    let warnDays = 21;
    let failDays = 7;
    const ca: string[] = [];
    let address: Args["address"];
    let turnAddress: Args["turnAddress"];
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined) throw new Error(`${arg} needs a value`);
            return v;
        };
        const positive = (v: string) => {
            const n = Number(v);
            if (!Number.isInteger(n) || n <= 0) throw new Error(`${arg} must be a positive whole number, got ${v}`);
            return n;
        };
        // 0 days: only an expired certificate fails or warns (short-lived certificates, e.g. Caddy's internal CA's 12 h).
        const days = (v: string) => {
            const n = Number(v);
            if (!Number.isInteger(n) || n < 0) throw new Error(`${arg} must be a whole number of days (0 or more), got ${v}`);
            return n;
        };
        if (arg === "--timeout") timeoutMs = positive(value());
        else if (arg === "--warn-days") warnDays = days(value());
        else if (arg === "--fail-days") failDays = days(value());
        else if (arg === "--ca") ca.push(readFileSync(value(), "utf8"));
        else if (arg === "--address") address = parseAddress(value());
        else if (arg === "--turn-address") turnAddress = parseAddress(value());
        else if (arg.startsWith("--")) throw new Error(`unknown option ${arg}`);
        else if (source === undefined) source = arg;
        else throw new Error(`unexpected argument ${arg}`);
    }
    if (source === undefined) throw new Error("which outputs? give a file, or - to read stdin");
    if (failDays > warnDays) throw new Error(`--fail-days (${failDays}) must not exceed --warn-days (${warnDays})`);
    return { source, timeoutMs, warnDays, failDays, ca, address, turnAddress };
}

function readSource(source: string): string {
    return readFileSync(source === "-" ? 0 : source, "utf8");
}

async function cli(): Promise<void> {
    if (process.argv.includes("--help") || process.argv.includes("-h")) {
        console.log(USAGE);
        return;
    }
    let args: Args;
    let checks;
    let backups: BackupOptions | undefined;
    let outputsText: string;
    try {
        const taken = takeBackupOptions(process.argv.slice(2));
        backups = taken.backups;
        args = parseArgs(taken.argv);
        outputsText = readSource(args.source);
        const health = parseHealthChecks(outputsText, args.source === "-" ? "stdin" : args.source);
        // TURN (docs/turn.md): TLS and a STUN Binding at the TURN address the outputs name, or at --turn-address.
        checks = [...health, ...certificateChecks(outputsText, health), ...turnChecks(outputsText, args.turnAddress)];
    } catch (e) {
        console.error(`smoke: ${(e as Error).message}\n${USAGE}`);
        process.exit(2);
    }
    // --address is one server: hostnames the outputs place elsewhere (Pages, redirects) are not sent to it.
    const served = args.address ? hostServedNames(outputsText) : undefined;
    // TURN has an address of its own: with --address (one server, maybe before its DNS and addresses are real) it is
    // checked only where --turn-address points.
    const turnElsewhere = (c: SmokeCheck) => c.kind === "turn" && args.address !== undefined && args.turnAddress === undefined;
    const elsewhere = (c: SmokeCheck) => turnElsewhere(c) || (served !== undefined && c.kind === "certificate" && !served.has(new URL(c.url).hostname));
    const skipped: CheckResult[] = checks.filter(elsewhere).map((check) => ({
        check,
        verdict: "skip",
        ms: 0,
        message: turnElsewhere(check) ? "TURN has its own address, not --address's; pass --turn-address to check it there" : "not served by the host at --address (no A/AAAA record to it); checked without --address",
    }));
    const probed = await runChecks(checks.filter((c) => !elsewhere(c)), { timeoutMs: args.timeoutMs, warnDays: args.warnDays, failDays: args.failDays, ca: args.ca, address: args.address });
    const results = checks.map((c) => probed.find((r) => r.check === c) ?? skipped.find((r) => r.check === c)!);
    process.stdout.write(formatTable(results));
    // Backup freshness (scripts/smoke/backups.ts), only when asked for: it needs SSH to the host or a status file.
    const freshness = backups ? checkBackups(backups, outputsText) : [];
    if (backups) process.stdout.write(`\n${formatFreshness(freshness)}`);
    process.exitCode = [...results, ...freshness].some((r) => r.verdict === "fail") ? 1 : 0;
}

void cli();
