import { readFileSync } from "node:fs";
import { backupsOf, readRemote, resolveTarget, takeTargetOptions, type TargetOptions } from "../backup/remote";
import type { Verdict } from "./check";

/**
 * Backup freshness for the smoke checker (`--backups`): the age of the last successful backup and restore drill,
 * read from the status file the host scripts keep (/var/lib/visualkit/backup-status.json), over SSH from the host
 * the stack outputs name, or from a local copy with `--backup-status FILE`. Without either flag smoke needs no SSH.
 */
const HOUR_MS = 3_600_000;
/** The backup runs daily (26 h leaves room for a late timer), the drill weekly. */
export const FRESHNESS = {
    backup: { warnHours: 26, failHours: 48 },
    drill: { warnHours: 8 * 24, failHours: 15 * 24 },
} as const;

export interface FreshnessResult {
    readonly name: "backup" | "drill";
    readonly verdict: Verdict;
    readonly lastSuccess?: string;
    readonly ageHours?: number;
    readonly message: string;
}

interface Entry {
    lastSuccess?: unknown;
    lastFailure?: unknown;
    lastError?: unknown;
    snapshot?: unknown;
}

const time = (v: unknown): number | undefined => (typeof v === "string" && !Number.isNaN(Date.parse(v)) ? Date.parse(v) : undefined);
const age = (hours: number) => (hours >= 48 ? `${(hours / 24).toFixed(1)} days` : `${hours.toFixed(1)} h`);

/** Verdicts for the backup and the drill from the status file's content at `now`. */
export function backupFreshness(status: unknown, now: Date): FreshnessResult[] {
    const doc = (status && typeof status === "object" ? status : {}) as Record<string, Entry | undefined>;
    return (["backup", "drill"] as const).map((name) => {
        const entry = doc[name] ?? {};
        const limits = FRESHNESS[name];
        const success = time(entry.lastSuccess);
        const failure = time(entry.lastFailure);
        const failedSince = failure !== undefined && (success === undefined || failure > success) ? `; the last run failed (${String(entry.lastError ?? "see the journal")})` : "";
        if (success === undefined) return { name, verdict: "fail", message: `no successful ${name} recorded yet${failedSince}` };
        const hours = (now.getTime() - success) / HOUR_MS;
        const base = { name, lastSuccess: new Date(success).toISOString(), ageHours: Math.round(hours * 10) / 10 };
        if (hours > limits.failHours) return { ...base, verdict: "fail", message: `last successful ${name} ${age(hours)} ago (over ${age(limits.failHours)})${failedSince}` };
        if (hours > limits.warnHours) return { ...base, verdict: "warn", message: `last successful ${name} ${age(hours)} ago (over ${age(limits.warnHours)})${failedSince}` };
        return { ...base, verdict: failedSince ? "warn" : "ok", message: failedSince ? failedSince.slice(2) : "" };
    });
}

export function formatFreshness(results: readonly FreshnessResult[]): string {
    const rows = [["BACKUPS", "LAST SUCCESS", "AGE", "RESULT"], ...results.map((r) => [r.name, r.lastSuccess ?? "-", r.ageHours === undefined ? "-" : age(r.ageHours), r.verdict === "ok" ? "OK" : `${r.verdict.toUpperCase()} ${r.message}`])];
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ")).join("\n") + "\n";
}

export interface BackupOptions {
    /** Read the status over SSH from the host in the outputs (with these SSH options). */
    readonly ssh?: TargetOptions;
    /** Read it from this local file instead. */
    readonly statusFile?: string;
}

/** Takes smoke's backup options out of argv: --backups [--host … --port … --identity … --known-hosts …] or --backup-status FILE. */
export function takeBackupOptions(argv: readonly string[]): { backups?: BackupOptions; argv: string[] } {
    const i = argv.indexOf("--backup-status");
    if (i >= 0) {
        const file = argv[i + 1];
        if (!file) throw new Error("--backup-status needs a file");
        return { backups: { statusFile: file }, argv: [...argv.slice(0, i), ...argv.slice(i + 2)] };
    }
    if (!argv.includes("--backups")) return { argv: [...argv] };
    const { target, rest } = takeTargetOptions(argv.filter((a) => a !== "--backups"));
    return { backups: { ssh: target }, argv: rest };
}

/** Reads the status (over SSH or from the file) and judges it; a status that cannot be read fails both checks. */
export function checkBackups(opts: BackupOptions, outputsText: string, now = new Date()): FreshnessResult[] {
    let text: string;
    try {
        if (opts.statusFile) {
            text = readFileSync(opts.statusFile, "utf8");
        } else {
            const outputs = JSON.parse(outputsText) as Record<string, unknown>;
            const file = backupsOf(outputs, undefined).statusFile;
            text = readRemote(resolveTarget(opts.ssh ?? {}, outputs), ["cat", file]);
        }
        return backupFreshness(JSON.parse(text), now);
    } catch (e) {
        const message = `status not readable: ${(e as Error).message.split("\n")[0]}`;
        return (["backup", "drill"] as const).map((name) => ({ name, verdict: "fail" as const, message }));
    }
}
