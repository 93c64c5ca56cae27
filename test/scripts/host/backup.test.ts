import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { folderState, seedFiles, startBackupHost, tableChecksums, type BackupHost } from "../../helpers/backup-host";
import { freePort, startSshd, type LocalSshd } from "../../helpers/sshd";
import { startS3, type LocalS3 } from "../../helpers/s3";

/**
 * The host scripts (scripts/host/backup.sh, backup-drill.sh, restore.sh) with the real restic and PostgreSQL, against
 * a real SFTP repository (a local sshd) and a real S3 repository (s3rver). Only `docker` is stood in for.
 */
const TABLES = ["accounts", "messages", "attachments"];
const PASSWORD = "correct horse battery staple";
let host: BackupHost;
let sshd: LocalSshd;
let s3: LocalS3;
let files: string[];

beforeAll(async () => {
    host = startBackupHost();
    [sshd, s3] = await Promise.all([startSshd(join(host.dir, "sshd")), startS3(join(host.dir, "s3"))]);
    files = seedFiles(host.dataDir);
    host.sql(`
        CREATE TABLE accounts (id serial PRIMARY KEY, name text NOT NULL);
        CREATE TABLE messages (id serial PRIMARY KEY, account_id int REFERENCES accounts, body text, created_at timestamptz DEFAULT '2026-01-01');
        CREATE TABLE attachments (id serial PRIMARY KEY, message_id int REFERENCES messages, path text);
        INSERT INTO accounts (name) SELECT 'account ' || i FROM generate_series(1, 5) i;
        INSERT INTO messages (account_id, body) SELECT 1 + i % 5, 'message ' || i FROM generate_series(1, 300) i;
        INSERT INTO attachments (message_id, path) SELECT i, 'ab/cd/' || i FROM generate_series(1, 40) i;
    `);
});

afterAll(async () => {
    await Promise.all([sshd?.stop(), s3?.stop()]);
    host?.stop();
});

const settings = (extra: Record<string, string> = {}) => ({
    VISUALKIT_PG_CONTAINER: "chatwoot-postgres",
    VISUALKIT_PG_USER: "chatwoot",
    VISUALKIT_PG_DB: "chatwoot_production",
    VISUALKIT_BACKUP_PATHS: files.join(" "),
    VISUALKIT_APP_CONTAINERS: "chatwoot-rails chatwoot-sidekiq",
    VISUALKIT_BACKUP_TAG: "visualkit-test",
    ...extra,
});
const sftpRepo = (name: string, port = sshd.port) => `sftp://root@127.0.0.1:${port}/${join(host.dir, name)}`;
function useSftp(name: string, extra: Record<string, string> = {}, password = PASSWORD) {
    host.configure(settings({ VISUALKIT_SFTP_KEY: sshd.identity, ...extra }), { RESTIC_REPOSITORY: sftpRepo(name), RESTIC_PASSWORD: password });
}
function useS3(prefix: string, extra: Record<string, string> = {}, endpoint = s3.endpoint, password = PASSWORD) {
    host.configure(settings(extra), {
        RESTIC_REPOSITORY: `s3:${endpoint}/${s3.bucket}/${prefix}`,
        RESTIC_PASSWORD: password,
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    });
}
const tls = () => ({ SSL_CERT_FILE: s3.ca });
const status = () => JSON.parse(readFileSync(join(host.stateDir, "backup-status.json"), "utf8"));
function snapshots(): { id: string; time: string }[] {
    const res = host.run("backup.sh", ["--list", "--json"], tls());
    if (res.status !== 0) throw new Error(res.stderr);
    return JSON.parse(res.stdout);
}
function backup(): string {
    const res = host.run("backup.sh", [], tls());
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    const id = /^snapshot ([0-9a-f]{64})$/m.exec(res.stdout)?.[1];
    if (!id) throw new Error(`no snapshot id in: ${res.stdout}`);
    return id;
}

