/**
 * scripts/host/visualkit-metrics.sh against stand-ins: a `docker` command answering from canned inspect output, cgroup
 * files, an HTTPS server with SNI serving a valid, an expired and a failing route with certificates from a test CA
 * (real openssl on both sides), a Janus HTTP and admin API, and a backup status file. Its output is read by the real
 * `promtool check metrics`, and the values are the ones these stand-ins were given.
 */
import { execFile, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { createServer as createHttp, type Server } from "node:http";
import { createServer as createHttps } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import { promisify } from "node:util";
import { ROOT } from "../helpers/program";
import { freePort, waitFor } from "../helpers/caddy";
import { startJanus, testJanusSecrets } from "../helpers/janus";
import { certDate, makeTestCa } from "../helpers/tls-certs";

const SCRIPT = join(ROOT, "scripts/host/visualkit-metrics.sh");
const DAY = 86400;
const ADMIN_SECRET = `adm'n "secret" $x`;
const now = Math.floor(Date.now() / 1000);
// Whole seconds, as a certificate holds them.
const at = (s: number) => new Date((now + s) * 1000);
const dates = { ok: [at(-10 * DAY), at(80 * DAY)], expired: [at(-100 * DAY), at(-10 * DAY)] } as const;

let dir: string;
let https: Server;
let janus: Server;
const janusCalls: string[] = [];

const listen = (s: Server) => new Promise<number>((resolve) => s.listen(0, "127.0.0.1", () => resolve((s.address() as AddressInfo).port)));
let httpsPort = 0;
let janusPort = 0;

const CONTAINERS = [
    { Name: "/chatwoot-rails", Id: "a".repeat(64), State: { Running: true, Health: { Status: "healthy" } }, RestartCount: 2, HostConfig: { RestartPolicy: { Name: "unless-stopped" }, Memory: 1073741824 } },
    { Name: "/janus", Id: "b".repeat(64), State: { Running: false }, RestartCount: 0, HostConfig: { RestartPolicy: { Name: "always" }, Memory: 0 } },
    // A one-off (Chatwoot's database preparation): no restart policy, not reported.
    { Name: "/chatwoot-prepare", Id: "c".repeat(64), State: { Running: false }, RestartCount: 0, HostConfig: { RestartPolicy: { Name: "no" }, Memory: 0 } },
];

beforeAll(async () => {
    dir = mkdtempSync("/tmp/vk-metrics-");
    const ca = makeTestCa(join(dir, "ca"));
    const ok = ca.leaf("ok.test", certDate(dates.ok[0]), certDate(dates.ok[1]));
    const down = ca.leaf("down.test", certDate(dates.ok[0]), certDate(dates.ok[1]));
    const expired = ca.leaf("expired.test", certDate(dates.expired[0]), certDate(dates.expired[1]));
    const contexts: Record<string, ReturnType<typeof createSecureContext>> = {
        "ok.test": createSecureContext(ok),
        "down.test": createSecureContext(down),
        "expired.test": createSecureContext(expired),
    };
    https = createHttps({ ...ok, SNICallback: (name, cb) => cb(null, contexts[name] ?? contexts["ok.test"]) }, (req, res) => {
        res.writeHead(req.headers.host?.startsWith("down.test") ? 502 : 200).end("x");
    });
    httpsPort = await listen(https);
    janus = createHttp((req, res) => {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
            const msg = JSON.parse(body);
            janusCalls.push(`${req.url} ${msg.janus}`);
            const reply =
                req.url === "/janus" && msg.janus === "create"
                    ? { janus: "success", data: { id: 4242 } }
                    : req.url === "/admin" && msg.admin_secret === ADMIN_SECRET
                      ? { janus: "success", sessions: [1, 2, 3] }
                      : req.url === "/janus/4242"
                        ? { janus: "success" }
                        : { janus: "error", error: { code: 403, reason: "Unauthorized request (wrong or missing secret/token)" } };
            res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(reply));
        });
    });
    janusPort = await listen(janus);

    const bin = join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(join(dir, "inspect.json"), JSON.stringify(CONTAINERS));
    writeFileSync(
        join(bin, "docker"),
        [
            "#!/bin/sh",
            `case "$1" in`,
            `  ps) echo ${CONTAINERS.map((c) => c.Id.slice(0, 12)).join(" ")} ;;`,
            `  inspect) if [ "$2" = -f ]; then [ -z "\${FAKE_NO_CONTAINERS:-}" ] || exit 1; case "$4" in chatwoot-postgres) echo "\${FAKE_PG_ADDR:-172.19.0.3} " ;; chatwoot-redis) echo "\${FAKE_REDIS_ADDR:-172.19.0.4} " ;; *) exit 1 ;; esac; else cat ${join(dir, "inspect.json")}; fi ;;`,
            // psql in the Postgres container: the command line and standard input kept; a Postgres starting up refuses.
            `  exec) echo "$*" >>${join(dir, "exec.args")}; cat >>${join(dir, "exec.stdin")}; [ -z "\${FAKE_PG_STARTING:-}" ] || { echo 'psql: error: the database system is starting up' >&2; exit 2; } ;;`,
            "  *) exit 1 ;;",
            "esac",
            "",
        ].join("\n"),
    );
    chmodSync(join(bin, "docker"), 0o755);
    writeFileSync(join(bin, "systemctl"), `#!/bin/sh\necho "$*" >>${join(dir, "systemctl.calls")}\n`, { mode: 0o755 });
    const scope = join(dir, "cgroup/system.slice", `docker-${"a".repeat(64)}.scope`);
    mkdirSync(scope, { recursive: true });
    writeFileSync(join(scope, "memory.current"), "536870912\n");
    writeFileSync(join(dir, "status.json"), JSON.stringify({ backup: { lastSuccess: "2026-12-04T03:31:07Z" }, pitr: { lastSuccess: "2026-12-04T09:12:00Z" } }));
    writeFileSync(join(dir, "backup.conf"), "");
    utimesSync(join(dir, "backup.conf"), 1796000000, 1796000000);
    writeFileSync(
        join(dir, "metrics.conf"),
        [
            "VISUALKIT_HOSTNAMES='ok.test down.test expired.test wrong.test'",
            `VISUALKIT_TEXTFILE_DIR=${join(dir, "textfile")}`,
            `VISUALKIT_BACKUP_STATUS=${join(dir, "status.json")}`,
            `VISUALKIT_JANUS_API=http://127.0.0.1:${janusPort}/janus`,
            `VISUALKIT_JANUS_ADMIN=http://127.0.0.1:${janusPort}/admin`,
            "VISUALKIT_PG_CONTAINER=chatwoot-postgres VISUALKIT_PG_USER=chatwoot",
            "VISUALKIT_REDIS_CONTAINER=chatwoot-redis",
            "",
        ].join("\n"),
    );
    writeFileSync(join(dir, "monitoring.env"), `JANUS_ADMIN_SECRET='adm'\\''n "secret" $x'\nREDIS_PASSWORD='r"s'\n`);
    writeFileSync(join(dir, "ca.crt"), ca.caPem);
    mkdirSync(join(dir, "exporter-home"));
});

