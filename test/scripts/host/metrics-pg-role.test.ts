/**
 * The Postgres exporter's own role (scripts/host/visualkit-metrics.sh `exporters`) against Debian's real PostgreSQL and
 * Debian's real Postgres exporter: the collector makes the role in the live cluster through `docker exec` (the
 * stand-in of test/helpers/fake-docker.sh), with pg_monitor's rights and nothing more, and the exporter, started with
 * the environment file the collector wrote, logs in with the password it set — password authentication turned on for
 * that role — and never logs it.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, waitFor } from "../../helpers/caddy";
import { PG_USER, startBackupHost, type BackupHost } from "../../helpers/backup-host";
import { ROOT } from "../../helpers/program";

const SCRIPT = join(ROOT, "scripts/host/visualkit-metrics.sh");
let host: BackupHost;
let env: Record<string, string>;
let socketDir: string;

beforeAll(() => {
    host = startBackupHost();
    socketDir = join(host.dockerDir, "live");
    // The container's address is the cluster's socket folder here (libpq takes a host starting with / as one).
    const bin = join(host.dir, "metrics-bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "docker"), `#!/bin/sh\nif [ "$1" = inspect ] && [ "$2" = -f ]; then echo "${socketDir} "; exit 0; fi\nexec ${join(host.bin, "docker")} "$@"\n`, { mode: 0o755 });
    writeFileSync(join(host.dir, "metrics.conf"), `VISUALKIT_PG_CONTAINER=chatwoot-postgres VISUALKIT_PG_USER=${PG_USER}\n`);
    env = {
        ...process.env,
        ...host.env,
        PATH: `${bin}:${host.env.PATH}`,
        VISUALKIT_METRICS_CONF: join(host.dir, "metrics.conf"),
        VISUALKIT_MONITORING_ENV: join(host.dir, "monitoring.env"),
        VISUALKIT_RUN_DIR: join(host.dir, "run"),
        VISUALKIT_PG_MONITOR_PASSWORD: join(host.stateDir, "pg-monitor.password"),
        VISUALKIT_PG_MONITOR_PGPASS: join(host.dir, "postgres-exporter.pgpass"),
    };
    // Application data the monitoring role must not read.
    host.sql("CREATE TABLE conversations (id int, secret text); INSERT INTO conversations VALUES (1, 'private')");
}, 120_000);

afterAll(() => host?.stop());

const exporters = () => spawnSync("bash", [SCRIPT, "exporters"], { env, encoding: "utf8" });
const asMonitor = (db: string, query: string) =>
    spawnSync("psql", ["-X", "-At", "-h", socketDir, "-U", "visualkit_monitor", "-d", db, "-c", query], { encoding: "utf8", env: { ...process.env, PGPASSWORD: password() } });
const password = () => readFileSync(env.VISUALKIT_PG_MONITOR_PASSWORD, "utf8").trim();

/** Debian's exporter with the environment file the collector wrote (and `extra`); returns its pg_up, metrics and log. */
async function scrape(extra = ""): Promise<{ up: string; text: string; log: string }> {
    const port = await freePort();
    let log = "";
    const file = join(host.dir, "run/postgres-exporter.env");
    const proc = spawn("bash", ["-c", `set -a; . ${file}; ${extra} set +a; exec prometheus-postgres-exporter "$@"`, "exporter", `--web.listen-address=127.0.0.1:${port}`, "--disable-settings-metrics"], {
        stdio: ["ignore", "pipe", "pipe"],
    });
    proc.stdout!.on("data", (d) => (log += d));
    proc.stderr!.on("data", (d) => (log += d));
    try {
        let text = "";
        const up = await waitFor("the exporter's pg_up", async () => {
            text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => "");
            return /^pg_up (\d)$/m.exec(text)?.[1];
        });
        // Its log of a failed connection comes after the scrape that reports it.
        await new Promise((r) => setTimeout(r, 1500));
        return { up, text, log };
    } finally {
        await new Promise((done) => (proc.once("exit", done), proc.kill()));
    }
}

test("the collector makes the exporter's role: login, pg_monitor, no superuser, at most 5 sessions; safe to run again", () => {
    const first = exporters();
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(readFileSync(join(host.dir, "run/postgres-exporter.env"), "utf8")).toContain(`PGPASSFILE="${env.VISUALKIT_PG_MONITOR_PGPASS}"`);
    expect(readFileSync(env.VISUALKIT_PG_MONITOR_PGPASS, "utf8")).toBe(`*:*:*:visualkit_monitor:${password()}\n`);
    const attrs = "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolconnlimit, pg_has_role(oid, 'pg_monitor', 'member') FROM pg_roles WHERE rolname = 'visualkit_monitor'";
    expect(host.sql(attrs)).toBe("t|f|f|f|f|f|5|t");
    // Again (every exporter start), and after someone changed the role: it is put back.
    host.sql("ALTER ROLE visualkit_monitor SUPERUSER CONNECTION LIMIT -1");
    const again = exporters();
    expect([again.status, again.stderr]).toEqual([0, ""]);
    expect(host.sql(attrs)).toBe("t|f|f|f|f|f|5|t");
});

test("the role reads the statistics of every session, and not the application's tables", () => {
    expect(exporters().status).toBe(0);
    // pg_monitor: other users' queries in pg_stat_activity are visible (a plain role sees "<insufficient privilege>").
    const seen = asMonitor("postgres", `SELECT count(*) FROM pg_stat_activity WHERE usename = '${PG_USER}' AND query = '<insufficient privilege>'`);
    expect([seen.status, seen.stdout.trim()]).toEqual([0, "0"]);
    const data = asMonitor("chatwoot_production", "SELECT secret FROM conversations");
    expect(data.status).not.toBe(0);
    expect(data.stderr).toContain("permission denied for table conversations");
});

test("Debian's exporter logs in with the password the collector set (password authentication on), and not with another", async () => {
    expect(exporters().status).toBe(0);
    // The container's Postgres asks for a password on every connection from another host: so does this cluster now,
    // for the monitoring role.
    const hba = join(socketDir, "data/pg_hba.conf");
    writeFileSync(hba, `local all visualkit_monitor scram-sha-256\n${readFileSync(hba, "utf8")}`);
    host.sql("SELECT pg_reload_conf()");
    const right = await scrape();
    expect(right.up).toBe("1");
    // Cluster-wide figures from the `postgres` database, the application's database among them.
    expect(right.text).toMatch(/^pg_database_size_bytes\{datname="chatwoot_production",/m);
    expect(right.log).not.toMatch(/permission denied|error/i);
    // Another password: refused, and the exporter's log of the failed connection (its whole DSN) holds no password.
    const wrongFile = join(host.dir, "wrong.pgpass");
    writeFileSync(wrongFile, `*:*:*:visualkit_monitor:${"0".repeat(48)}\n`, { mode: 0o600 });
    const wrong = await scrape(`PGPASSFILE=${wrongFile};`);
    expect(wrong.up).toBe("0");
    expect(wrong.log).toMatch(/password authentication failed for user \\?"visualkit_monitor/);
    expect(wrong.log).toContain("Error opening connection to database");
    expect(wrong.log).not.toContain("0".repeat(48));
    expect(wrong.log).not.toContain(password());
}, 60_000);
