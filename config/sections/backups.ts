import { checkCalendar } from "../calendar";
import type { ConfigReader } from "../reader";
import { SECRET_PLACEHOLDER } from "../secret";
import type { BackupConfig, Environment } from "../types";

/** restic's two repository kinds we support: S3 (Hetzner Object Storage) and SFTP (Hetzner Storage Box). */
const S3_REPOSITORY = /^s3:(https?:\/\/)?[a-z0-9.-]+(:\d+)?\/[a-z0-9][a-z0-9.-]{1,62}(\/[A-Za-z0-9._\/-]*)?$/i;
const SFTP_REPOSITORY = /^sftp:(\/\/([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+(:\d+)?\/[A-Za-z0-9._\/~-]+|([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:[A-Za-z0-9._\/~-]+)$/;

/**
 * Backups: off (undefined) or every value the Backups component needs. prod with backups on needs a repository.
 * `valid` is false when a backup key has a problem (reported), so the config is not built.
 */
export function readBackups(r: ConfigReader, environment: Environment | undefined): { config?: BackupConfig; valid: boolean } {
    let valid = true;
    const add = (key: string, problem: string, fix: string) => {
        valid = false;
        r.add(key, problem, fix);
    };
    const enabled = r.bool("backupsEnabled");
    const repository = r.optStr("backupRepository");
    const appendOnly = r.bool("backupAppendOnly");
    const keep = { daily: r.int("backupKeepDaily"), weekly: r.int("backupKeepWeekly"), monthly: r.int("backupKeepMonthly") };
    const schedule = r.str("backupSchedule");
    const drillSchedule = r.str("backupDrillSchedule");
    if (enabled === undefined) return { valid: false };
    if (!enabled) return { valid };
    const example = "s3:https://nbg1.your-objectstorage.com/<bucket>/" + r.stack;
    if (repository === undefined) {
        const where = environment === "prod" ? "is required in prod while visualkit:backupsEnabled is true" : "is required while visualkit:backupsEnabled is true";
        add("backupRepository", where, `${r.setCmd("backupRepository", example)} (see docs/backups.md), or turn backups off explicitly: ${r.setCmd("backupsEnabled", "false")}`);
        return { valid };
    }
    const kind = S3_REPOSITORY.test(repository) ? "s3" : SFTP_REPOSITORY.test(repository) ? "sftp" : undefined;
    if (kind === "s3" && /^s3:http:\/\//i.test(repository)) {
        add("backupRepository", `"${repository}" reaches the object storage over plain HTTP: the access key id and every request travel readable (restic's S3 client uses TLS only for https)`, r.setCmd("backupRepository", repository.replace(/^s3:http:/i, "s3:https:")));
    }
    if (!kind) {
        add("backupRepository", `"${repository}" is not a restic repository this program supports (s3:https://<endpoint>/<bucket>/<path> or sftp://<user>@<host>:<port>/<path>)`, r.setCmd("backupRepository", example));
    }
    const password = r.secret("backupPassword", true);
    const accessKeyId = r.secret("backupS3AccessKeyId", kind === "s3");
    const secretAccessKey = r.secret("backupS3SecretAccessKey", kind === "s3");
    const sftpPrivateKey = r.secret("backupSftpPrivateKey", kind === "sftp");
    // The offline render stands [secret] in for an encrypted key (stack/stack-config.ts): nothing to look at then.
    if (kind === "sftp" && sftpPrivateKey && sftpPrivateKey.reveal() !== SECRET_PLACEHOLDER && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(sftpPrivateKey.reveal())) {
        add("backupSftpPrivateKey", "is not an OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY-----)", `cat key | pulumi config set --secret visualkit:backupSftpPrivateKey -s ${r.stack}`);
    }
    for (const [period, n] of Object.entries(keep)) {
        const key = `backupKeep${period[0].toUpperCase()}${period.slice(1)}`;
        if (n !== undefined && n > 1000) add(key, `${n} is more snapshots than restic's retention is meant for`, r.setCmd(key, "7"));
    }
    if (keep.daily === 0 && keep.weekly === 0 && keep.monthly === 0) {
        add("backupKeepDaily", "and backupKeepWeekly and backupKeepMonthly are all 0, so every backup would be removed right after it is taken", r.setCmd("backupKeepDaily", "7"));
    } else if (keep.daily !== undefined && keep.daily < 3) {
        // The daily ones are the only distinct snapshots a retention is sure to keep (one snapshot can be the day's,
        // the week's and the month's at once): fewer than 3 lets a bad backup or two push out the last good one.
        add("backupKeepDaily", `${keep.daily} keeps fewer than 3 daily snapshots: two bad backups in a row could leave no good one`, r.setCmd("backupKeepDaily", "7"));
    }
    if (appendOnly && kind === "s3") {
        add("backupAppendOnly", "needs an sftp:// repository on a backup box that forces the host's key to rclone serve restic --append-only (docs/backups.md)", `${r.setCmd("backupRepository", "sftp://<user>@<backup box>:22/<path>")}, or ${r.setCmd("backupAppendOnly", "false")}`);
    }
    for (const [key, v] of [["backupSchedule", schedule], ["backupDrillSchedule", drillSchedule]] as const) {
        const why = v === undefined ? undefined : checkCalendar(v);
        if (why) add(key, `"${v}" ${why} (a systemd calendar expression such as "*-*-* 03:30:00", see config/calendar.ts)`, `${r.setCmd(key, "'*-*-* 03:30:00'")} (check one with systemd-analyze calendar '<expression>')`);
    }
    if (!valid || !kind || !password || appendOnly === undefined || keep.daily === undefined || keep.weekly === undefined || keep.monthly === undefined || !schedule || !drillSchedule) return { valid: false };
    if (kind === "s3" && (!accessKeyId || !secretAccessKey)) return { valid: false };
    if (kind === "sftp" && !sftpPrivateKey) return { valid: false };
    return {
        valid,
        config: {
            repository,
            kind,
            password,
            s3: kind === "s3" ? { accessKeyId: accessKeyId!, secretAccessKey: secretAccessKey! } : undefined,
            sftpPrivateKey: kind === "sftp" ? sftpPrivateKey : undefined,
            appendOnly,
            keep: { daily: keep.daily, weekly: keep.weekly, monthly: keep.monthly },
            schedule,
            drillSchedule,
        },
    };
}
