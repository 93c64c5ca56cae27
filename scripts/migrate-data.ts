import { spawn, spawnSync } from "node:child_process";
import { localFacts } from "../config/local";
import { dirname } from "node:path";
import { DATA_FOLDERS } from "../catalog/defaults";
import { parseConfig } from "../stack";
import { PROJECT_ROOT, shellWord, shippedFile } from "../lib/shipped";
import { readStackConfig } from "../stack/stack-config";
import { commandLine } from "./usage";

const USAGE =
    "usage: npm run migrate-data -- <stack> --from root@<old-ip> [--to root@<new-ip>] [--old-container <name> | --old-database-url <url>] [--dry-run]\n(the URL is better given as VISUALKIT_OLD_DATABASE_URL: a password on the command line shows in ps)";

/**
 * `npm run migrate-data -- <stack> --from root@<old-ip> [--to root@<new-ip>] [options] [--dry-run]`
 *
 * The maintenance window of the takeover: stops Chatwoot's writers on the old server and Chatwoot on the new one,
 * copies the database (scripts/host/pg-copy.sh: dump, restore into a scratch database, row counts checked, swap by
 * rename), the uploaded files and the widget CDN files, then starts Chatwoot on the new server. When a step fails,
 * both servers' Chatwoot containers are started again as they were, and the new database is untouched.
 * Runs everything over `ssh` (BatchMode: your agent's key); `--dry-run` prints the plan and connects nowhere.
 */

const PG_COPY = "scripts/host/pg-copy.sh";

/** Shell-quotes one argument for a remote command line. */
const q = shellWord;

export interface MigrateOptions {
    stack: string;
    from: string;
    to: string;
    /** The old server's Postgres container; found with `docker ps` when neither this nor oldDatabaseUrl is given. */
    oldContainer?: string;
    oldDatabaseUrl?: string;
    oldDb?: string;
    oldUser?: string;
    /** Containers that write to the old database (the reference's compose names). */
    oldWriters: string[];
    /** The old rails container, whose /app/storage holds the uploads (read with docker cp, stopped or not). */
    oldRails: string;
    oldWidgetCdn: string;
    dryRun: boolean;
    /** Environment of the ssh processes (default: this process's). */
    env?: NodeJS.ProcessEnv;
}

interface Target {
    rails: string;
    sidekiq: string;
    postgres: string;
    storage: string;
    widgetCdn: string;
    work: string;
}

/** Where things live on the new server, from the stack's catalog (the same names the program deploys). */
export function newServerLayout(stack: string): Target {
    const { project, config, secretKeys } = readStackConfig(PROJECT_ROOT, stack);
    const parsed = parseConfig({ project, stack, values: config, secretKeys: new Set(secretKeys), env: {}, local: localFacts({}, false) });
    if (!parsed.catalog) throw new Error(`Pulumi.${stack}.yaml does not validate:\n${parsed.issues.map((i) => `  ${i.key}: ${i.problem}`).join("\n")}`);
    const catalog = parsed.catalog;
    const chatwoot = catalog.services.find((s) => s.id === "chatwoot");
    if (!chatwoot) throw new Error(`stack ${stack} runs no Chatwoot: nothing to migrate`);
    const host = catalog.hosts.find((h) => h.name === chatwoot.host)!;
    const name = (suffix: string) => {
        const c = chatwoot.containers.find((x) => x.name.endsWith(suffix));
        if (!c) throw new Error(`the catalog's chatwoot service has no ${suffix} container`);
        return c.name;
    };
    const cdn = catalog.services.flatMap((s) => s.routes).find((r) => r.target.kind === "static");
    return {
        rails: name("-rails"),
        sidekiq: name("-sidekiq"),
        postgres: name("-postgres"),
        storage: `${host.dataDir}/${DATA_FOLDERS.chatwootStorage}`,
        widgetCdn: cdn && cdn.target.kind === "static" ? cdn.target.root : "/opt/widget-cdn",
        work: `${host.dataDir}/migrate-data`,
    };
}

type Side = "old" | "new";
interface Step {
    title: string;
    /** One command on one server, or a stream from a command on the old server into one on the new. */
    run: { side: Side; command: string; stdin?: "pg-copy" | "expected" } | { from: string; fromStdin?: "pg-copy"; into: string };
    /** Once this step succeeded, the new server's database is no longer what it was. */
    swaps?: true;
}

