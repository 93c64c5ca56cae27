import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT as ROOT_DIR } from "../../helpers/program";
import { folderState, seedFiles, startBackupHost, tableChecksums, type BackupHost } from "../../helpers/backup-host";
import { freePort, startSshd, type LocalSshd } from "../../helpers/sshd";
import { startS3, type LocalS3 } from "../../helpers/s3";

/**
 * The host scripts (scripts/host/backup.sh, backup-drill.sh, restore.sh) with the real restic and PostgreSQL, against
 * a real SFTP repository (a local sshd) and a real S3 repository (s3rver). Only `docker` is stood in for.
 */
const TABLES = ["accounts", "messages", "attachments"];
const PASSWORD = "correct horse battery staple";
const SEED_ROWS = `
    INSERT INTO accounts (name) SELECT 'account ' || i FROM generate_series(1, 5) i;
    INSERT INTO messages (account_id, body) SELECT 1 + i % 5, 'message ' || i FROM generate_series(1, 300) i;
    INSERT INTO attachments (message_id, path) SELECT i, 'ab/cd/' || i FROM generate_series(1, 40) i;
`;
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
    `);
    host.sql(SEED_ROWS);
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
    expect(host.sql("SELECT count(*) FROM pg_database WHERE datname LIKE 'chatwoot\\_production\\_before\\_%'")).toBe("1");
});

test("two restores in a row keep both previous databases and folders under their own names; nothing earlier is dropped", () => {
    useSftp("repo-sftp");
    const kept = () => host.sql("SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database WHERE datname LIKE 'chatwoot\\_production\\_before\\_%'").split(",").filter(Boolean);
    const before = kept();
    host.sql("INSERT INTO messages (account_id, body) VALUES (1, 'written after the backup, before the first restore')");
    expect(host.run("restore.sh", ["--yes"]).status).toBe(0);
    host.sql("INSERT INTO messages (account_id, body) VALUES (1, 'written between the two restores')");
    expect(host.run("restore.sh", ["--yes"]).status).toBe(0);
    const after = kept();
    expect(after.length).toBe(before.length + 2);
    // Each row written after the backup still exists in one of the kept databases.
    const found = (db: string, body: string) => spawnSync("bash", [join(host.bin, "docker"), "exec", "-i", "chatwoot-postgres", "psql", "-X", "-At", "-U", "chatwoot", "-d", db, "-c", `SELECT count(*) FROM messages WHERE body = '${body}'`], { encoding: "utf8", env: { ...process.env, ...host.env } }).stdout.trim();
    const fresh = after.filter((d) => !before.includes(d));
    expect(fresh.map((d) => found(d, "written after the backup, before the first restore"))).toContain("1");
    expect(fresh.map((d) => found(d, "written between the two restores"))).toContain("1");
    expect(readdirSync(join(host.dataDir, "chatwoot")).filter((n) => n.startsWith("storage.before-")).length).toBeGreaterThanOrEqual(3);
});

test("a restore swaps the database in while a client keeps reconnecting to it (as the Postgres exporter does every scrape)", () => {
    useSftp("repo-sftp");
    const rowsBefore = tableChecksums(host, TABLES);
    host.sql("INSERT INTO messages (account_id, body) VALUES (1, 'written after the backup, before the restore')");
    // Four clients, each session on the live database for 10 s (a rename waits 5 s for other sessions); a killed or
    // refused one comes straight back.
    const stopFile = join(host.dir, "stop-client");
    const psql = `${join(host.bin, "docker")} exec -i chatwoot-postgres psql -X -q -U chatwoot -d chatwoot_production -c 'SELECT pg_sleep(10)'`;
    const clients = [1, 2, 3, 4].map(() => spawn("bash", ["-c", `while [ ! -e ${stopFile} ]; do ${psql} >/dev/null 2>&1; done`], { env: { ...process.env, ...host.env }, stdio: "ignore", detached: true }));
    try {
        spawnSync("sleep", ["1"]);
        const connected = host.sql("SELECT count(*) FROM pg_stat_activity WHERE datname = 'chatwoot_production' AND query LIKE '%pg_sleep(10)%' AND pid <> pg_backend_pid()");
        expect(connected).toBe("4");
        const res = host.run("restore.sh", ["--yes"]);
        expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: "" });
    } finally {
        writeFileSync(stopFile, "");
        for (const c of clients) process.kill(-c.pid!, "SIGKILL");
    }
    expect(tableChecksums(host, TABLES)).toEqual(rowsBefore);
    // Both databases accept connections again: the restored one, and the kept one for a look at what was replaced.
    expect(host.sql("SELECT string_agg(DISTINCT datallowconn::text, ',') FROM pg_database WHERE datname LIKE 'chatwoot\\_production%'")).toBe("true");
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

describe("retention", () => {
    /** An S3 repository with snapshots of the same host and tag at these times, as earlier runs would have left them. */
    function seeded(prefix: string, times: readonly string[], extra: Record<string, string>) {
        useS3(prefix, extra);
        const env = { ...process.env, ...host.env, ...tls(), RESTIC_REPOSITORY: `s3:${s3.endpoint}/${s3.bucket}/${prefix}`, RESTIC_PASSWORD: PASSWORD, AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" };
        expect(spawnSync("restic", ["init"], { env, encoding: "utf8" }).status).toBe(0);
        for (const time of times) {
            const res = spawnSync("restic", ["backup", "--tag", "visualkit-test", "--time", time, files[0]], { env, encoding: "utf8" });
            expect(res.stderr).toBe("");
        }
    }
    const prune = () => {
        const res = host.run("backup-prune.sh", [], tls());
        expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: "" });
    };
    const ago = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString().slice(0, 19).replace("T", " ");
    const OLD = ["2026-01-05 03:00:00", "2026-01-06 03:00:00", "2026-01-20 03:00:00", "2026-02-10 03:00:00", "2026-03-03 03:00:00", "2026-03-04 03:00:00"];

    test("an operator's backup (npm run backup runs visualkit-backup) removes no snapshot", () => {
        seeded("retention-operator", OLD, { VISUALKIT_KEEP_DAILY: "3", VISUALKIT_KEEP_WEEKLY: "0", VISUALKIT_KEEP_MONTHLY: "0" });
        backup();
        expect(snapshots()).toHaveLength(OLD.length + 1);
    });

    test("keeps every snapshot of the last 48 h: a good morning backup survives a bad one the same day", () => {
        // Two snapshots today (the morning's good one, the evening's taken after a bug deleted rows), one yesterday.
        const recent = [ago(30), ago(10), ago(2)];
        seeded("retention-recent", [...OLD, ...recent], { VISUALKIT_KEEP_DAILY: "3", VISUALKIT_KEEP_WEEKLY: "2", VISUALKIT_KEEP_MONTHLY: "3" });
        prune();
        const kept = snapshots().map((s) => s.time.slice(0, 19).replace("T", " "));
        expect(kept).toEqual(expect.arrayContaining(recent));
        // Beyond 48 h the daily, weekly and monthly ones (which of March's depends on today's date): 03-04 (daily or
        // weekly) and February (monthly) stay, January's go.
        const old = kept.filter((k) => k < "2026-06").map((k) => k.slice(0, 10));
        expect(old).toEqual(expect.arrayContaining(["2026-02-10", "2026-03-04"]));
        expect(old.filter((k) => k.startsWith("2026-01"))).toEqual([]);
        expect(status().prune.lastSuccess).toEqual(expect.any(String));
    });

    test("never keeps fewer than 3 snapshots, whatever the daily/weekly/monthly numbers", () => {
        seeded("retention-last3", ["2026-01-05 03:00:00", "2026-01-06 03:00:00", "2026-01-07 03:00:00", "2026-01-08 03:00:00"], { VISUALKIT_KEEP_DAILY: "1", VISUALKIT_KEEP_WEEKLY: "0", VISUALKIT_KEEP_MONTHLY: "0" });
        prune();
        expect(snapshots().map((s) => s.time.slice(0, 10)).sort()).toEqual(["2026-01-06", "2026-01-07", "2026-01-08"]);
    });
});

test("the dump is staged in VISUALKIT_DUMP_DIR (the data volume), and a restore finds it there and at the legacy path", () => {
    const staging = join(host.dataDir, ".visualkit-backup-dump");
    useSftp("repo-staging", { VISUALKIT_DUMP_DIR: staging });
    host.dockerCalls();
    backup();
    const dumps = host.dockerCalls().filter((c) => c.startsWith("pg_dump > "));
    expect(dumps).toEqual([`pg_dump > ${join(staging, "chatwoot.dump.partial")}`]);
    expect(readdirSync(staging)).toEqual([]);
    const rows = tableChecksums(host, TABLES);
    host.sql("DELETE FROM attachments WHERE id > 5");
    const res = host.run("restore.sh", ["--yes"]);
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: "" });
    expect(tableChecksums(host, TABLES)).toEqual(rows);
    // The work files of the restore were on the data volume too, and are gone.
    expect(readdirSync(staging)).toEqual([]);
});

test("writers of the status file take turns: twenty at once (a drill and the minute's WAL push) keep every update and none fails", () => {
    const dir = join(host.dir, "status-race");
    mkdirSync(dir, { recursive: true });
    const lib = join(ROOT_DIR, "scripts", "host", "backup-lib.sh");
    const script = `script_name=test; . ${lib}; for i in $(seq 1 20); do record_status --arg i "$i" '.["w" + $i] = {lastSuccess: "2026-12-05T00:00:00Z"}' & done; fail=0; for j in $(jobs -p); do wait "$j" || fail=1; done; exit $fail`;
    const res = spawnSync("bash", ["-c", script], { encoding: "utf8", env: { ...process.env, VISUALKIT_BACKUP_STATE: dir, VISUALKIT_BACKUP_METRICS: join(dir, "metrics", "visualkit-backup.prom") } });
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: "" });
    const keys = Object.keys(JSON.parse(readFileSync(join(dir, "backup-status.json"), "utf8")) as object).sort();
    expect(keys).toEqual(Array.from({ length: 20 }, (_, i) => `w${i + 1}`).sort());
    // No temp file is left beside it.
    expect(readdirSync(dir).filter((f) => f.startsWith("backup-status.json")).sort()).toEqual(["backup-status.json"]);
});

test("writers that do not share a lock still each write the metrics file whole (as a writer does after the lock's 30 s)", () => {
    // Two state folders (two locks), one node-exporter file: the shape that failed a drill with "mv: cannot stat
    // …visualkit-backup.prom.tmp" when the data-tier suites ran side by side on one machine's node-exporter folder.
    const dir = join(host.dir, "metrics-race");
    const metrics = join(dir, "node-exporter", "visualkit-backup.prom");
    mkdirSync(join(dir, "node-exporter"), { recursive: true });
    const lib = join(ROOT_DIR, "scripts", "host", "backup-lib.sh");
    const writers = (state: string) =>
        `(VISUALKIT_BACKUP_STATE=${join(dir, state)}; script_name=test; . ${lib}; for i in $(seq 1 10); do record_status --arg i "$i" '.["w" + $i] = {lastSuccess: "2026-12-05T00:00:00Z"}' & done; fail=0; for j in $(jobs -p); do wait "$j" || fail=1; done; exit $fail)`;
    const script = `${writers("a")} & a=$!; ${writers("b")} & b=$!; wait $a && wait $b`;
    const res = spawnSync("bash", ["-c", script], { encoding: "utf8", env: { ...process.env, VISUALKIT_BACKUP_METRICS: metrics } });
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: "" });
    expect(readdirSync(join(dir, "node-exporter"))).toEqual(["visualkit-backup.prom"]);
    expect((statSync(metrics).mode & 0o777).toString(8)).toBe("644");
    expect(readFileSync(metrics, "utf8").match(/^visualkit_backup_last_success_timestamp_seconds\{job="w\d+"\} \d+$/gm)).toHaveLength(10);
});

test("a corrupt status file is kept aside and the backup still succeeds and records itself", () => {
    useS3("corrupt-status");
    writeFileSync(join(host.stateDir, "backup-status.json"), '{"backup": {"lastSuccess": "2026-');
    const id = backup();
    expect(status().backup.snapshot).toBe(id);
    expect(readFileSync(join(host.stateDir, "backup-status.json.corrupt"), "utf8")).toContain('"2026-');
});

test("the drill fails on a snapshot of an emptied database, and removes the scratch database a killed drill left", () => {
    useS3("emptied");
    const rows = tableChecksums(host, TABLES);
    // A leftover of a drill killed by SIGKILL: its scratch container (a full copy of the database).
    expect(spawnSync("docker", ["run", "-d", "--name", "visualkit-drill-99999", "img"], { env: { ...process.env, ...host.env }, encoding: "utf8" }).status).toBe(0);
    // A snapshot of the emptied database; then the live one gets its rows back (the seed is deterministic).
    host.sql("TRUNCATE attachments, messages, accounts RESTART IDENTITY");
    backup();
    host.sql(SEED_ROWS);
    expect(tableChecksums(host, TABLES)).toEqual(rows);
    const res = host.run("backup-drill.sh", [], tls());
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/holds 0 rows, under 0.5 of the live database's 345: an emptied or truncated database/);
    expect(res.stderr).toContain("removing visualkit-drill-99999, left behind by an interrupted drill");
    expect(readdirSync(host.dockerDir).filter((d) => d.startsWith("visualkit-drill-"))).toEqual([]);
    expect(status().drill.lastError).toMatch(/emptied/);
});

test("the OnFailure= hook records a failed unit in the status file and the node-exporter metrics", () => {
    useS3("alarm");
    const metrics = join(host.dir, "node-exporter", "visualkit-backup.prom");
    mkdirSync(join(host.dir, "node-exporter"), { recursive: true });
    // A backup that succeeded after an older failure, then its unit failed (killed, or the retention after it).
    writeFileSync(join(host.stateDir, "backup-status.json"), JSON.stringify({ backup: { lastSuccess: "2026-12-01T03:31:00Z", lastFailure: "2026-11-30T03:31:00Z", lastError: "an old error" } }));
    const res = host.run("backup-alarm.sh", ["visualkit-backup.service"], { VISUALKIT_BACKUP_METRICS: metrics });
    expect(res.status).toBe(0);
    expect(status().alarm).toEqual({ unit: "visualkit-backup.service", time: expect.any(String) });
    expect(status().backup.lastFailure).toBe(status().alarm.time);
    expect(status().backup.lastError).toBe("the unit visualkit-backup.service failed (journalctl -u visualkit-backup.service)");
    const text = readFileSync(metrics, "utf8");
    expect(text).toMatch(new RegExp(`^visualkit_backup_last_failure_timestamp_seconds\\{job="backup"\\} ${Date.parse(status().alarm.time) / 1000}$`, "m"));
    expect(text).toMatch(/^visualkit_backup_last_success_timestamp_seconds\{job="backup"\} \d{10}$/m);
});

test("an append-only key (rclone serve restic --append-only forced by the backup box) backs up but cannot delete a snapshot", () => {
    // The backup box's authorized_keys: the full key (the prune workflow's) and the host's key, forced to rclone.
    const repo = join(host.dir, "repo-append-only");
    const hostKey = join(host.dir, "append-only-key");
    expect(spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]).status).toBe(0);
    const authorized = join(host.dir, "sshd", "authorized_keys");
    writeFileSync(authorized, `${readFileSync(authorized, "utf8").trim()}\nrestrict,command="rclone serve restic --stdio --append-only ${repo}" ${readFileSync(`${hostKey}.pub`, "utf8")}`);
    // The trusted side creates the repository (an append-only key could, but the box's owner does it once).
    useSftp("repo-append-only");
    backup();
    host.configure(settings({ VISUALKIT_SFTP_KEY: hostKey, VISUALKIT_APPEND_ONLY: "1" }), { RESTIC_REPOSITORY: sftpRepo("repo-append-only"), RESTIC_PASSWORD: PASSWORD });
    backup();
    backup();
    const listed = snapshots();
    expect(listed).toHaveLength(3);
    // The host refuses to prune, and restic itself with the host's key removes nothing: the box refuses every delete.
    const refused = host.run("backup-prune.sh", []);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("append-only");
    const env = { ...process.env, ...host.env, RESTIC_PASSWORD: PASSWORD, RESTIC_REPOSITORY: "rclone:x" };
    const ssh = `ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=${join(host.dir, "kh")} -p ${sshd.port} -i ${hostKey} -o IdentitiesOnly=yes -l root 127.0.0.1`;
    spawnSync("restic", ["-o", `rclone.program=${ssh}`, "forget", "--keep-last", "1"], { env, encoding: "utf8" });
    spawnSync("restic", ["-o", `rclone.program=${ssh}`, "forget", listed[0].id], { env, encoding: "utf8" });
    expect(readdirSync(join(repo, "snapshots")).sort()).toEqual(listed.map((s) => s.id).sort());
    // The full key (the prune workflow's) can: the same retention script run where that key is.
    useSftp("repo-append-only", { VISUALKIT_KEEP_DAILY: "3", VISUALKIT_KEEP_WEEKLY: "0", VISUALKIT_KEEP_MONTHLY: "0" });
    const pruned = host.run("backup-prune.sh", []);
    expect({ status: pruned.status, stderr: pruned.stderr }).toEqual({ status: 0, stderr: "" });
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