afterAll(async () => {
    await new Promise((r) => https?.close(r));
    await new Promise((r) => janus?.close(r));
    rmSync(dir, { recursive: true, force: true });
});

async function collect(args: string[] = [], extra: Record<string, string> = {}) {
    const env = {
        ...extra,
        PATH: `${join(dir, "bin")}:/usr/sbin:/usr/bin:/sbin:/bin`,
        VISUALKIT_METRICS_CONF: join(dir, "metrics.conf"),
        VISUALKIT_MONITORING_ENV: join(dir, "monitoring.env"),
        VISUALKIT_RUN_DIR: join(dir, "run"),
        VISUALKIT_HTTPS_PORT: String(httpsPort),
        VISUALKIT_CGROUP_ROOT: join(dir, "cgroup"),
        VISUALKIT_BACKUP_CONF: join(dir, "backup.conf"),
        VISUALKIT_CADDY_ROOT_CA: join(dir, "ca.crt"),
        VISUALKIT_PG_MONITOR_PASSWORD: join(dir, "state/pg-monitor.password"),
        VISUALKIT_PG_MONITOR_PGPASS: join(dir, "exporter-home/postgres-exporter.pgpass"),
    };
    return promisify(execFile)("bash", [SCRIPT, ...args], { env, encoding: "utf8" });
}

/** The samples of the file as `name{labels}` → value. */
function samples(text: string): Record<string, number> {
    return Object.fromEntries(
        text
            .split("\n")
            .filter((l) => l && !l.startsWith("#"))
            .map((l) => {
                const i = l.lastIndexOf(" ");
                return [l.slice(0, i), Number(l.slice(i + 1))];
            }),
    );
}

