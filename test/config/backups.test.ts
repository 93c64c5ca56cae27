import { parseConfig, type RawConfig } from "../../stack";
import { localFacts } from "../../config/local";
import { stackConfig } from "../helpers/program";

/** A committed stack file with overrides (undefined removes a key); `secret` marks keys as set with --secret. */
function raw(stack: "dev" | "prod", set: Record<string, string | undefined> = {}, secret: string[] = []): RawConfig {
    const { project, config, secretKeys } = stackConfig(stack);
    const values: Record<string, string> = { ...config };
    const secrets = new Set(secretKeys);
    // The render's placeholders for required secrets are not what a user has set: start from none.
    for (const k of ["backupPassword", "backupS3AccessKeyId", "backupS3SecretAccessKey", "backupSftpPrivateKey"]) {
        delete values[`visualkit:${k}`];
        secrets.delete(`visualkit:${k}`);
    }
    for (const [k, v] of Object.entries(set)) {
        if (v === undefined) delete values[`visualkit:${k}`];
        else values[`visualkit:${k}`] = v;
    }
    return { project, stack, values, secretKeys: new Set([...secrets, ...secret.map((k) => `visualkit:${k}`)]), env: { HCLOUD_TOKEN: "x", CLOUDFLARE_API_TOKEN: "x" }, local: localFacts({}, false) };
}

const S3 = "s3:https://nbg1.your-objectstorage.com/visualkit-backups/prod";
const SFTP = "sftp://u123456@u123456.your-storagebox.de:23/visualkit-prod";
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
const s3Secrets = { backupPassword: "pw", backupS3AccessKeyId: "AKIA", backupS3SecretAccessKey: "sk" };
const issuesOf = (r: RawConfig) => parseConfig(r).issues;

describe("backups config", () => {
    test("dev has backups off and needs nothing", () => {
        const { config, issues } = parseConfig(raw("dev"));
        expect(issues).toEqual([]);
        expect(config?.backups).toBeUndefined();
    });

    test("prod refuses to deploy with backups on and no repository, naming the key and both ways out", () => {
        const issues = issuesOf(raw("prod", { backupRepository: undefined }));
        expect(issues).toHaveLength(1);
        expect(issues[0].key).toBe("visualkit:backupRepository");
        expect(issues[0].problem).toContain("required in prod");
        expect(issues[0].fix).toContain("pulumi config set visualkit:backupRepository s3:");
        expect(issues[0].fix).toContain("pulumi config set visualkit:backupsEnabled false -s prod");
    });

    test("prod deploys without backups when they are turned off explicitly", () => {
        const { config, issues } = parseConfig(raw("prod", { backupsEnabled: "false", backupRepository: undefined }));
        expect(issues).toEqual([]);
        expect(config?.backups).toBeUndefined();
    });

    test("an s3 repository needs the password and both S3 keys as secrets, each reported", () => {
        const issues = issuesOf(raw("prod", { backupRepository: S3, backupAppendOnly: "false" }));
        expect(issues.map((i) => i.key).sort()).toEqual(["visualkit:backupPassword", "visualkit:backupS3AccessKeyId", "visualkit:backupS3SecretAccessKey"]);
        expect(issues.every((i) => i.fix.includes("pulumi config set --secret"))).toBe(true);
        const { config } = parseConfig(raw("prod", { backupRepository: S3, backupAppendOnly: "false", ...s3Secrets }, Object.keys(s3Secrets)));
        expect(config?.backups).toEqual(
            expect.objectContaining({ repository: S3, kind: "s3", keep: { daily: 7, weekly: 4, monthly: 6 }, schedule: "*-*-* 03:30:00", drillSchedule: "Sun *-*-* 05:00:00" }),
        );
        expect(config?.backups?.s3?.secretAccessKey.reveal()).toBe("sk");
    });

    test("a password stored in plain text is refused", () => {
        const issues = issuesOf(raw("prod", { backupRepository: S3, backupAppendOnly: "false", ...s3Secrets }, ["backupS3AccessKeyId", "backupS3SecretAccessKey"]));
        expect(issues.map((i) => i.key)).toEqual(["visualkit:backupPassword"]);
        expect(issues[0].problem).toContain("plain text");
    });

    test("an sftp repository needs the private key, not S3 keys, and checks that it is one", () => {
        const issues = issuesOf(raw("prod", { backupRepository: SFTP, backupPassword: "pw" }, ["backupPassword"]));
        expect(issues.map((i) => i.key)).toEqual(["visualkit:backupSftpPrivateKey"]);
        const notKey = issuesOf(raw("prod", { backupRepository: SFTP, backupPassword: "pw", backupSftpPrivateKey: "ssh-ed25519 AAAA public" }, ["backupPassword", "backupSftpPrivateKey"]));
        expect(notKey.map((i) => [i.key, i.problem])).toEqual([["visualkit:backupSftpPrivateKey", expect.stringContaining("not an OpenSSH private key")]]);
        const { config } = parseConfig(raw("prod", { backupRepository: SFTP, backupPassword: "pw", backupSftpPrivateKey: KEY }, ["backupPassword", "backupSftpPrivateKey"]));
        expect(config?.backups?.kind).toBe("sftp");
    });

    test.each([
        ["a local folder", "/srv/restic"],
        ["a rest server", "rest:https://backup.example/repo"],
        ["s3 without a bucket", "s3:https://nbg1.your-objectstorage.com"],
        ["a quote that would break the env file", "s3:https://host/bucket/'x"],
    ])("a repository that is %s is refused with the supported forms", (_, repository) => {
        const issues = issuesOf(raw("prod", { backupRepository: repository, backupAppendOnly: "false", ...s3Secrets }, Object.keys(s3Secrets)));
        expect(issues.map((i) => i.key)).toContain("visualkit:backupRepository");
        expect(issues.find((i) => i.key === "visualkit:backupRepository")?.problem).toContain("s3:https://<endpoint>/<bucket>/<path> or sftp://");
    });

    test("retention that would keep nothing, and a schedule that is not a calendar expression, are refused", () => {
        const base = { backupRepository: S3, backupAppendOnly: "false", ...s3Secrets };
        const none = issuesOf(raw("prod", { ...base, backupKeepDaily: "0", backupKeepWeekly: "0", backupKeepMonthly: "0" }, Object.keys(s3Secrets)));
        expect(none.map((i) => i.key)).toEqual(["visualkit:backupKeepDaily"]);
        const badSchedule = issuesOf(raw("prod", { ...base, backupSchedule: "daily; rm -rf /" }, Object.keys(s3Secrets)));
        expect(badSchedule.map((i) => i.key)).toEqual(["visualkit:backupSchedule"]);
        expect(badSchedule[0].fix).toContain("systemd-analyze calendar");
    });

    test("backup problems are listed with the other problems in one run", () => {
        const issues = issuesOf(raw("prod", { backupRepository: undefined, acmeEmail: "not-an-email" }));
        expect(issues.map((i) => i.key).sort()).toEqual(["visualkit:acmeEmail", "visualkit:backupRepository"]);
    });
});
