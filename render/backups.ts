/**
 * What the Backups component puts on a host: the plain settings file, the systemd units and the install script that
 * writes them with the host scripts (scripts/host/backup*.sh, restore.sh). Pure, so the tests check the units with
 * systemd-analyze, the script with shellcheck and run it against a temporary root.
 */
import { createHash } from "node:crypto";
import { PITR_SPOOL_MARKER } from "../catalog/pitr";
import { shellQuote } from "../lib/shipped";

/** Where everything lives on the host; the operator commands and the freshness check read the same paths. */
export const BACKUP_PATHS = {
    conf: "/etc/visualkit/backup.conf",
    env: "/etc/visualkit/backup.env",
    sftpKey: "/etc/visualkit/backup-sftp-key",
    state: "/var/lib/visualkit",
    status: "/var/lib/visualkit/backup-status.json",
    lib: "/usr/local/lib/visualkit/backup",
    units: "/etc/systemd/system",
} as const;

/** The host scripts by file name under scripts/host/ and the command each is installed as (the library has none). */
export const BACKUP_SCRIPTS = [
    { file: "backup-lib.sh" },
    { file: "backup.sh", command: "visualkit-backup" },
    { file: "backup-drill.sh", command: "visualkit-backup-drill" },
    { file: "restore.sh", command: "visualkit-restore" },
    { file: "backup-prune.sh", command: "visualkit-backup-prune" },
    { file: "backup-alarm.sh", command: "visualkit-backup-alarm" },
    { file: "pitr-lib.sh" },
    { file: "pitr.sh", command: "visualkit-pitr" },
] as const;

export const BACKUP_TIMERS = ["visualkit-backup.timer", "visualkit-backup-drill.timer"] as const;
/** Point-in-time recovery's timer: the spooled WAL into pgBackRest and off site, every minute. */
export const PITR_TIMER = "visualkit-pitr-push.timer";

/** Where point-in-time recovery finds Postgres and keeps the WAL on the host (catalog/pitr.ts). */
export interface PitrLayout {
    /** Postgres's data folder, at the same path inside the container (PGDATA), as pgBackRest requires. */
    readonly dataPath: string;
    /** The container's socket folder on the host. */
    readonly socketPath: string;
    /** Where the container's archive_command spools finished WAL segments. */
    readonly spool: string;
    /** pgBackRest's repository on the data volume, shipped off site by restic. */
    readonly repository: string;
}

export interface BackupLayout {
    /** Tag of every snapshot (`visualkit-<stack>`): retention and restores only look at these. */
    readonly tag: string;
    /** Folders and links on the data volume that are backed up besides the dump (absolute). */
    readonly paths: readonly string[];
    /** Where dumps are staged (a folder on the data volume: a dump the size of the database must not fill the root disk). */
    readonly dumpDir: string;
    /** The running Postgres container, its superuser and Chatwoot's database. */
    readonly postgres: { readonly container: string; readonly user: string; readonly database: string };
    /** Containers that write (Chatwoot rails and sidekiq): stopped during a restore. */
    readonly writers: readonly string[];
    readonly keep: { readonly daily: number; readonly weekly: number; readonly monthly: number };
    /** systemd OnCalendar expressions. */
    readonly schedule: string;
    readonly drillSchedule: string;
    /** The repository is reached over SFTP with the key at BACKUP_PATHS.sftpKey. */
    readonly sftp: boolean;
    /**
     * The host's key is append-only on the backup box (forced to `rclone serve restic --append-only`): the host never
     * prunes; the backup-prune workflow does with its own key. Otherwise the timer's unit prunes after the backup.
     */
    readonly appendOnly: boolean;
    /**
     * Point-in-time recovery (pgBackRest): the WAL pushed every minute, a base backup nightly, the drill to a time.
     * @default undefined (dumps only)
     */
    readonly pitr?: PitrLayout;
}