test("writes a textfile promtool accepts, with what the stand-ins report", async () => {
    await collect();
    const text = readFileSync(join(dir, "textfile/visualkit.prom"), "utf8");
    const lint = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(lint.stdout + lint.stderr).toBe("");
    const s = samples(text);
    const { visualkit_metrics_collector_last_run_timestamp_seconds: lastRun, ...rest } = s;
    expect(Math.abs(lastRun - Date.now() / 1000)).toBeLessThan(60);
    expect(rest).toEqual({
        'visualkit_container_running{name="chatwoot-rails"}': 1,
        'visualkit_container_restarts_total{name="chatwoot-rails"}': 2,
        'visualkit_container_health{name="chatwoot-rails",status="healthy"}': 1,
        'visualkit_container_memory_limit_bytes{name="chatwoot-rails"}': 1073741824,
        'visualkit_container_memory_bytes{name="chatwoot-rails"}': 536870912,
        'visualkit_container_running{name="janus"}': 0,
        'visualkit_container_restarts_total{name="janus"}': 0,
        'visualkit_container_health{name="janus",status="none"}': 1,
        'visualkit_container_memory_limit_bytes{name="janus"}': 0,
        'visualkit_route_up{hostname="ok.test"}': 1,
        'visualkit_route_status_code{hostname="ok.test"}': 200,
        'visualkit_tls_probe_success{hostname="ok.test"}': 1,
        'visualkit_tls_cert_not_before_timestamp_seconds{hostname="ok.test"}': now - 10 * DAY,
        'visualkit_tls_cert_not_after_timestamp_seconds{hostname="ok.test"}': now + 80 * DAY,
        'visualkit_route_up{hostname="down.test"}': 0,
        'visualkit_route_status_code{hostname="down.test"}': 502,
        'visualkit_tls_probe_success{hostname="down.test"}': 1,
        'visualkit_tls_cert_not_before_timestamp_seconds{hostname="down.test"}': now - 10 * DAY,
        'visualkit_tls_cert_not_after_timestamp_seconds{hostname="down.test"}': now + 80 * DAY,
        'visualkit_route_up{hostname="expired.test"}': 1,
        'visualkit_route_status_code{hostname="expired.test"}': 200,
        'visualkit_tls_probe_success{hostname="expired.test"}': 0,
        'visualkit_tls_cert_not_before_timestamp_seconds{hostname="expired.test"}': now - 100 * DAY,
        'visualkit_tls_cert_not_after_timestamp_seconds{hostname="expired.test"}': now - 10 * DAY,
        // Served ok.test's certificate: it answers, but the name does not verify.
        'visualkit_route_up{hostname="wrong.test"}': 1,
        'visualkit_route_status_code{hostname="wrong.test"}': 200,
        'visualkit_tls_probe_success{hostname="wrong.test"}': 0,
        'visualkit_tls_cert_not_before_timestamp_seconds{hostname="wrong.test"}': now - 10 * DAY,
        'visualkit_tls_cert_not_after_timestamp_seconds{hostname="wrong.test"}': now + 80 * DAY,
        visualkit_janus_session_create_success: 1,
        visualkit_janus_sessions: 3,
        visualkit_backup_enabled: 1,
        visualkit_backup_last_success_timestamp_seconds: Date.parse("2026-12-04T03:31:07Z") / 1000,
        // No drill yet: counted from when backups were installed (backup.conf's time).
        visualkit_backup_drill_last_success_timestamp_seconds: 1796000000,
        visualkit_backup_wal_push_last_success_timestamp_seconds: Date.parse("2026-12-04T09:12:00Z") / 1000,
    });
    // The session it created was destroyed again, and the admin secret reached the admin API.
    expect(janusCalls).toEqual(["/janus create", "/janus/4242 destroy", "/admin list_sessions"]);
}, 60_000);

test("a Janus that refuses sessions and an admin secret it rejects are reported, not fatal", async () => {
    writeFileSync(join(dir, "monitoring.env.good"), readFileSync(join(dir, "monitoring.env")));
    writeFileSync(join(dir, "monitoring.env"), "JANUS_ADMIN_SECRET=wrong\n");
    const conf = readFileSync(join(dir, "metrics.conf"), "utf8");
    writeFileSync(join(dir, "metrics.conf"), conf.replace(`${janusPort}/janus`, `${janusPort}/refused`));
    try {
        await collect();
        const s = samples(readFileSync(join(dir, "textfile/visualkit.prom"), "utf8"));
        expect(s.visualkit_janus_session_create_success).toBe(0);
        expect(s.visualkit_janus_sessions).toBeUndefined();
    } finally {
        writeFileSync(join(dir, "metrics.conf"), conf);
        writeFileSync(join(dir, "monitoring.env"), readFileSync(join(dir, "monitoring.env.good")));
    }
}, 60_000);