test("a backup to an SFTP repository brings back identical rows and files after data is changed and dropped", () => {
    useSftp("repo-sftp");
    const rowsBefore = tableChecksums(host, TABLES);
    const filesBefore = folderState(host.dataDir);
    const id = backup();
    expect(status().backup).toEqual(expect.objectContaining({ snapshot: id, lastSuccess: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }));
    // The dump's staging copy is gone once restic has it: it is not left on the disk.
    expect(readdirSync(join(host.stateDir, "backup-dump"))).toEqual([]);

    host.sql(`UPDATE messages SET body = 'edited' WHERE id % 7 = 0; DELETE FROM attachments WHERE id > 10; DROP TABLE accounts CASCADE; CREATE TABLE stray (x int);`);
    writeFileSync(join(files[0], "notes.txt"), "overwritten");
    writeFileSync(join(files[0], "new-upload"), "written after the backup");
    mkdirSync(join(files[2], "r2"));
    writeFileSync(join(files[2], "r2", "sdk.js"), "console.log('widget r2')");
    unlinkSync(files[1]);
    symlinkSync("widget-cdn-releases/r2", files[1]);
    expect(tableChecksums(host, ["messages", "attachments"])).not.toEqual({ messages: rowsBefore.messages, attachments: rowsBefore.attachments });
    host.dockerCalls();

    const res = host.run("restore.sh", ["--yes", "--snapshot", id.slice(0, 8)]);
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: "" });
    expect(tableChecksums(host, TABLES)).toEqual(rowsBefore);
    expect(host.sql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'stray'")).toBe("0");
    const after = folderState(host.dataDir);
    for (const [path, content] of Object.entries(filesBefore)) expect({ path, content: after[path] }).toEqual({ path, content });
    expect(after["chatwoot/storage/new-upload"]).toBeUndefined();
    // The writers were stopped before the database was touched and started again afterwards.
    const calls = host.dockerCalls();
    const stop = calls.indexOf("stop chatwoot-rails chatwoot-sidekiq");
    const start = calls.indexOf("start chatwoot-rails chatwoot-sidekiq");
    const firstRestore = calls.findIndex((c) => / pg_restore --exit-on-error/.test(c));
    expect(stop).toBeGreaterThan(-1);
    expect(stop).toBeLessThan(firstRestore);
    expect(start).toBeGreaterThan(firstRestore);
    // The database from before the restore is kept, in case the wrong snapshot was restored.
    expect(host.sql("SELECT count(*) FROM pg_database WHERE datname = 'chatwoot_production_before_restore'")).toBe("1");
});

test("the drill restores the latest S3 snapshot into a scratch Postgres, prints the row counts and records the result", () => {
    useS3("drill");
    backup();
    // A row written after the snapshot: the drill shows the difference and still passes.
    host.sql("INSERT INTO messages (account_id, body) VALUES (1, 'after the snapshot')");
    host.dockerCalls();
    const liveBefore = tableChecksums(host, TABLES);
    try {
        const res = host.run("backup-drill.sh", [], tls());
        expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: "" });
        expect(res.stdout).toMatch(/public\.attachments\s+40\s+40\n/);
        expect(res.stdout).toMatch(/public\.accounts\s+5\s+5\n/);
        expect(res.stdout).toMatch(/public\.messages\s+301\s+300\s+differs\n/);
        expect(res.stdout).toContain("drill passed");
        expect(status().drill).toEqual(expect.objectContaining({ lastSuccess: expect.any(String), tables: 3, rows: 345 }));
        // A scratch server was used and removed; the live one was neither stopped nor changed.
        const calls = host.dockerCalls();
        expect(calls.some((c) => c.startsWith("run -d --name visualkit-drill-"))).toBe(true);
        expect(readdirSync(host.dockerDir).filter((d) => d.startsWith("visualkit-drill-"))).toEqual([]);
        expect(calls.filter((c) => c.startsWith("stop"))).toEqual([]);
        expect(tableChecksums(host, TABLES)).toEqual(liveBefore);
    } finally {
        host.sql("DELETE FROM messages WHERE body = 'after the snapshot'");
    }
});