/**
 * The old database URL split in two: the URL without its password, which may appear in command lines (`ps` on both
 * machines shows them) and in this command's output, and the password, which only travels on standard input: a
 * `PGPASSWORD=…` line ahead of pg-copy.sh in the script `bash -s` reads, exported for psql and pg_dump (libpq reads it).
 */
export function splitDatabaseUrl(url: string): { url: string; password?: string } {
    let parsed: URL;
    try {
        parsed = new URL(url);
    } catch {
        throw new Error("--old-database-url is not a URL such as postgres://user:password@host:5432/database");
    }
    if (!/^postgres(ql)?:$/.test(parsed.protocol)) throw new Error("--old-database-url must start with postgres:// or postgresql://");
    const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
    parsed.password = "";
    return { url: parsed.toString(), password };
}

/** What goes ahead of pg-copy.sh on the old server's standard input: the password, never on a command line. */
export function passwordPreamble(password: string | undefined): string {
    return password === undefined ? "" : `PGPASSWORD=${shellWord(password)}\nexport PGPASSWORD\n`;
}

export function plan(o: MigrateOptions, t: Target): Step[] {
    const source = o.oldDatabaseUrl ? ["--url", splitDatabaseUrl(o.oldDatabaseUrl).url] : ["--container", o.oldContainer ?? "$OLD_POSTGRES"];
    const sourceArgs = [...source, ...(o.oldDb ? ["--db", o.oldDb] : []), ...(o.oldUser ? ["--user", o.oldUser] : [])].map((a) => (a === "$OLD_POSTGRES" ? a : q(a))).join(" ");
    const dump = `${t.work}/chatwoot.dump`;
    const expected = `${t.work}/expected-counts.tsv`;
    return [
        { title: `stop writes on the old server (${o.oldWriters.join(", ")})`, run: { side: "old", command: `docker stop ${o.oldWriters.map(q).join(" ")}` } },
        { title: `stop Chatwoot on the new server (${t.rails}, ${t.sidekiq})`, run: { side: "new", command: `docker stop ${q(t.rails)} ${q(t.sidekiq)}` } },
        { title: "count every table's rows on the old server", run: { side: "old", command: `bash -s -- counts ${sourceArgs}`, stdin: "pg-copy" } },
        { title: `dump the old database (pg_dump -Fc) into ${dump} on the new server`, run: { from: `bash -s -- dump ${sourceArgs}`, fromStdin: "pg-copy", into: `mkdir -p ${q(t.work)} && cat > ${q(dump)}` } },
        { title: "send the old row counts along", run: { side: "new", command: `cat > ${q(expected)}`, stdin: "expected" } },
        {
            title: `restore into a scratch database, check the row counts, swap it in (${t.postgres})`,
            run: { side: "new", command: `bash -s -- restore --container ${q(t.postgres)} ${q(dump)} ${q(expected)}`, stdin: "pg-copy" },
            swaps: true,
        },
        {
            title: `copy the uploaded files (${o.oldRails}:/app/storage → ${t.storage})`,
            run: { from: `docker cp ${q(`${o.oldRails}:/app/storage`)} -`, into: `mkdir -p ${q(dirname(t.storage))} && tar -x -C ${q(dirname(t.storage))}` },
        },
        {
            title: `copy the widget CDN files (${o.oldWidgetCdn} → ${t.widgetCdn})`,
            run: { from: `tar -C ${q(o.oldWidgetCdn)} -c .`, into: `mkdir -p "$(readlink -f ${q(t.widgetCdn)})" && tar -x -C ${q(`${t.widgetCdn}/`)}` },
        },
        { title: "start Chatwoot on the new server", run: { side: "new", command: `docker start ${q(t.rails)} ${q(t.sidekiq)}` } },
    ];
}

function describe(step: Step, o: MigrateOptions): string {
    const r = step.run;
    if ("from" in r) return `  ${o.from}: ${r.from}\n    | ${o.to}: ${r.into}`;
    return `  ${r.side === "old" ? o.from : o.to}: ${r.command}${r.stdin === "pg-copy" ? "   (script: scripts/host/pg-copy.sh)" : ""}`;
}

