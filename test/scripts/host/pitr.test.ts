import { spawnSync } from "node:child_process";
import { mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { archiveSettings, PITR_FOLDERS } from "../../../catalog/pitr";
import { PG_DB, startBackupHost, type BackupHost } from "../../helpers/backup-host";
import { startSshd, type LocalSshd } from "../../helpers/sshd";

/**
 * Point-in-time recovery (scripts/host/pitr.sh, pitr-lib.sh, restore.sh --to-time, backup-drill.sh --to-time) with the
 * real tools: Debian's PostgreSQL running the container's archive_command (catalog/pitr.ts) into the spool, Debian's
 * pgBackRest on the "host", restic shipping its repository to an SFTP repository behind a local sshd. Only `docker`
 * is stood in for (test/helpers/fake-docker.sh): the recovery's scratch container is a second server on the restored
 * data folder.
 */
const PASSWORD = "correct horse battery staple";
let host: BackupHost;
let sshd: LocalSshd;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** postgresql.conf lines for the settings the container gets as `-c` arguments. */
const conf = (dir: string) =>
    Object.entries({ ...archiveSettings(join(dir, "data", PITR_FOLDERS.walSpool)), archive_timeout: "0" })
        .map(([k, v]) => `${k} = '${v.replace(/'/g, "''")}'`)
        .join("\n") + "\n";

beforeAll(async () => {
    host = startBackupHost(conf);
    mkdirSync(host.dataDir, { mode: 0o755 });
    sshd = await startSshd(join(host.dir, "sshd"));
    host.configure(
        {
            VISUALKIT_PG_CONTAINER: "chatwoot-postgres",
            VISUALKIT_PG_USER: "chatwoot",
            VISUALKIT_PG_DB: PG_DB,
            VISUALKIT_BACKUP_PATHS: "",
            VISUALKIT_APP_CONTAINERS: "chatwoot-rails chatwoot-sidekiq",
            VISUALKIT_BACKUP_TAG: "visualkit-test",
            VISUALKIT_SFTP_KEY: sshd.identity,
            VISUALKIT_PITR: "1",
            VISUALKIT_PG_DATA: join(host.dockerDir, "live", "data"),
            VISUALKIT_PG_SOCKET: join(host.dockerDir, "live"),
            VISUALKIT_WAL_SPOOL: join(host.dataDir, PITR_FOLDERS.walSpool),
            VISUALKIT_PITR_REPO: join(host.dataDir, PITR_FOLDERS.repository),
        },
        { RESTIC_REPOSITORY: `sftp://root@127.0.0.1:${sshd.port}/${join(host.dir, "restic")}`, RESTIC_PASSWORD: PASSWORD },
    );
    host.sql("CREATE TABLE notes (id serial PRIMARY KEY, label text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())");
});

afterAll(async () => {
    await sshd?.stop();
    if (!process.env.PITR_KEEP) host?.stop();
});

const labels = () => host.sql("SELECT coalesce(string_agg(label, ',' ORDER BY id), '') FROM notes");
const stops = (calls: string[]) => calls.filter((c) => c.startsWith("stop "));
let t1t2: string;

test("the first push creates the stanza and a base backup and ships them; rows at t1, t2, t3 → a restore to a moment between t2 and t3 gives exactly t1 and t2", async () => {
    const first = host.run("pitr.sh", ["push"]);
    expect({ status: first.status, stderr: first.status === 0 ? "" : first.stderr }).toEqual({ status: 0, stderr: "" });
    expect(first.stdout).toMatch(/base backup \d{8}-\d{6}F/);

    host.sql("INSERT INTO notes (label) VALUES ('t1')");
    await sleep(1100);
    host.sql("INSERT INTO notes (label) VALUES ('t2')");
    await sleep(700);
    // The target at the start of a second and the restore within that second: a moment given to the millisecond is in
    // the past though its second is the current one (compared by the second, it was refused as "in the future").
    while (Date.now() % 1000 > 40) await sleep(5);
    t1t2 = new Date().toISOString();
    await sleep(600);
    host.sql("INSERT INTO notes (label) VALUES ('t3')");
    expect(labels()).toBe("t1,t2,t3");
    host.dockerCalls();

    const res = host.run("restore.sh", ["--yes", "--to-time", t1t2]);
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: "" });
    expect(res.stdout).toContain(`recovered to ${t1t2.slice(0, 19)}Z`);
    expect(labels()).toBe("t1,t2");
    // The writers stopped after the recovery (which ran while they served) and started again; the database from
    // before the restore is kept with all three rows.
    const calls = host.dockerCalls();
    const recovery = calls.findIndex((c) => c.startsWith("run -d --name visualkit-pitr-"));
    const stop = calls.indexOf("stop chatwoot-rails chatwoot-sidekiq");
    expect(recovery).toBeGreaterThan(-1);
    expect(stop).toBeGreaterThan(recovery);
    expect(calls.indexOf("start chatwoot-rails chatwoot-sidekiq")).toBeGreaterThan(stop);
    const kept = host.sql("SELECT datname FROM pg_database WHERE datname LIKE 'chatwoot\\_production\\_before\\_%'").split("\n");
    expect(kept).toHaveLength(1);
    const before = spawnSync("docker", ["exec", "-i", "chatwoot-postgres", "psql", "-X", "-At", "-U", "chatwoot", "-d", kept[0], "-c", "SELECT string_agg(label, ',' ORDER BY id) FROM notes"], { encoding: "utf8", env: { ...process.env, ...host.env } });
    expect(before.stdout.trim()).toBe("t1,t2,t3");
});

