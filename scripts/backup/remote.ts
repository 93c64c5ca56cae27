import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { pinnedHostKeyOptions } from "../../lib/ssh-host-key";

/**
 * How the operator commands (npm run backup / restore) and the smoke checker's --backups reach the host that holds
 * the backups: from the stack outputs (`backups.host` → that host's IPv4, as root) or from an explicit --host.
 */
export interface SshTarget {
    /** user@address */
    readonly destination: string;
    /** Arguments before the destination: port, key, known_hosts, no prompts. */
    readonly args: readonly string[];
}

export interface TargetOptions {
    stack?: string;
    /** user@address, instead of the stack outputs. */
    host?: string;
    port?: number;
    identity?: string;
    knownHosts?: string;
    /** A file with `pulumi stack output --json`, instead of asking the Pulumi CLI. */
    outputs?: string;
}

export const TARGET_USAGE = "[--host user@address] [--port N] [--identity KEY] [--known-hosts FILE] [--outputs outputs.json]";

/** Reads the target options out of argv; returns the other arguments in order. */
export function takeTargetOptions(argv: readonly string[]): { target: TargetOptions; rest: string[] } {
    const target: TargetOptions = {};
    const rest: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) throw new Error(`${arg} needs a value`);
            return v;
        };
        if (arg === "--host") target.host = value();
        else if (arg === "--port") {
            const n = Number(value());
            if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`--port must be a port number, got ${argv[i]}`);
            target.port = n;
        } else if (arg === "--identity") target.identity = value();
        else if (arg === "--known-hosts") target.knownHosts = value();
        else if (arg === "--outputs") target.outputs = value();
        else rest.push(arg);
    }
    return { target, rest };
}

interface BackupsOutputs {
    enabled?: boolean;
    repository?: string;
    host?: string;
    statusFile?: string;
}

/** The stack outputs: from --outputs, or from the Pulumi CLI (`pulumi stack output --json -s <stack>`). */
export function readOutputs(opts: TargetOptions): Record<string, unknown> {
    let text: string;
    let source: string;
    if (opts.outputs) {
        source = opts.outputs;
        text = readFileSync(opts.outputs === "-" ? 0 : opts.outputs, "utf8");
    } else {
        if (!opts.stack) throw new Error("which stack? give its name (dev, prod)");
        source = `pulumi stack output --json -s ${opts.stack}`;
        const res = spawnSync("npx", ["pulumi", "stack", "output", "--json", "-s", opts.stack], { encoding: "utf8" });
        if (res.status !== 0) throw new Error(`${source} failed: ${(res.stderr || res.error?.message || "").trim()}; pass --outputs FILE or --host user@address instead`);
        text = res.stdout;
    }
    try {
        return JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
        throw new Error(`${source}: not JSON (${(e as Error).message})`);
    }
}

/** The `backups` entry of the outputs; throws when the stack has backups off. */
export function backupsOf(outputs: Record<string, unknown>, stack: string | undefined): Required<BackupsOutputs> {
    const b = outputs.backups as BackupsOutputs | undefined;
    if (!b || typeof b !== "object") throw new Error("the stack outputs have no backups entry; run pulumi up with this version of the program first");
    if (!b.enabled) {
        throw new Error(`backups are off in stack ${stack ?? "(outputs)"}; turn them on with pulumi config set visualkit:backupsEnabled true and a visualkit:backupRepository, then pulumi up`);
    }
    return { enabled: true, repository: b.repository ?? "", host: b.host ?? "", statusFile: b.statusFile ?? "" };
}

/**
 * Where to SSH to: --host as given, or root@<IPv4 of a host in the outputs>: `hostName` (npm run ssh/exec/console:
 * the catalog host of the service), else the host that holds the backups. The server must present a key known
 * beforehand, never one learned on the way: with the outputs, the host's own key (`hosts.<name>.sshHostKey`, the key
 * the program installed); with --host, the one in --known-hosts or in ~/.ssh/known_hosts.
 */