/** /etc/visualkit/backup.conf: the plain settings (no secret), sourced by the scripts. */
export function renderBackupConf(l: BackupLayout): string {
    const v: Record<string, string> = {
        VISUALKIT_BACKUP_TAG: l.tag,
        VISUALKIT_BACKUP_PATHS: l.paths.join(" "),
        VISUALKIT_DUMP_DIR: l.dumpDir,
        VISUALKIT_PG_CONTAINER: l.postgres.container,
        VISUALKIT_PG_USER: l.postgres.user,
        VISUALKIT_PG_DB: l.postgres.database,
        VISUALKIT_APP_CONTAINERS: l.writers.join(" "),
        VISUALKIT_KEEP_DAILY: String(l.keep.daily),
        VISUALKIT_KEEP_WEEKLY: String(l.keep.weekly),
        VISUALKIT_KEEP_MONTHLY: String(l.keep.monthly),
        ...(l.sftp ? { VISUALKIT_SFTP_KEY: BACKUP_PATHS.sftpKey } : {}),
        ...(l.appendOnly ? { VISUALKIT_APPEND_ONLY: "1" } : {}),
        ...(l.pitr
            ? {
                  VISUALKIT_PITR: "1",
                  VISUALKIT_PG_DATA: l.pitr.dataPath,
                  VISUALKIT_PG_SOCKET: l.pitr.socketPath,
                  VISUALKIT_WAL_SPOOL: l.pitr.spool,
                  VISUALKIT_PITR_REPO: l.pitr.repository,
                  // The window: as many days as daily snapshots are kept.
                  VISUALKIT_PITR_DAYS: String(l.keep.daily),
              }
            : {}),
    };
    for (const p of l.paths) {
        if (/\s/.test(p)) throw new Error(`backups: the path ${p} has white space; VISUALKIT_BACKUP_PATHS is split on it`);
    }
    return ["# Written by the Backups component (pulumi up); secrets are in backup.env.", ...Object.entries(v).map(([k, x]) => `${k}=${shellQuote(x)}`), ""].join("\n");
}

/** /etc/visualkit/backup.env: the repository and its secrets, sourced by the scripts; never published or logged. */
export function renderBackupEnv(s: { repository: string; password: string; s3?: { accessKeyId: string; secretAccessKey: string } }): string {
    const v: Record<string, string> = {
        RESTIC_REPOSITORY: s.repository,
        RESTIC_PASSWORD: s.password,
        ...(s.s3 ? { AWS_ACCESS_KEY_ID: s.s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s.s3.secretAccessKey } : {}),
    };
    return Object.entries(v).map(([k, x]) => `${k}=${shellQuote(x)}\n`).join("");
}

/** Standard input of the install script: the env file and the SFTP key, each base64 on one line, so any bytes pass. */
export function renderBackupStdin(env: string, sftpKey?: string): string {
    const b64 = (t: string) => Buffer.from(t, "utf8").toString("base64");
    return `${b64(env)}\n${sftpKey ? b64(sftpKey.endsWith("\n") ? sftpKey : `${sftpKey}\n`) : "-"}\n`;
}