// Host keys from ~/.ssh/known_hosts, never learned on the way (StrictHostKeyChecking=yes also refuses an unknown host).
const SSH = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=15", "-o", "StrictHostKeyChecking=yes"];

/** Runs a command over ssh; stdout captured, stderr passed through. */
function ssh(env: NodeJS.ProcessEnv | undefined, host: string, command: string, input?: Buffer): { status: number; stdout: string } {
    const r = spawnSync("ssh", [...SSH, host, command], { env, input, stdio: ["pipe", "pipe", "inherit"], maxBuffer: 64 << 20 });
    return { status: r.status ?? 1, stdout: r.stdout?.toString() ?? "" };
}

/** Streams one server's command output into another's command input, through this machine. */
function stream(env: NodeJS.ProcessEnv | undefined, fromHost: string, from: string, fromInput: Buffer | undefined, toHost: string, into: string): Promise<number> {
    return new Promise((done) => {
        const a = spawn("ssh", [...SSH, fromHost, from], { env, stdio: ["pipe", "pipe", "inherit"] });
        const b = spawn("ssh", [...SSH, toHost, into], { env, stdio: ["pipe", "inherit", "inherit"] });
        a.stdout.pipe(b.stdin);
        a.stdin.end(fromInput);
        let left = 2;
        let worst = 0;
        const end = (code: number | null) => {
            worst = Math.max(worst, code ?? 1);
            if (--left === 0) done(worst);
        };
        a.on("close", end);
        b.on("close", end);
    });
}

/** The old server's Chatwoot Postgres container: the one running a postgres/pgvector image, preferring a chatwoot name. */
export function pickPostgres(psOutput: string): { found?: string; candidates: string[] } {
    const rows = psOutput.split("\n").filter(Boolean).map((l) => l.split("\t"));
    const pg = rows.filter(([, image]) => /(^|\/)(postgres|pgvector)\b/.test(image ?? "")).map(([name]) => name);
    const chatwoot = pg.filter((n) => n.includes("chatwoot"));
    const found = chatwoot.length === 1 ? chatwoot[0] : pg.length === 1 ? pg[0] : undefined;
    return { found, candidates: pg };
}

export async function migrate(o: MigrateOptions, t: Target, log: (line: string) => void): Promise<number> {
    const steps = plan(o, t);
    log(`migrate-data ${o.stack}: ${o.from} → ${o.to}`);
    if (o.dryRun) {
        steps.forEach((s, i) => log(`${i + 1}. ${s.title}\n${describe(s, o)}`));
        log(`--dry-run: nothing was run. Undo at any point: ssh ${o.from} docker start ${o.oldWriters.join(" ")}`);
        return 0;
    }
    const script = Buffer.from(shippedFile(PG_COPY));
    const oldScript = Buffer.concat([Buffer.from(passwordPreamble(o.oldDatabaseUrl ? splitDatabaseUrl(o.oldDatabaseUrl).password : undefined)), script]);
    if (!o.oldContainer && !o.oldDatabaseUrl) {
        const ps = ssh(o.env, o.from, "docker ps -a --format '{{.Names}}\t{{.Image}}'");
        const { found, candidates } = pickPostgres(ps.stdout);
        if (ps.status !== 0 || !found) {
            log(`cannot tell the old Postgres container (postgres containers: ${candidates.join(", ") || "none"}); pass --old-container <name> or --old-database-url <url>`);
            return 2;
        }
        o = { ...o, oldContainer: found };
        log(`old Postgres container: ${found}`);
    }
    const resolved = plan(o, t);
    let expected = "";
    let stopped = false;
    let swapped = false;
    for (const [i, step] of resolved.entries()) {
        log(`${i + 1}/${resolved.length} ${step.title}`);
        const r = step.run;
        let status: number;
        if ("from" in r) {
            status = await stream(o.env, o.from, r.from, r.fromStdin ? oldScript : undefined, o.to, r.into);
        } else {
            const pgCopy = r.side === "old" ? oldScript : script;
            const res = ssh(o.env, r.side === "old" ? o.from : o.to, r.command, r.stdin === "pg-copy" ? pgCopy : r.stdin === "expected" ? Buffer.from(expected) : undefined);
            status = res.status;
            if (step.title.startsWith("count")) {
                expected = res.stdout;
                log(expected.replace(/^/gm, "    ").trimEnd());
            } else if (res.stdout.trim()) {
                log(res.stdout.trim().replace(/^/gm, "    "));
            }
        }
        if (i === 0) stopped = true;
        if (status !== 0) {
            if (!swapped) {
                log(`step ${i + 1} failed (exit ${status}); the new database is unchanged.`);
                if (stopped) {
                    log("starting Chatwoot again on both servers, as it was:");
                    ssh(o.env, o.from, `docker start ${o.oldWriters.map(q).join(" ")}`);
                    ssh(o.env, o.to, `docker start ${q(t.rails)} ${q(t.sidekiq)}`);
                }
            } else {
                // The new database was already swapped in (the previous one kept, as pg-copy said), but the files are
                // not all there: the new Chatwoot must not start on half a copy, and two Chatwoots must never write
                // at once. The old server goes on as the live one until a re-run (safe: it copies everything again).
                log(`step ${i + 1} failed (exit ${status}) after the database was copied: the new database holds the old server's data (its previous content is kept, see above), the files are incomplete.`);
                log(`starting Chatwoot again on the old server only; the new one stays stopped. Run npm run migrate-data again to finish the copy.`);
                ssh(o.env, o.from, `docker start ${o.oldWriters.map(q).join(" ")}`);
            }
            return 1;
        }
        if (step.swaps) swapped = true;
    }
    log(`done: Chatwoot runs on ${o.to} with the old server's data; the old Chatwoot stays stopped.`);
    log(`undo before the DNS switch: ssh ${o.to} docker stop ${t.rails} ${t.sidekiq}; ssh ${o.from} docker start ${o.oldWriters.join(" ")}`);
    return 0;
}

