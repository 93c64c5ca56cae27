import { readFileSync } from "node:fs";
import { runChecks } from "./smoke/check";
import { parseHealthChecks } from "./smoke/input";
import { parseAddress } from "./smoke/probe";
import { formatTable } from "./smoke/table";

/**
 * `npm run smoke -- <outputs.json | -> [--timeout <ms>] [--warn-days <n>] [--ca <pem-file>]... [--address <host[:port]>]`
 *
 * Runs every entry of the stack outputs' `healthChecks` at once: the HTTP status, the WebSocket handshake with its
 * subprotocol, and for https/wss the days until the certificate expires. Prints a table; exit 0 when nothing
 * failed (warnings included), 1 when a check failed, 2 on bad usage or unreadable outputs.
 */
const USAGE = "usage: npm run smoke -- <outputs.json | -> [--timeout <ms>] [--warn-days <n>] [--ca <pem-file>]... [--address <host[:port]>]";

interface Args {
    readonly source: string;
    readonly timeoutMs: number;
    readonly warnDays: number;
    readonly ca: string[];
    readonly address?: { host: string; port?: number };
}

function parseArgs(argv: readonly string[]): Args {
    let source: string | undefined;
    let timeoutMs = 10_000;
    let warnDays = 14;
    const ca: string[] = [];
    let address: Args["address"];
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
        if (arg === "--timeout") timeoutMs = positive(value());
        else if (arg === "--warn-days") warnDays = positive(value());
        else if (arg === "--ca") ca.push(readFileSync(value(), "utf8"));
        else if (arg === "--address") address = parseAddress(value());
        else if (arg.startsWith("--")) throw new Error(`unknown option ${arg}`);
        else if (source === undefined) source = arg;
        else throw new Error(`unexpected argument ${arg}`);
    }
    if (source === undefined) throw new Error("which outputs? give a file, or - to read stdin");
    return { source, timeoutMs, warnDays, ca, address };
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
    try {
        args = parseArgs(process.argv.slice(2));
        checks = parseHealthChecks(readSource(args.source), args.source === "-" ? "stdin" : args.source);
    } catch (e) {
        console.error(`smoke: ${(e as Error).message}\n${USAGE}`);
        process.exit(2);
    }
    const results = await runChecks(checks, { timeoutMs: args.timeoutMs, warnDays: args.warnDays, ca: args.ca, address: args.address });
    process.stdout.write(formatTable(results));
    process.exitCode = results.some((r) => r.verdict === "fail") ? 1 : 0;
}

void cli();
