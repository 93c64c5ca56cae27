import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stub } from "./shell";

/**
 * A throwaway Debian PostgreSQL cluster for tests: initdb in a temp folder, listening on 127.0.0.1 and a high port
 * (and a socket in the folder), stopped by `stop()`. Runs as the `postgres` user when the tests run as root, since
 * the server refuses root. The `postgresql` package comes from scripts/test-tools.sh.
 */
export interface Cluster {
    readonly dir: string;
    readonly port: number;
    /** psql as the superuser; returns stdout (unaligned, tuples only). */
    sql(db: string, text: string): string;
    stop(): void;
}

function pgBin(tool: string): string {
    const base = "/usr/lib/postgresql";
    const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
    const found = versions.map((v) => join(base, v, "bin", tool)).find((p) => existsSync(p));
    if (!found) throw new Error(`${tool} not found under ${base}: install Debian's postgresql (bash scripts/test-tools.sh does it as root)`);
    return found;
}

export function startCluster(): Cluster {
    const dir = mkdtempSync(join(tmpdir(), "vk-pg-"));
    chmodSync(dir, 0o755);
    const asRoot = process.getuid?.() === 0;
    const run = (tool: string, args: string[]) => {
        const cmd = asRoot ? ["runuser", ["-u", "postgres", "--", pgBin(tool), ...args]] : [pgBin(tool), args];
        execFileSync(cmd[0] as string, cmd[1] as string[], { stdio: "pipe" });
    };
    if (asRoot) {
        const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
        chownSync(dir, id("-u"), id("-g"));
    }
    const port = 20000 + Math.floor(Math.random() * 20000);
    run("initdb", ["-D", join(dir, "data"), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale", "C"]);
    run("pg_ctl", ["-D", join(dir, "data"), "-l", join(dir, "log"), "-w", "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, "start"]);
    return {
        dir,
        port,
        sql(db, text) {
            const r = spawnSync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-h", dir, "-p", String(port), "-U", "postgres", "-d", db], { input: text, encoding: "utf8" });
            if (r.status !== 0) throw new Error(`psql ${db}: ${r.stderr}`);
            return r.stdout.trim();
        },
        stop() {
            try {
                run("pg_ctl", ["-D", join(dir, "data"), "-m", "immediate", "-w", "stop"]);
            } finally {
                rmSync(dir, { recursive: true, force: true });
            }
        },
    };
}

/**
 * A `docker` stand-in on PATH: `docker inspect --type container <name>` and `docker exec [-i] <name> <tool> …` run
 * the tool here with the container's Postgres environment (its database, user and the cluster's socket);
 * `ps`, `stop`, `start` and `cp <name>:<dir> -` act on the stand-in's containers, and stop/start are logged to
 * `<stubDir>/docker.log`.
 */
export interface StandinContainer {
    readonly image: string;
    /** For a Postgres container: its POSTGRES_DB. */
    readonly db?: string;
    readonly user?: string;
    /** For a rails container: the folder `docker cp <name>:/app/storage -` archives. */
    readonly storage?: string;
    /** The server it runs on: `docker ps` lists only the containers of $STANDIN_HOST (all when unset). */
    readonly host?: string;
}

export function dockerStandin(stubDir: string, cluster: Cluster, containers: Record<string, StandinContainer>): void {
    for (const [name, c] of Object.entries(containers)) {
        writeFileSync(
            join(stubDir, `container-${name}.env`),
            `HOST='${c.host ?? ""}'\nIMAGE='${c.image}'\nSTORAGE='${c.storage ?? ""}'\nPGHOST=${cluster.dir}\nPGPORT=${cluster.port}\nPOSTGRES_USER=${c.user ?? "postgres"}\nPOSTGRES_DB=${c.db ?? ""}\n` +
                "export PGHOST PGPORT POSTGRES_USER POSTGRES_DB\n",
        );
    }
    stub(
        stubDir,
        "docker",
        `dir="${stubDir}"
known() { [ -f "$dir/container-$1.env" ] || { echo "Error: No such container: $1" >&2; exit 1; }; }
case "$1" in
  inspect) [ -f "$dir/container-$4.env" ] ;;
  ps)
    for f in "$dir"/container-*.env; do n=\${f##*/container-}; n=\${n%.env}; . "$f"; [ -z "$HOST" ] || [ -z "$STANDIN_HOST" ] || [ "$HOST" = "$STANDIN_HOST" ] || continue; printf '%s\\t%s\\n' "$n" "$IMAGE"; done ;;
  stop|start)
    cmd="$1"; shift
    for n in "$@"; do known "$n"; echo "$cmd $n" >> "$dir/docker.log"; echo "$n"; done ;;
  cp)
    n=\${2%%:*}; known "$n"; . "$dir/container-$n.env"
    tar -C "\$(dirname "$STORAGE")" -c "\$(basename "$STORAGE")" ;;
  exec)
    shift
    [ "$1" = "-i" ] && shift
    name="$1"; shift
    known "$name"
    . "$dir/container-$name.env"
    exec "$@" ;;
  *) echo "docker stand-in: unsupported $*" >&2; exit 2 ;;
esac`,
    );
}
