import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../helpers/program";
import { dockerStandin, startCluster, type Cluster } from "../../helpers/postgres";

/**
 * The Postgres copy of the takeover between two real Debian PostgreSQL databases: "chatwoot" in the old server's
 * container, "chatwoot_production" in the new server's (one test cluster holds both; a docker stand-in forwards
 * `docker exec <container> psql/pg_dump/pg_restore` to it).
 */
const SCRIPT = join(ROOT, "scripts", "host", "pg-copy.sh");
const OLD = "chatwoot-postgres-1";
const NEW = "chatwoot-postgres";

const SCHEMA = `
CREATE TABLE accounts (id bigserial PRIMARY KEY, name text NOT NULL);
CREATE TABLE conversations (id bigserial PRIMARY KEY, account_id bigint REFERENCES accounts(id), status int NOT NULL DEFAULT 0);
CREATE TABLE messages (id bigserial PRIMARY KEY, conversation_id bigint REFERENCES conversations(id), content text);
CREATE TABLE installation_configs (id bigserial PRIMARY KEY, name text);
`;

describe("scripts/host/pg-copy.sh: counts, dump, restore into a scratch database and swap", () => {
    let pg: Cluster;
    let work: string;
    const run = (args: string[], input?: Buffer) => {
        const r = spawnSync("bash", [SCRIPT, ...args], { input, env: { ...process.env, PATH: `${work}:${process.env.PATH}` }, maxBuffer: 64 << 20 });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
    };
    const targetRows = () => pg.sql("chatwoot_production", "SELECT name FROM installation_configs ORDER BY id; SELECT count(*) FROM messages;");
    const databases = () => pg.sql("postgres", "SELECT datname FROM pg_database WHERE datname LIKE 'chatwoot%' ORDER BY 1").split("\n");

    beforeAll(() => {
        pg = startCluster();
        work = mkdtempSync(join(tmpdir(), "vk-pgcopy-"));
        dockerStandin(work, pg, { [OLD]: { image: "postgres:12", db: "chatwoot" }, [NEW]: { image: "pgvector/pgvector:pg16", db: "chatwoot_production" } });
        pg.sql("postgres", "CREATE DATABASE chatwoot; CREATE DATABASE chatwoot_production;");
        // The old server: three accounts, five conversations, twelve messages (one with quotes and a newline).
        pg.sql(
            "chatwoot",
            SCHEMA +
                `INSERT INTO accounts (name) VALUES ('VisualKit'), ('Acme'), ('Globex');
                 INSERT INTO conversations (account_id, status) SELECT 1 + (g % 3), g % 2 FROM generate_series(1, 5) g;
                 INSERT INTO messages (conversation_id, content) SELECT 1 + (g % 5), 'message ' || g FROM generate_series(1, 11) g;
                 INSERT INTO messages (conversation_id, content) VALUES (1, E'it''s "quoted"\\nand two lines');`,
        );
        // The new server as chatwoot-prepare left it: the schema and one row of its own, no conversations.
        pg.sql("chatwoot_production", SCHEMA + "INSERT INTO installation_configs (name) VALUES ('fresh install');");
    }, 60_000);
    afterAll(() => {
        pg?.stop();
        rmSync(work, { recursive: true, force: true });
    });

    test("is shellcheck-clean", () => {
        const r = spawnSync("shellcheck", [SCRIPT], { encoding: "utf8" });
        expect(r.stdout + r.stderr).toBe("");
        expect(r.status).toBe(0);
    });

    test("counts gives the exact rows of every table, finding database and user from the container's environment", () => {
        const r = run(["counts", "--container", OLD]);
        expect(r.stderr).toBe("");
        expect(r.stdout.toString()).toBe("public.accounts\t3\npublic.conversations\t5\npublic.installation_configs\t0\npublic.messages\t12\n");
    });

    test("a dump that breaks off leaves the target untouched and no scratch database behind", () => {
        const dump = run(["dump", "--container", OLD]).stdout;
        writeFileSync(join(work, "broken.dump"), dump.subarray(0, Math.floor(dump.length / 2)));
        writeFileSync(join(work, "expected.tsv"), run(["counts", "--container", OLD]).stdout);
        const r = run(["restore", "--container", NEW, join(work, "broken.dump"), join(work, "expected.tsv")]);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/pg_restore failed; chatwoot_production is unchanged/);
        expect(targetRows()).toBe("fresh install\n0");
        expect(databases()).toEqual(["chatwoot", "chatwoot_production"]);
    }, 30_000);

    test("a restore whose row counts differ from the source's is not swapped in", () => {
        writeFileSync(join(work, "full.dump"), run(["dump", "--container", OLD]).stdout);
        writeFileSync(join(work, "expected.tsv"), run(["counts", "--container", OLD]).stdout.toString().replace("messages\t12", "messages\t13"));
        const r = run(["restore", "--container", NEW, join(work, "full.dump"), join(work, "expected.tsv")]);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/row counts differ[\s\S]*< public\.messages\t13[\s\S]*> public\.messages\t12[\s\S]*chatwoot_production is unchanged/);
        expect(targetRows()).toBe("fresh install\n0");
        expect(databases()).toEqual(["chatwoot", "chatwoot_production"]);
    }, 30_000);

    test("a good copy replaces the target: same rows, same text, sequences continue; the previous database is kept", () => {
        writeFileSync(join(work, "expected.tsv"), run(["counts", "--container", OLD]).stdout);
        const r = run(["restore", "--container", NEW, join(work, "full.dump"), join(work, "expected.tsv")]);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(r.stdout.toString()).toMatch(/chatwoot_production restored, 4 tables, row counts verified/);
        expect(run(["counts", "--container", NEW]).stdout.toString()).toBe(readFileSync(join(work, "expected.tsv"), "utf8"));
        expect(pg.sql("chatwoot_production", "SELECT content FROM messages WHERE id = 12")).toBe(`it's "quoted"\nand two lines`);
        expect(pg.sql("chatwoot_production", "INSERT INTO messages (conversation_id, content) VALUES (2, 'after the move') RETURNING id")).toBe("13");
        const dbs = databases();
        expect(dbs).toHaveLength(3);
        expect(dbs[2]).toMatch(/^chatwoot_production_before_\d{14}$/);
        expect(pg.sql(dbs[2], "SELECT name FROM installation_configs")).toBe("fresh install");
    }, 30_000);

    test("a second copy in the same second (a retry) keeps both earlier databases instead of failing after the restore", () => {
        // The kept name carries a stamp to the second; a clock stopped at one second makes the two copies collide.
        writeFileSync(join(work, "date"), "#!/bin/sh\necho 20261205020608\n", { mode: 0o755 });
        try {
            for (const attempt of [1, 2]) {
                const r = run(["restore", "--container", NEW, join(work, "full.dump"), join(work, "expected.tsv")]);
                expect({ attempt, status: r.status, stderr: r.stderr }).toEqual({ attempt, status: 0, stderr: "" });
            }
        } finally {
            rmSync(join(work, "date"));
        }
        const kept = databases().filter((d) => d.startsWith("chatwoot_production_before_20261205020608"));
        expect(kept).toHaveLength(2);
        expect(kept[0]).not.toBe(kept[1]);
        expect(run(["counts", "--container", NEW]).stdout.toString()).toBe(readFileSync(join(work, "expected.tsv"), "utf8"));
    }, 30_000);

    test("the swap succeeds while clients keep reconnecting to the target (as the Postgres exporter does every scrape)", () => {
        // Four clients, each session on the target for 10 s (a rename waits 5 s for other sessions); a killed or
        // refused one comes straight back.
        const stopFile = join(work, "stop-clients");
        const clients = [1, 2, 3, 4].map(() =>
            spawn("bash", ["-c", `while [ ! -e ${stopFile} ]; do docker exec -i ${NEW} psql -X -q -U postgres -d chatwoot_production -c 'SELECT pg_sleep(10)' >/dev/null 2>&1; done`], {
                env: { ...process.env, PATH: `${work}:${process.env.PATH}` },
                stdio: "ignore",
                detached: true,
            }),
        );
        try {
            spawnSync("sleep", ["1"]);
            expect(pg.sql("postgres", "SELECT count(*) FROM pg_stat_activity WHERE datname = 'chatwoot_production' AND query LIKE '%pg_sleep(10)%'")).toBe("4");
            const r = run(["restore", "--container", NEW, join(work, "full.dump"), join(work, "expected.tsv")]);
            expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
        } finally {
            writeFileSync(stopFile, "");
            for (const c of clients) process.kill(-c.pid!, "SIGKILL");
        }
        expect(run(["counts", "--container", NEW]).stdout.toString()).toBe(readFileSync(join(work, "expected.tsv"), "utf8"));
        // Every copy accepts connections again: the new target and each kept one.
        expect(pg.sql("postgres", "SELECT string_agg(DISTINCT datallowconn::text, ',') FROM pg_database WHERE datname LIKE 'chatwoot\\_production%'")).toBe("true");
    }, 60_000);

    test("an unknown container is named", () => {
        const r = run(["counts", "--container", "chatwoot-postgres-9"]);
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/no container named chatwoot-postgres-9/);
    });
});
