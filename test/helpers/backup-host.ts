import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./program";

/**
 * A stand-in host for the backup scripts: Debian's PostgreSQL as the live "chatwoot-postgres" (reached through the
 * `docker` stand-in, test/helpers/fake-docker.sh), data folders laid out as on the volume, and the scripts' config
 * files. One per test file: the cluster is the slow part.
 */
export interface BackupHost {
    readonly dir: string;
    /** Folder with the `docker` stand-in, first on PATH. */
    readonly bin: string;
    readonly dockerDir: string;
    readonly dataDir: string;
    readonly stateDir: string;
    /** Environment the scripts run with (config paths, PATH, the stand-in's folder). */
    readonly env: Record<string, string>;
    /** Runs SQL against the live database; returns the unaligned output. */
    sql(query: string): string;
    /** Writes backup.conf and backup.env: the settings and secrets the Backups component installs. */
    configure(settings: Record<string, string>, secrets: Record<string, string>): void;
    run(script: string, args?: string[], env?: Record<string, string>): { status: number | null; stdout: string; stderr: string };
    /** Lines the `docker` stand-in was called with since the last call of this. */
    dockerCalls(): string[];
    stop(): void;
}

export const PG_USER = "chatwoot";
export const PG_DB = "chatwoot_production";

/**
 * @param pgConf lines for the live cluster's postgresql.conf, given the host's folder (the archive settings of
 * point-in-time recovery); none by default.
 */
export function startBackupHost(pgConf?: (dir: string) => string): BackupHost {
    const dir = mkdtempSync("/tmp/vk-backup-");
    // The PostgreSQL server runs as the postgres user and must reach its folder.
    chmodSync(dir, 0o755);
    const bin = join(dir, "bin");
    const dockerDir = join(dir, "docker");
    const dataDir = join(dir, "data");
    const stateDir = join(dir, "state");
    mkdirSync(bin);
    mkdirSync(dockerDir, { mode: 0o755 });
    mkdirSync(stateDir);
    mkdirSync(join(dir, "node-exporter"));
    writeFileSync(join(bin, "docker"), `#!/bin/sh\nexec bash ${join(ROOT, "test", "helpers", "fake-docker.sh")} "$@"\n`, { mode: 0o755 });
    const env: Record<string, string> = {
        PATH: `${bin}:${process.env.PATH}`,
        FAKE_DOCKER_DIR: dockerDir,
        VISUALKIT_BACKUP_CONF: join(dir, "backup.conf"),
        VISUALKIT_BACKUP_ENV: join(dir, "backup.env"),
        VISUALKIT_BACKUP_STATE: stateDir,
        // Not this machine's node-exporter folder (it exists where the tests installed the exporter): the test's own.
        VISUALKIT_BACKUP_METRICS: join(dir, "node-exporter", "visualkit-backup.prom"),
        // restic's cache stays with the test, not in root's home.
        RESTIC_CACHE_DIR: join(dir, "restic-cache"),
    };
    const sh = (args: string[], extra: Record<string, string> = {}, input?: string) =>
        spawnSync(args[0], args.slice(1), { encoding: "utf8", input, env: { ...process.env, ...env, ...extra } });
    const confFile = join(dir, "live-postgresql.conf");
    if (pgConf) writeFileSync(confFile, pgConf(dir));
    const started = sh(["docker", "cluster-start", join(dockerDir, "live"), PG_USER, PG_DB], pgConf ? { FAKE_DOCKER_PG_CONF: confFile } : {});
    if (started.status !== 0) throw new Error(`postgres did not start: ${started.stderr}`);
    let seen = 0;
    return {
        dir,
        bin,
        dockerDir,
        dataDir,
        stateDir,
        env,
        sql(query) {
            const res = sh(["docker", "exec", "-i", "chatwoot-postgres", "psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-U", PG_USER, "-d", PG_DB], {}, query);
            if (res.status !== 0) throw new Error(`psql failed: ${res.stderr}`);
            return res.stdout.trim();
        },
        configure(settings, secrets) {
            const lines = (o: Record<string, string>) => Object.entries(o).map(([k, v]) => `${k}='${v}'\n`).join("");
            writeFileSync(env.VISUALKIT_BACKUP_CONF, lines(settings));
            writeFileSync(env.VISUALKIT_BACKUP_ENV, lines(secrets), { mode: 0o600 });
        },
        run(script, args = [], extra = {}) {
            const res = sh(["bash", join(ROOT, "scripts", "host", script), ...args], extra);
            return { status: res.status, stdout: res.stdout, stderr: res.stderr };
        },
        dockerCalls() {
            let all: string[] = [];
            try {
                all = readFileSync(join(dockerDir, "calls"), "utf8").trim().split("\n");
            } catch {
                return [];
            }
            const fresh = all.slice(seen);
            seen = all.length;
            return fresh;
        },
        stop() {
            for (const name of readdirSync(dockerDir)) {
                const data = join(dockerDir, name, "data");
                if (statSync(join(dockerDir, name)).isDirectory() && readdirSync(join(dockerDir, name)).includes("data")) {
                    spawnSync("runuser", ["-u", "postgres", "--", pgCtl(), "-D", data, "-m", "immediate", "stop"], { encoding: "utf8" });
                }
            }
            rmSync(dir, { recursive: true, force: true });
        },
    };
}

function pgCtl(): string {
    const versions = readdirSync("/usr/lib/postgresql").sort((a, b) => Number(a) - Number(b));
    return `/usr/lib/postgresql/${versions[versions.length - 1]}/bin/pg_ctl`;
}

/** Checksum of each table's full content, in a stable order: equal checksums mean identical rows. */
export function tableChecksums(host: BackupHost, tables: readonly string[]): Record<string, string> {
    return Object.fromEntries(tables.map((t) => [t, host.sql(`SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM ${t} x`)]));
}

/** Every file and link under `dir`, with its content or link target: a folder's whole state in one value. */
export function folderState(dir: string): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (rel: string) => {
        for (const name of readdirSync(join(dir, rel)).sort()) {
            const path = join(dir, rel, name);
            const key = join(rel, name);
            const st = statSync(path, { throwIfNoEntry: false });
            let link: string | undefined;
            try {
                link = readlinkSync(path);
            } catch {
                link = undefined;
            }
            if (link !== undefined) out[key] = `-> ${link}`;
            else if (st?.isDirectory()) walk(key);
            else out[key] = readFileSync(path, "utf8");
        }
    };
    walk("");
    return out;
}

/** Chatwoot's storage folder and the widget CDN as the volume holds them: releases and the link to the live one. */
export function seedFiles(dataDir: string): string[] {
    const storage = join(dataDir, "chatwoot", "storage");
    mkdirSync(join(storage, "ab", "cd"), { recursive: true });
    writeFileSync(join(storage, "ab", "cd", "abcd1234"), "an uploaded avatar");
    writeFileSync(join(storage, "notes.txt"), "attachment text\n");
    const releases = join(dataDir, "widget-cdn-releases");
    mkdirSync(join(releases, "r1"), { recursive: true });
    writeFileSync(join(releases, "r1", "sdk.js"), "console.log('widget r1')");
    symlinkSync("widget-cdn-releases/r1", join(dataDir, "widget-cdn"));
    return [storage, join(dataDir, "widget-cdn"), releases];
}
