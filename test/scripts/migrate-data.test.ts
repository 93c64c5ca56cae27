import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrate, newServerLayout, type MigrateOptions } from "../../scripts/migrate-data";
import { dockerStandin, startCluster, type Cluster } from "../helpers/postgres";
import { stub } from "../helpers/shell";

/**
 * The maintenance window end to end, on this machine: `ssh` is a stand-in that runs the command here with each
 * server's /mnt/data and /opt/widget-cdn under its own folder, `docker` a stand-in whose Postgres containers are
 * databases of one real test cluster. The old server has the reference's compose containers.
 */
const OLD = "root@old.example";
const NEW = "root@new.example";

describe("npm run migrate-data: stop writes, copy database, uploads and CDN files, start Chatwoot on the new server", () => {
    let pg: Cluster;
    let work: string;
    const lines: string[] = [];
    const layout = newServerLayout("prod");
    const options = (extra: Partial<MigrateOptions> = {}): MigrateOptions => ({
        stack: "prod",
        from: OLD,
        to: NEW,
        oldWriters: ["chatwoot-chatwoot-1", "chatwoot-chatwoot-sidekiq-1"],
        oldRails: "chatwoot-chatwoot-1",
        oldWidgetCdn: "/opt/widget-cdn",
        dryRun: false,
        env: { ...process.env, PATH: `${join(work, "bin")}:${process.env.PATH}` },
        ...extra,
    });
    const at = (host: string, path: string) => join(work, "hosts", host, path);
    const dockerLog = () => (existsSync(join(work, "bin", "docker.log")) ? readFileSync(join(work, "bin", "docker.log"), "utf8").trim().split("\n") : []);
    const newCounts = () => pg.sql("chatwoot_production", "SELECT count(*) FROM messages; SELECT count(*) FROM conversations;");

    beforeAll(() => {
        pg = startCluster();
        work = mkdtempSync(join(tmpdir(), "vk-migrate-"));
        const bin = join(work, "bin");
        mkdirSync(bin);
        // Old server: uploads in the rails container's /app/storage, widget files in /opt/widget-cdn.
        mkdirSync(at(OLD, "volumes/storage/ab/cd"), { recursive: true });
        writeFileSync(at(OLD, "volumes/storage/ab/cd/avatar.png"), "png bytes");
        mkdirSync(at(OLD, "opt/widget-cdn/v1"), { recursive: true });
        writeFileSync(at(OLD, "opt/widget-cdn/v1/widget.js"), "console.log('widget')");
        // New server: /opt/widget-cdn is a link into the data volume, as cloud-init makes it.
        mkdirSync(at(NEW, "mnt/data/widget-cdn"), { recursive: true });
        mkdirSync(at(NEW, "opt"), { recursive: true });
        symlinkSync(at(NEW, "mnt/data/widget-cdn"), at(NEW, "opt/widget-cdn"));
        dockerStandin(bin, pg, {
            "chatwoot-chatwoot-1": { host: OLD, image: "chatwoot/chatwoot:v3.5.0", storage: at(OLD, "volumes/storage") },
            "chatwoot-chatwoot-sidekiq-1": { host: OLD, image: "chatwoot/chatwoot:v3.5.0" },
            "chatwoot-redis-1": { host: OLD, image: "redis:7-alpine" },
            "chatwoot-postgres-1": { host: OLD, image: "postgres:12", db: "chatwoot" },
            [layout.rails]: { host: NEW, image: "chatwoot/chatwoot:v4.7.0" },
            [layout.sidekiq]: { host: NEW, image: "chatwoot/chatwoot:v4.7.0" },
            [layout.postgres]: { host: NEW, image: "pgvector/pgvector:pg16", db: "chatwoot_production" },
        });
        stub(
            bin,
            "ssh",
            `while [ "$1" = "-o" ]; do shift 2; done
host="$1"; shift
root="${work}/hosts/$host"
export STANDIN_HOST="$host"
exec bash -c "$(printf '%s' "$*" | sed -e "s#/mnt/data#$root/mnt/data#g" -e "s#/opt/widget-cdn#$root/opt/widget-cdn#g")"`,
        );
        pg.sql("postgres", "CREATE DATABASE chatwoot; CREATE DATABASE chatwoot_production;");
        const schema = "CREATE TABLE conversations (id bigserial PRIMARY KEY, status int); CREATE TABLE messages (id bigserial PRIMARY KEY, conversation_id bigint REFERENCES conversations(id), content text);";
        pg.sql("chatwoot", schema + "INSERT INTO conversations (status) SELECT 0 FROM generate_series(1, 4); INSERT INTO messages (conversation_id, content) SELECT 1 + g % 4, 'm' || g FROM generate_series(1, 9) g;");
        pg.sql("chatwoot_production", schema);
    }, 60_000);
    afterAll(() => {
        pg?.stop();
        rmSync(work, { recursive: true, force: true });
    });

    test("--dry-run prints every step with the command each server runs, and runs nothing", async () => {
        lines.length = 0;
        expect(await migrate(options({ dryRun: true }), layout, (l) => lines.push(l))).toBe(0);
        const text = lines.join("\n");
        expect(text).toMatch(/1\. stop writes on the old server \(chatwoot-chatwoot-1, chatwoot-chatwoot-sidekiq-1\)\n {2}root@old\.example: docker stop chatwoot-chatwoot-1 chatwoot-chatwoot-sidekiq-1/);
        expect(text).toMatch(/6\. restore into a scratch database, check the row counts, swap it in \(chatwoot-postgres\)/);
        expect(text).toMatch(/9\. start Chatwoot on the new server\n {2}root@new\.example: docker start chatwoot-rails chatwoot-sidekiq/);
        expect(dockerLog()).toEqual([]);
    });

    test("a failed copy starts Chatwoot again on both servers and leaves the new database as it was", async () => {
        lines.length = 0;
        const code = await migrate(options({ oldContainer: "chatwoot-postgres-1", oldDb: "no_such_db" }), layout, (l) => lines.push(l));
        expect(code).toBe(1);
        expect(lines.join("\n")).toMatch(/step 3 failed .*the new database is unchanged/);
        expect(dockerLog()).toEqual([
            "stop chatwoot-chatwoot-1",
            "stop chatwoot-chatwoot-sidekiq-1",
            "stop chatwoot-rails",
            "stop chatwoot-sidekiq",
            "start chatwoot-chatwoot-1",
            "start chatwoot-chatwoot-sidekiq-1",
            "start chatwoot-rails",
            "start chatwoot-sidekiq",
        ]);
        expect(newCounts()).toBe("0\n0");
        rmSync(join(work, "bin", "docker.log"));
    }, 60_000);

    // Before: the old URL's password was on the ssh command line (ps on this machine), on bash's and psql's/pg_dump's
    // command lines on the old server, and in the --dry-run output.
    test("--old-database-url: the password reaches libpq on standard input only: no command line, no output line carries it", async () => {
        const password = "Old-S3cret pass";
        const url = `postgres://legacy:${encodeURIComponent(password)}@127.0.0.1:${pg.port}/chatwoot`;
        pg.sql("postgres", `CREATE ROLE legacy LOGIN PASSWORD '${password}'; GRANT pg_read_all_data TO legacy;`);
        // Password authentication for this role over TCP, so the copy below only works when the password arrives.
        const hba = join(pg.dir, "data", "pg_hba.conf");
        writeFileSync(hba, `host all legacy 127.0.0.1/32 scram-sha-256\n${readFileSync(hba, "utf8")}`);
        pg.sql("postgres", "SELECT pg_reload_conf();");
        const bin = join(work, "bin");
        const argvLog = join(work, "argv.log");
        // Every command line as `ps` would show it: ssh here, psql and pg_dump on the "old server".
        for (const tool of ["psql", "pg_dump"]) stub(bin, tool, `printf '%s\\n' "${tool} $*" >> ${argvLog}\nexec /usr/bin/${tool} "$@"`);
        const realSsh = readFileSync(join(bin, "ssh"), "utf8").replace(/^#!\/bin\/sh\n/, "");
        stub(bin, "ssh", `printf '%s\\n' "ssh $*" >> ${argvLog}\n${realSsh}`);
        try {
            lines.length = 0;
            expect(await migrate(options({ oldDatabaseUrl: url, dryRun: true }), layout, (l) => lines.push(l))).toBe(0);
            lines.length = 0;
            pg.sql("chatwoot_production", "DROP TABLE IF EXISTS messages, conversations;");
            const code = await migrate(options({ oldDatabaseUrl: url }), layout, (l) => lines.push(l));
            expect({ code, out: lines.join("\n") }).toMatchObject({ code: 0, out: expect.stringMatching(/chatwoot_production restored, 2 tables, row counts verified/) });
            const argv = readFileSync(argvLog, "utf8");
            expect(argv).toMatch(/psql .*postgres:\/\/legacy@127\.0\.0\.1/);
            expect(argv).toMatch(/pg_dump .*postgres:\/\/legacy@127\.0\.0\.1/);
            for (const secret of [password, encodeURIComponent(password), "S3cret"]) {
                expect(argv).not.toContain(secret);
                expect(lines.join("\n")).not.toContain(secret);
            }
        } finally {
            stub(bin, "ssh", realSsh);
            for (const tool of ["psql", "pg_dump"]) rmSync(join(bin, tool));
            rmSync(join(work, "bin", "docker.log"), { force: true });
        }
    }, 60_000);

    test("a copy that fails after the database swap says so, and starts only the old Chatwoot (never both)", async () => {
        lines.length = 0;
        const code = await migrate(options({ oldContainer: "chatwoot-postgres-1", oldWidgetCdn: "/opt/no-such-widget-cdn" }), layout, (l) => lines.push(l));
        expect(code).toBe(1);
        const text = lines.join("\n");
        expect(text).toMatch(/chatwoot_production replaced; the previous one is kept as chatwoot_production_before_\d+/);
        expect(text).toMatch(/step 8 failed .*after the database was copied: the new database holds the old server's data/);
        expect(text).not.toContain("the new database is unchanged");
        expect(dockerLog()).toEqual(["stop chatwoot-chatwoot-1", "stop chatwoot-chatwoot-sidekiq-1", "stop chatwoot-rails", "stop chatwoot-sidekiq", "start chatwoot-chatwoot-1", "start chatwoot-chatwoot-sidekiq-1"]);
        expect(newCounts()).toBe("9\n4");
        rmSync(join(work, "bin", "docker.log"));
    }, 60_000);

    test("finds the old Postgres container, copies rows (counts verified), uploads and CDN files, and starts only the new Chatwoot", async () => {
        lines.length = 0;
        const code = await migrate(options(), layout, (l) => lines.push(l));
        expect(lines.join("\n")).toContain("old Postgres container: chatwoot-postgres-1");
        expect(code).toBe(0);
        expect(lines.join("\n")).toMatch(/public\.messages\t9[\s\S]*chatwoot_production restored, 2 tables, row counts verified/);
        expect(newCounts()).toBe("9\n4");
        expect(readFileSync(at(NEW, "mnt/data/chatwoot/storage/ab/cd/avatar.png"), "utf8")).toBe("png bytes");
        expect(readFileSync(at(NEW, "mnt/data/widget-cdn/v1/widget.js"), "utf8")).toBe("console.log('widget')");
        expect(dockerLog()).toEqual(["stop chatwoot-chatwoot-1", "stop chatwoot-chatwoot-sidekiq-1", "stop chatwoot-rails", "stop chatwoot-sidekiq", "start chatwoot-rails", "start chatwoot-sidekiq"]);
    }, 60_000);
});