test("a --to-time that is malformed, has no zone, lies in the future or before the oldest base backup is refused before anything stops", () => {
    host.dockerCalls();
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const cases: [string, RegExp][] = [
        ["yesterday", /--to-time 'yesterday' is not a timestamp with a zone: give it as 2026-12-05T14:30:00Z/],
        ["2026-13-01T00:00:00Z", /--to-time '2026-13-01T00:00:00Z' is not a timestamp with a zone/],
        ["2026-12-05 10:00:00", /--to-time '2026-12-05 10:00:00' is not a timestamp with a zone/],
        [future, /--to-time .* is in the future \(now is /],
        ["2020-01-01T00:00:00Z", /--to-time 2020-01-01T00:00:00Z is outside the recovery window \(\d{4}-\d\d-\d\dT[\d:]+Z to [\dT:-]+Z\): no base backup ended before it/],
    ];
    for (const [when, message] of cases) {
        const res = host.run("restore.sh", ["--yes", "--to-time", when]);
        expect({ when, status: res.status }).toEqual({ when, status: 1 });
        expect(res.stderr).toMatch(message);
    }
    expect(stops(host.dockerCalls())).toEqual([]);
    expect(labels()).toBe("t1,t2");
});

test("with the local pgBackRest repository lost, the copy restic shipped off site recovers the same moment", () => {
    host.sql("INSERT INTO notes (label) VALUES ('t4')");
    // What the push timer does every minute: the closed segment into pgBackRest, the repository off site.
    host.sql("SELECT pg_switch_wal()");
    const started = Date.now();
    const push = host.run("pitr.sh", ["push", "--ship"]);
    expect({ status: push.status, stderr: push.status === 0 ? "" : push.stderr }).toEqual({ status: 0, stderr: "" });
    console.log(`one push + ship to the SFTP repository: ${Date.now() - started} ms`);
    const local = join(host.dataDir, PITR_FOLDERS.repository);
    renameSync(local, `${local}.lost`);
    try {
        const res = host.run("restore.sh", ["--yes", "--to-time", t1t2]);
        expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: "" });
        expect(res.stdout).toContain("recovering from the copy shipped off site");
        expect(labels()).toBe("t1,t2");
    } finally {
        renameSync(`${local}.lost`, local);
    }
});

test("the drill recovers to now in a scratch server, compares row counts with the live database and stops nothing", () => {
    host.dockerCalls();
    const res = host.run("backup-drill.sh", ["--to-time", "now"]);
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: "" });
    expect(res.stdout).toMatch(/public\.notes\s+2\s+2\n/);
    expect(res.stdout).toContain("drill passed");
    const calls = host.dockerCalls();
    expect(stops(calls)).toEqual([]);
    expect(calls.some((c) => c.startsWith("rm -f -v visualkit-drill-"))).toBe(true);
});
