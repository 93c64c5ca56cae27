import { readBackups } from "../../../config/sections/backups";
import { issue, readSection } from "../../helpers/config-reader";

const S3 = { backupsEnabled: "true", backupRepository: "s3:https://nbg1.your-objectstorage.com/visualkit-backups/prod", backupPassword: "pw", backupS3AccessKeyId: "AKIA", backupS3SecretAccessKey: "sk" };
const prod = (r: Parameters<typeof readBackups>[0]) => readBackups(r, "prod");

describe("backups section", () => {
    test("off: no backup config, nothing else needed", () => {
        expect(readSection(prod, { backupsEnabled: "false" })).toEqual({ value: { valid: true }, issues: [] });
    });

    test("an S3 repository with its keys: the declared retention and schedules", () => {
        const { value, issues } = readSection(prod, S3);
        expect(issues).toEqual([]);
        expect(value.valid).toBe(true);
        expect(value.config).toMatchObject({ repository: S3.backupRepository, kind: "s3", keep: { daily: 7, weekly: 4, monthly: 6 }, schedule: "*-*-* 03:30:00", drillSchedule: "Sun *-*-* 05:00:00", sftpPrivateKey: undefined });
        expect(value.config?.s3?.secretAccessKey.reveal()).toBe("sk");
    });

    test.each([
        ["on in prod without a repository", { backupRepository: undefined }, issue("backupRepository", /is required in prod while visualkit:backupsEnabled is true/, /or turn backups off explicitly: pulumi config set visualkit:backupsEnabled false -s prod/)],
        ["a repository restic has no backend for", { backupRepository: "rclone:remote:bucket" }, issue("backupRepository", /is not a restic repository this program supports/, /set visualkit:backupRepository s3:/)],
        ["an S3 repository without its secret key", { backupS3SecretAccessKey: undefined }, issue("backupS3SecretAccessKey", /is a required secret and is not set/, /set --secret visualkit:backupS3SecretAccessKey/)],
        ["retention of nothing", { backupKeepDaily: "0", backupKeepWeekly: "0", backupKeepMonthly: "0" }, issue("backupKeepDaily", /are all 0/, /set visualkit:backupKeepDaily 7/)],
        ["a retention that keeps fewer than 3 daily snapshots", { backupKeepDaily: "2" }, issue("backupKeepDaily", /keeps fewer than 3 daily snapshots/, /set visualkit:backupKeepDaily 7/)],
        ["append-only with an S3 repository", { backupAppendOnly: "true" }, issue("backupAppendOnly", /needs an sftp:\/\/ repository/, /set visualkit:backupAppendOnly false/)],
        ["a schedule systemd cannot read", { backupSchedule: "daily;reboot" }, issue("backupSchedule", /is not a systemd calendar expression/, /systemd-analyze calendar/)],
    ])("%s is reported with its key and fix, and nothing is backed up from it", (_, change, expected) => {
        const { value, issues } = readSection(prod, { ...S3, ...change });
        expect(issues).toEqual([expected]);
        expect(value).toEqual({ valid: false });
    });
});