export function resolveTarget(opts: TargetOptions, outputs?: Record<string, unknown>, hostName?: string): SshTarget {
    let destination = opts.host;
    let hostKey: string | undefined;
    if (!destination) {
        const out = outputs ?? readOutputs(opts);
        const name = hostName ?? backupsOf(out, opts.stack).host;
        const hosts = (out.hosts ?? {}) as Record<string, { ipv4?: string; sshHostKey?: string }>;
        const ipv4 = hosts[name]?.ipv4;
        if (!ipv4) throw new Error(`the stack outputs have no IPv4 address for host ${name}`);
        hostKey = hosts[name]?.sshHostKey;
        if (!hostKey && !opts.knownHosts) {
            throw new Error(`the stack outputs have no SSH host key for host ${name}; run pulumi up with this version of the program first, or pass --known-hosts FILE with the host's key`);
        }
        destination = `root@${ipv4}`;
    }
    if (!/^[A-Za-z0-9._-]+@[A-Za-z0-9.:_-]+$/.test(destination)) throw new Error(`--host must be user@address, got ${destination}`);
    const args = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=15"];
    if (opts.port) args.push("-p", String(opts.port));
    if (opts.identity) args.push("-i", opts.identity, "-o", "IdentitiesOnly=yes");
    if (opts.knownHosts) args.push("-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${opts.knownHosts}`);
    else if (hostKey) args.push(...pinnedHostKeyOptions(hostKey));
    else args.push("-o", "StrictHostKeyChecking=yes");
    return { destination, args };
}

/** Runs one command on the host, its output passed through; returns its exit status (255: SSH itself failed). */
export function runRemote(target: SshTarget, words: readonly string[]): number {
    // ssh joins the words into one line for the remote shell: every word is checked to need no quoting.
    // `:` and `+` (a --to-time timestamp) mean nothing to a POSIX shell.
    for (const w of words) if (!/^[A-Za-z0-9._\/:+-]+$/.test(w)) throw new Error(`refusing to send ${JSON.stringify(w)} over SSH unquoted`);
    const res = spawnSync("ssh", [...target.args, target.destination, words.join(" ")], { stdio: ["ignore", "inherit", "inherit"] });
    if (res.error) throw res.error;
    if (res.status === 255) console.error(`ssh to ${target.destination} failed (exit 255); is the host up and your key allowed?`);
    return res.status ?? 1;
}

/** Runs one command on the host and returns its standard output; throws with its error output on failure. */
export function readRemote(target: SshTarget, words: readonly string[]): string {
    for (const w of words) if (!/^[A-Za-z0-9._\/-]+$/.test(w)) throw new Error(`refusing to send ${JSON.stringify(w)} over SSH unquoted`);
    const res = spawnSync("ssh", [...target.args, target.destination, words.join(" ")], { encoding: "utf8", timeout: 60_000 });
    if (res.error) throw res.error;
    if (res.status !== 0) throw new Error(`ssh ${target.destination} ${words.join(" ")} exited ${res.status}: ${res.stderr.trim()}`);
    return res.stdout;
}

/** Snapshot ids are hex (a prefix is enough) or `latest`. */
export function checkSnapshotId(id: string): string {
    if (id !== "latest" && !/^[0-9a-f]{4,64}$/.test(id)) throw new Error(`--snapshot must be a snapshot id (hex, at least 4 characters) or latest, got ${id}`);
    return id;
}

/**
 * A --to-time timestamp, in UTC as the host scripts receive it (one shell word). A zone is required (`Z` or an offset):
 * a restore to the wrong hour is worse than a refusal. The host checks it again against the recovery window.
 */
export function checkTargetTime(value: string): string {
    const shape = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)$/;
    const [date, time] = value.split(/[T ]/);
    const ms = shape.test(value) ? Date.parse(`${date}T${time}`.replace(/([+-]\d{2})(\d{2})$/, "$1:$2")) : NaN;
    // Date.parse rolls 2026-02-30 over to March: the day must survive the round trip.
    const sameDay = !Number.isNaN(ms) && new Date(ms + offsetMs(value)).toISOString().slice(0, 10) === date;
    if (!sameDay) throw new Error(`--to-time '${value}' is not a timestamp with a zone: give it as 2026-12-05T14:30:00Z (UTC) or 2026-12-05T15:30:00+01:00`);
    return new Date(ms).toISOString();
}

/** The zone offset written in a timestamp, in milliseconds (0 for Z). */
function offsetMs(value: string): number {
    const m = /([+-])(\d{2}):?(\d{2})?$/.exec(value.replace(/^\d{4}-\d{2}-\d{2}/, ""));
    if (!m) return 0;
    return (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) * 60_000;
}