const readOr = (file: string) => {
    try {
        return readFileSync(file, "utf8");
    } catch {
        return "";
    }
};
const lines = (file: string) => readOr(file).split("\n").filter(Boolean);

const envFile = (exporter: "postgres" | "redis") => join(dir, `run/${exporter}-exporter.env`);

test("exporters: the Postgres exporter's own role and password file, Redis's address and password, each in its own root-only systemd environment file", async () => {
    rmSync(join(dir, "exec.stdin"), { force: true });
    rmSync(join(dir, "exec.args"), { force: true });
    // The file of the version before, which both exporters shared: removed.
    mkdirSync(join(dir, "run"), { recursive: true });
    writeFileSync(join(dir, "run/exporters.env"), "REDIS_PASSWORD=old\n", { mode: 0o600 });
    await collect(["exporters"]);
    expect(readOr(join(dir, "run/exporters.env"))).toBe("");
    const passwordFile = join(dir, "state/pg-monitor.password");
    for (const e of ["postgres", "redis"] as const) expect((statSync(envFile(e)).mode & 0o777).toString(8)).toBe("600");
    expect((statSync(passwordFile).mode & 0o777).toString(8)).toBe("600");
    const password = readFileSync(passwordFile, "utf8").trim();
    expect(password).toMatch(/^[0-9a-f]{48}$/);
    const pgpass = join(dir, "exporter-home/postgres-exporter.pgpass");
    // Its own role on the `postgres` database: not Chatwoot's superuser, no session on the application's database; no
    // password in the DSN, which the exporter logs at every failed connection.
    expect(readFileSync(envFile("postgres"), "utf8")).toBe(`DATA_SOURCE_NAME="host=172.19.0.3 port=5432 user=visualkit_monitor dbname=postgres sslmode=disable"\nPGPASSFILE="${pgpass}"\n`);
    // systemd unquotes "…" (\\" → "): r"s.
    expect(readFileSync(envFile("redis"), "utf8")).toBe('REDIS_ADDR="172.19.0.4:6379"\nREDIS_PASSWORD="r\\"s"\n');
    // The password file as libpq reads it, only for the exporter's user (Debian's `prometheus`, where it exists).
    expect(readFileSync(pgpass, "utf8")).toBe(`*:*:*:visualkit_monitor:${password}\n`);
    expect((statSync(pgpass).mode & 0o777).toString(8)).toBe("600");
    const prometheus = spawnSync("id", ["-u", "prometheus"], { encoding: "utf8" });
    expect(statSync(pgpass).uid).toBe(prometheus.status === 0 ? Number(prometheus.stdout) : process.getuid!());
    // The role is made in the Postgres container as its superuser; the password only on standard input.
    expect(lines(join(dir, "exec.args"))).toEqual(["exec -i chatwoot-postgres psql -X -q -v ON_ERROR_STOP=1 -U chatwoot -d postgres"]);
    const sql = readFileSync(join(dir, "exec.stdin"), "utf8");
    expect(sql).toContain(`\\set pw '${password}'`);
    expect(sql).toMatch(/ALTER ROLE visualkit_monitor WITH LOGIN NOSUPERUSER .* PASSWORD :'pw';/);
    expect(sql).toContain("GRANT pg_monitor TO visualkit_monitor;");
    // The Postgres exporter's next start keeps the password (and sets it again, for a Postgres that lost the role);
    // the Redis exporter's start makes no role.
    await collect(["exporters", "postgres"]);
    await collect(["exporters", "redis"]);
    expect(readFileSync(passwordFile, "utf8").trim()).toBe(password);
    expect(readFileSync(join(dir, "exec.stdin"), "utf8").split(`\\set pw '${password}'`).length).toBe(3);
    const wrong = await collect(["exporters", "mysql"]).catch((e: { code: number; stderr: string }) => e);
    expect(wrong).toMatchObject({ code: 2, stderr: "usage: visualkit-metrics exporters [postgres|redis]\n" });
}, 60_000);