test("retention keeps the newest daily, weekly and monthly snapshots and removes the rest", () => {
    useS3("retention", { VISUALKIT_KEEP_DAILY: "3", VISUALKIT_KEEP_WEEKLY: "2", VISUALKIT_KEEP_MONTHLY: "3" });
    // Older snapshots of the same host and tag, as earlier nights would have left them.
    const env = { ...process.env, ...host.env, ...tls(), RESTIC_REPOSITORY: `s3:${s3.endpoint}/${s3.bucket}/retention`, RESTIC_PASSWORD: PASSWORD, AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" };
    expect(spawnSync("restic", ["init"], { env, encoding: "utf8" }).status).toBe(0);
    const old = ["2026-01-05 03:00:00", "2026-01-06 03:00:00", "2026-01-20 03:00:00", "2026-02-10 03:00:00", "2026-03-03 03:00:00", "2026-03-04 03:00:00"];
    for (const time of old) {
        const res = spawnSync("restic", ["backup", "--tag", "visualkit-test", "--time", time, files[0]], { env, encoding: "utf8" });
        expect(res.stderr).toBe("");
    }
    const newest = backup();
    const kept = snapshots().map((s) => s.time.slice(0, 10)).sort();
    // Daily: today, 03-04, 03-03. Weekly: this week, the week of 03-04. Monthly: this month, March, February.
    expect(kept).toEqual(["2026-02-10", "2026-03-03", "2026-03-04", status().backup.lastSuccess.slice(0, 10)]);
    expect(snapshots().map((s) => s.id)).toContain(newest);
});

describe("failures are loud and leave no snapshot", () => {
    // A repository with one good snapshot, so "no new snapshot" is a count that could have grown.
    beforeAll(() => {
        useS3("failures");
        backup();
    });
    test("a dump that fails (database missing) exits non-zero, takes no snapshot and is recorded", () => {
        useS3("failures");
        const before = snapshots().length;
        useS3("failures", { VISUALKIT_PG_DB: "no_such_db" });
        const res = host.run("backup.sh", [], tls());
        expect(res.status).toBe(1);
        expect(res.stderr).toContain("no snapshot was taken");
        useS3("failures");
        expect(snapshots()).toHaveLength(before);
        expect(status().backup.lastFailure > status().backup.lastSuccess || status().backup.lastFailure === status().backup.lastSuccess).toBe(true);
    });

    test("a dump cut short (as by a full disk) fails pg_restore --list and takes no snapshot", () => {
        useS3("failures");
        const before = snapshots().length;
        const res = host.run("backup.sh", [], { ...tls(), FAKE_DOCKER_TRUNCATE_DUMP: "1" });
        expect(res.status).toBe(1);
        expect(res.stderr).toContain("did not read back with pg_restore --list");
        expect(snapshots()).toHaveLength(before);
        expect(existsSync(join(host.stateDir, "backup-dump", "chatwoot.dump.partial"))).toBe(false);
    });

    test("a wrong password says so, for backup, drill and restore", () => {
        useS3("failures", {}, s3.endpoint, "not the password");
        for (const [script, args] of [["backup.sh", []], ["backup-drill.sh", []], ["restore.sh", ["--yes"]]] as const) {
            const res = host.run(script, [...args], tls());
            expect({ script, status: res.status }).toEqual({ script, status: 1 });
            expect(res.stderr).toContain("wrong password");
        }
    });

    test("a missing snapshot says which, and the restore stops nothing", () => {
        useS3("failures");
        host.dockerCalls();
        const res = host.run("restore.sh", ["--yes", "--snapshot", "deadbeef"], tls());
        expect(res.status).toBe(1);
        expect(res.stderr).toContain("snapshot not found: no single snapshot deadbeef");
        expect(host.dockerCalls().filter((c) => c.startsWith("stop"))).toEqual([]);
        const drill = host.run("backup-drill.sh", ["--snapshot", "deadbeef"], tls());
        expect(drill.status).toBe(1);
        expect(drill.stderr).toContain("snapshot not found");
    });

    test("an unreachable repository (S3 or SFTP) says so and takes no snapshot", async () => {
        const closed = await freePort();
        useS3("nowhere", {}, `https://127.0.0.1:${closed}`);
        const viaS3 = host.run("backup.sh", [], tls());
        expect(viaS3.status).toBe(1);
        expect(viaS3.stderr).toContain("repository unreachable");
        host.configure(settings({ VISUALKIT_SFTP_KEY: sshd.identity }), { RESTIC_REPOSITORY: sftpRepo("repo-sftp", closed), RESTIC_PASSWORD: PASSWORD });
        const viaSftp = host.run("backup.sh", []);
        expect(viaSftp.status).toBe(1);
        expect(viaSftp.stderr).toContain("repository unreachable");
        expect(viaSftp.stderr).toContain("no snapshot was taken");
    });
});