function unit(sections: Record<string, Record<string, string | string[]>>): string {
    return Object.entries(sections)
        .map(([name, kv]) => [`[${name}]`, ...Object.entries(kv).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}=${x}`))].join("\n"))
        .join("\n\n")
        .concat("\n");
}

/** The unit a failed backup or drill unit starts (OnFailure=), with the failed unit's name as its instance. */
export const BACKUP_ALARM_UNIT = "visualkit-backup-failed@.service";

/**
 * The two services (oneshot) and their timers; Persistent catches up a run missed while the host was off. A failure
 * of either service, whatever its cause (the script's error, a timeout, a kill), starts the alarm unit, which records
 * it where the freshness check and the metrics read it. Retention runs after the timer's backup only (ExecStartPost,
 * skipped when the backup failed), never from `npm run backup`; not at all on a host whose key is append-only.
 */
export function renderBackupUnits(l: BackupLayout): Record<string, string> {
    const service = (description: string, command: string | string[], post?: string) =>
        unit({
            Unit: {
                Description: description,
                Wants: "network-online.target",
                After: ["network-online.target", "docker.service"],
                Requires: "docker.service",
                OnFailure: BACKUP_ALARM_UNIT.replace("@.", "@%n."),
            },
            // Below the platform's services in CPU and disk priority: a backup must not slow calls down.
            Service: { Type: "oneshot", ExecStart: ([] as string[]).concat(command).map((c) => `/usr/local/sbin/${c}`), ...(post ? { ExecStartPost: `/usr/local/sbin/${post}` } : {}), Nice: "10", IOSchedulingClass: "idle" },
        });
    const timer = (description: string, calendar: string) =>
        unit({ Unit: { Description: description }, Timer: { OnCalendar: calendar, Persistent: "true", RandomizedDelaySec: "10min" }, Install: { WantedBy: "timers.target" } });
    return {
        "visualkit-backup.service": service("VisualKit backup: Chatwoot database and files into restic", "visualkit-backup", l.appendOnly ? undefined : "visualkit-backup-prune"),
        "visualkit-backup.timer": timer("Scheduled VisualKit backup", l.schedule),
        // With point-in-time recovery the drill also recovers to the moment it runs (base backup + every WAL segment since).
        "visualkit-backup-drill.service": service(
            "VisualKit restore drill: latest snapshot into a scratch Postgres",
            l.pitr ? ["visualkit-backup-drill", "visualkit-backup-drill --to-time now"] : "visualkit-backup-drill",
        ),
        "visualkit-backup-drill.timer": timer("Scheduled VisualKit restore drill", l.drillSchedule),
        ...(l.pitr
            ? {
                  "visualkit-pitr-push.service": service("VisualKit WAL archive: spooled WAL into pgBackRest, shipped off site", "visualkit-pitr push"),
                  // Every minute on the minute (AccuracySec: systemd's default would let it slip by up to a minute): with
                  // archive_timeout 60 s a commit is spooled within 60 s and off site within the next run.
                  [PITR_TIMER]: unit({
                      Unit: { Description: "VisualKit WAL archive, every minute" },
                      Timer: { OnCalendar: "*-*-* *:*:00", AccuracySec: "1s" },
                      Install: { WantedBy: "timers.target" },
                  }),
              }
            : {}),
        [BACKUP_ALARM_UNIT]: unit({
            Unit: { Description: "VisualKit backup alarm: records that %i failed" },
            Service: { Type: "oneshot", ExecStart: "/usr/local/sbin/visualkit-backup-alarm %i" },
        }),
    };
}

/** A path under the install root, as one shell word. */
const under = (p: string) => `"$root"${shellQuote(p)}`;

/** Writes a file through a here-document whose end marker cannot occur in the text, aside and renamed. */
function heredoc(path: string, text: string, mode: string): string[] {
    const marker = `VISUALKIT_EOF_${createHash("sha256").update(text).digest("hex").slice(0, 12)}`;
    const body = text.endsWith("\n") ? text : `${text}\n`;
    const next = under(`${path}.new`);
    return [`cat >${next} <<'${marker}'`, ...body.slice(0, -1).split("\n"), marker, `chmod ${mode} ${next}`, `mv -f ${next} ${under(path)}`];
}

/**
 * Installs restic and jq (Debian's packages), the scripts, the settings, the units, and from standard input the
 * env file and SFTP key (root-only, 0600), then enables the timers. Safe to run again. VISUALKIT_INSTALL_ROOT puts
 * every file under another folder, for the tests.
 */
export function renderBackupInstall(l: BackupLayout, scripts: Readonly<Record<string, string>>): string {
    const r = under;
    const lines = [
        "set -eu",
        'root="${VISUALKIT_INSTALL_ROOT:-}"',
        "umask 022",
        ...(l.pitr
            ? [
                  // pgBackRest from Debian (2.45 in bookworm); it pulls postgresql-common, which starts no server.
                  "if ! command -v restic >/dev/null 2>&1 || ! command -v jq >/dev/null 2>&1 || ! command -v pgbackrest >/dev/null 2>&1; then",
                  "  export DEBIAN_FRONTEND=noninteractive",
                  "  apt-get update -qq",
                  "  apt-get install -y -qq --no-install-recommends restic jq pgbackrest >/dev/null",
                  "fi",
              ]
            : [
                  "if ! command -v restic >/dev/null 2>&1 || ! command -v jq >/dev/null 2>&1; then",
                  "  export DEBIAN_FRONTEND=noninteractive",
                  "  apt-get update -qq",
                  "  apt-get install -y -qq --no-install-recommends restic jq >/dev/null",
                  "fi",
              ]),
        `mkdir -p ${r(BACKUP_PATHS.lib)} ${r("/usr/local/sbin")} ${r(BACKUP_PATHS.units)}`,
        `install -d -m 0700 ${r("/etc/visualkit")} ${r(BACKUP_PATHS.state)}`,
    ];
    for (const s of BACKUP_SCRIPTS) {
        const text = scripts[s.file];
        if (text === undefined) throw new Error(`backups: scripts/host/${s.file} was not given`);
        lines.push(...heredoc(`${BACKUP_PATHS.lib}/${s.file}`, text, "command" in s ? "0755" : "0644"));
        if ("command" in s) lines.push(`ln -sfn ${shellQuote(`${BACKUP_PATHS.lib}/${s.file}`)} ${r(`/usr/local/sbin/${s.command}`)}`);
    }
    lines.push(...heredoc(BACKUP_PATHS.conf, renderBackupConf(l), "0644"));
    for (const [name, text] of Object.entries(renderBackupUnits(l))) lines.push(...heredoc(`${BACKUP_PATHS.units}/${name}`, text, "0644"));
    lines.push(
        // Secrets come on standard input only: never on a command line, in the state's plain inputs or in rendered/.
        "umask 077",
        "IFS= read -r env_b64",
        "IFS= read -r key_b64",
        `printf '%s' "$env_b64" | base64 -d >${r(`${BACKUP_PATHS.env}.new`)}`,
        `mv -f ${r(`${BACKUP_PATHS.env}.new`)} ${r(BACKUP_PATHS.env)}`,
        'if [ "$key_b64" != - ]; then',
        `  printf '%s' "$key_b64" | base64 -d >${r(`${BACKUP_PATHS.sftpKey}.new`)}`,
        `  mv -f ${r(`${BACKUP_PATHS.sftpKey}.new`)} ${r(BACKUP_PATHS.sftpKey)}`,
        "else",
        `  rm -f ${r(BACKUP_PATHS.sftpKey)}`,
        "fi",
        'if [ -z "$root" ]; then',
        "  systemctl daemon-reload",
        `  systemctl enable --now ${[...BACKUP_TIMERS, ...(l.pitr ? [PITR_TIMER] : [])].join(" ")} >/dev/null`,
        "fi",
        'echo "backups installed: $(restic version | cut -d" " -f1-2)"',
    );
    return lines.join("\n") + "\n";
}

/**
 * Run when backups are turned off: the timers stop; scripts, settings and the repositories stay. The WAL spool's
 * marker goes, so Postgres stops copying segments nobody pushes any more (catalog/pitr.ts archiveCommand).
 */
export function renderBackupDisable(walSpool?: string): string {
    return [
        "set -eu",
        // Nothing to do on a host that never had them: disable fails there, which is fine.
        `systemctl disable --now ${[...BACKUP_TIMERS, PITR_TIMER].join(" ")} >/dev/null 2>&1 || true`,
        ...(walSpool ? [`rm -f ${shellQuote(`${walSpool}/${PITR_SPOOL_MARKER}`)}`] : []),
        'echo "backups off"',
        "",
    ].join("\n");
}