test("exporters: starts that meet on a host without a password yet agree on one, for the role and the exporter's file alike", async () => {
    const passwordFile = join(dir, "state/pg-monitor.password");
    const pgpass = join(dir, "exporter-home/postgres-exporter.pgpass");
    const good = readFileSync(passwordFile, "utf8");
    rmSync(passwordFile);
    rmSync(join(dir, "exec.stdin"), { force: true });
    try {
        // The exporter's start and the minute's run at once, many times over.
        const runs = await Promise.all(Array.from({ length: 12 }, () => collect(["exporters", "postgres"])));
        expect(runs.map((r) => r.stderr).join("")).toBe("");
        const password = readFileSync(passwordFile, "utf8").trim();
        const set = [...readFileSync(join(dir, "exec.stdin"), "utf8").matchAll(/^\\set pw '([0-9a-f]+)'$/gm)].map((m) => m[1]);
        expect(set).toHaveLength(12);
        expect(new Set(set)).toEqual(new Set([password]));
        expect(readFileSync(pgpass, "utf8")).toBe(`*:*:*:visualkit_monitor:${password}\n`);
        // No temp file left beside either file.
        expect(readdirSync(join(dir, "state")).filter((f) => f.startsWith("pg-monitor"))).toEqual(["pg-monitor.password"]);
        expect(readdirSync(join(dir, "run")).filter((f) => f.startsWith("postgres-exporter"))).toEqual(["postgres-exporter.env"]);
    } finally {
        writeFileSync(passwordFile, good, { mode: 0o600 });
    }
}, 60_000);

test("exporters: each restarts when its own address appears, whichever exporter's start wrote first (the Redis one watched localhost until a reboot)", async () => {
    for (const e of ["postgres", "redis"] as const) rmSync(envFile(e), { force: true });
    rmSync(join(dir, "systemctl.calls"), { force: true });
    // Both exporters start before the containers exist (the monitoring install comes first): nothing to dial.
    await collect(["exporters", "redis"], { FAKE_NO_CONTAINERS: "1" });
    await collect(["exporters", "postgres"], { FAKE_NO_CONTAINERS: "1" });
    expect([readOr(envFile("postgres")), readOr(envFile("redis"))]).toEqual(["", ""]);
    // The containers are up. The Postgres exporter, which exits without an address, is started again by systemd first.
    await collect(["exporters", "postgres"]);
    expect(readOr(envFile("postgres"))).toContain("DATA_SOURCE_NAME=");
    // The next minute: the Redis exporter still runs with no address, and is restarted into its file.
    await collect();
    expect(readOr(envFile("redis"))).toContain('REDIS_ADDR="172.19.0.4:6379"');
    expect(lines(join(dir, "systemctl.calls"))).toEqual(["try-restart prometheus-redis-exporter"]);
}, 60_000);