async function cli(): Promise<void> {
    const text = { type: "string" } as const;
    const { values: v, positionals } = commandLine(USAGE, {
        "dry-run": { type: "boolean" },
        from: text,
        to: text,
        "old-container": text,
        "old-database-url": text,
        "old-db": text,
        "old-user": text,
        "old-writers": { type: "string", default: "chatwoot-chatwoot-1,chatwoot-chatwoot-sidekiq-1" },
        "old-rails": { type: "string", default: "chatwoot-chatwoot-1" },
        "old-widget-cdn": { type: "string", default: "/opt/widget-cdn" },
    });
    const dryRun = v["dry-run"] ?? false;
    const from = v.from;
    let to = v.to;
    const o = {
        oldContainer: v["old-container"],
        // Preferably from the environment: a password on this command line shows in `ps` here too.
        oldDatabaseUrl: v["old-database-url"] ?? (process.env.VISUALKIT_OLD_DATABASE_URL || undefined),
        oldDb: v["old-db"],
        oldUser: v["old-user"],
        oldWriters: v["old-writers"].split(","),
        oldRails: v["old-rails"],
        oldWidgetCdn: v["old-widget-cdn"],
    };
    const [stack] = positionals;
    if (!stack || !from || positionals.length !== 1) {
        console.error(USAGE);
        process.exit(2);
    }
    if (!to) {
        // The new server from the stack's outputs (needs the Pulumi CLI and the stack's backend).
        const out = spawnSync("npx", ["pulumi", "stack", "output", "host", "--json", "-s", stack], { cwd: PROJECT_ROOT, encoding: "utf8" });
        const ipv4 = out.status === 0 ? (JSON.parse(out.stdout) as { ipv4?: string }).ipv4 : undefined;
        if (!ipv4) {
            console.error(`migrate-data: cannot read the new server from \`pulumi stack output host -s ${stack}\`; pass --to root@<new-ip>`);
            process.exit(2);
        }
        to = `root@${ipv4}`;
    }
    try {
        const code = await migrate({ stack, from, to, dryRun, ...o }, newServerLayout(stack), (l) => console.log(l));
        process.exit(code);
    } catch (e) {
        console.error(`migrate-data: ${(e as Error).message}`);
        process.exit(1);
    }
}

if (process.argv[1]?.endsWith("migrate-data.ts")) void cli();