test("exporters: while Postgres cannot make the role (starting up), its exporter gets no address; the next minute's run makes it and restarts that exporter only", async () => {
    rmSync(join(dir, "systemctl.calls"), { force: true });
    const starting = await collect(["exporters", "postgres"], { FAKE_PG_STARTING: "1" }).catch((e: { stderr: string }) => e);
    expect(starting.stderr).toContain("could not set up the role visualkit_monitor in chatwoot-postgres; trying again in a minute");
    expect(readFileSync(envFile("postgres"), "utf8")).toBe("");
    // Still starting a minute later: tried again, the exporter not restarted into the same file.
    await collect([], { FAKE_PG_STARTING: "1" });
    expect(readFileSync(envFile("postgres"), "utf8")).toBe("");
    expect(lines(join(dir, "systemctl.calls"))).toEqual([]);
    // Up: the role is made, the address written, the Postgres exporter restarted.
    await collect();
    expect(readFileSync(envFile("postgres"), "utf8")).toMatch(/^DATA_SOURCE_NAME="host=172\.19\.0\.3 port=5432 user=visualkit_monitor /);
    expect(lines(join(dir, "systemctl.calls"))).toEqual(["try-restart prometheus-postgres-exporter"]);
    // Nothing changes afterwards: no restart every minute.
    await collect();
    expect(lines(join(dir, "systemctl.calls"))).toHaveLength(1);
}, 60_000);

test("exporters: a password file it did not make is refused with what to do, never put into SQL", async () => {
    const passwordFile = join(dir, "state/pg-monitor.password");
    const good = readFileSync(passwordFile, "utf8");
    writeFileSync(passwordFile, "x'; DROP ROLE chatwoot; --\n", { mode: 0o600 });
    rmSync(join(dir, "exec.stdin"), { force: true });
    try {
        const res = await collect(["exporters", "postgres"]);
        expect(res.stderr).toContain(`${passwordFile} is not a password it made; delete it and a new one is made`);
        expect(readOr(join(dir, "exec.stdin"))).toBe("");
        expect(readFileSync(envFile("postgres"), "utf8")).toBe("");
    } finally {
        writeFileSync(passwordFile, good, { mode: 0o600 });
    }
}, 60_000);

test("exporters: Debian's Postgres and Redis exporters accept the address and credentials it writes", async () => {
    // Both containers "at" 127.0.0.1 ports nothing listens on: the exporters must get as far as dialing them.
    await collect(["exporters"], { FAKE_PG_ADDR: "127.0.0.1", FAKE_REDIS_ADDR: "127.0.0.1" });
    let log = "";
    const scrape = async (cmd: string, args: (port: number) => string[], pattern: RegExp) => {
        const file = envFile(cmd === "prometheus-postgres-exporter" ? "postgres" : "redis");
        const port = await freePort();
        log = "";
        // The file read as systemd's EnvironmentFile= reads it; for these values (double quotes, \\ and \" escapes) the same as a shell.
        const proc = spawn("bash", ["-c", `set -a; . ${file}; set +a; exec ${cmd} "$@"`, cmd, ...args(port)], { stdio: ["ignore", "pipe", "pipe"] });
        proc.stdout!.on("data", (d) => (log += d));
        proc.stderr!.on("data", (d) => (log += d));
        try {
            return await waitFor(`${cmd}`, async () => {
                const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => "");
                return pattern.exec(text)?.[0];
            });
        } finally {
            await new Promise((done) => (proc.once("exit", done), proc.kill()));
        }
    };
    // Postgres: the DSN parses (a malformed one fails before any dial) and the dial is to the address written.
    const pg = await scrape("prometheus-postgres-exporter", (p) => [`--web.listen-address=127.0.0.1:${p}`], /^pg_up 0$/m);
    expect(pg).toBe("pg_up 0");
    expect(log).toMatch(/dial tcp 127\.0\.0\.1:5432: connect: connection refused/);
    const redis = await scrape("prometheus-redis-exporter", (p) => [`-web.listen-address=127.0.0.1:${p}`], /^redis_exporter_last_scrape_error\{err="[^"]*"\} 1$/m);
    expect(redis).toContain('err="dial tcp 127.0.0.1:6379: connect: connection refused"');
}, 60_000);

test("against the real Janus with the rendered token_auth: a session only with a token signed by the token secret", async () => {
    // Janus refuses anonymous sessions (janus.jcfg token_auth, docs/security.md): the collector signs a one-minute
    // token with JANUS_TOKEN_SECRET, as platform-api does for callers. Without it, or with another secret, Janus
    // refuses the session and the collector reports 0 (the JanusRefusingSessions alert), never a false 1.
    const real = await startJanus("dev", "adm");
    const secrets = testJanusSecrets("adm");
    const conf = readFileSync(join(dir, "metrics.conf"), "utf8");
    const env = readFileSync(join(dir, "monitoring.env"), "utf8");
    const created = async (tokenSecret?: string) => {
        writeFileSync(join(dir, "monitoring.env"), `JANUS_ADMIN_SECRET=adm\n${tokenSecret === undefined ? "" : `JANUS_TOKEN_SECRET='${tokenSecret}'\n`}`);
        await collect();
        return samples(readFileSync(join(dir, "textfile/visualkit.prom"), "utf8"));
    };
    try {
        writeFileSync(
            join(dir, "metrics.conf"),
            conf
                .replace(`http://127.0.0.1:${janusPort}/janus`, `http://127.0.0.1:${real.settings.ports.http}/janus`)
                .replace(`http://127.0.0.1:${janusPort}/admin`, `http://127.0.0.1:${real.settings.ports.admin}/admin`),
        );
        expect((await created()).visualkit_janus_session_create_success).toBe(0);
        expect((await created("another-secret")).visualkit_janus_session_create_success).toBe(0);
        const good = await created(secrets.tokenSecret);
        expect(good.visualkit_janus_session_create_success).toBe(1);
        // The admin API (admin_secret) still answers, and the collector destroyed the session it made.
        expect(good.visualkit_janus_sessions).toBe(0);
    } finally {
        writeFileSync(join(dir, "metrics.conf"), conf);
        writeFileSync(join(dir, "monitoring.env"), env);
        await real.stop();
    }
}, 120_000);
