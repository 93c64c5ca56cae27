import { spawn } from "node:child_process";
import { readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { seedFiles, startBackupHost, tableChecksums, type BackupHost } from "../helpers/backup-host";
import { ROOT } from "../helpers/program";
import { startSshd, type LocalSshd } from "../helpers/sshd";
import { checkBackups } from "../../scripts/smoke/backups";

/**
 * The operator commands end to end: `npm run backup` and `npm run restore` (scripts/backup.ts, scripts/restore.ts)
 * over SSH to a local sshd whose sessions find the host scripts as the Backups component installs them
 * (visualkit-backup, visualkit-backup-drill, visualkit-restore on PATH), with an SFTP repository on the same sshd.
 */
let host: BackupHost;
let sshd: LocalSshd;
let outputs: string;
const STACK = "test";

beforeAll(async () => {
    host = startBackupHost();
    for (const [file, command] of [["backup.sh", "visualkit-backup"], ["backup-drill.sh", "visualkit-backup-drill"], ["restore.sh", "visualkit-restore"]]) {
        symlinkSync(join(ROOT, "scripts", "host", file), join(host.bin, command));
    }
    sshd = await startSshd(join(host.dir, "sshd"), { ...host.env, PATH: `${host.bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` });
    const files = seedFiles(host.dataDir);
    host.sql("CREATE TABLE conversations (id serial PRIMARY KEY, subject text); INSERT INTO conversations (subject) SELECT 'subject ' || i FROM generate_series(1, 120) i;");
    host.configure(
        {
            VISUALKIT_BACKUP_PATHS: files.join(" "),
            VISUALKIT_APP_CONTAINERS: "chatwoot-rails chatwoot-sidekiq",
            VISUALKIT_BACKUP_TAG: "visualkit-test",
            VISUALKIT_SFTP_KEY: sshd.identity,
        },
        { RESTIC_REPOSITORY: `sftp://root@127.0.0.1:${sshd.port}/${join(host.dir, "repo")}`, RESTIC_PASSWORD: "s3cret pass" },
    );
    // Stack outputs as `pulumi stack output --json` prints them, pointing at the local sshd's address.
    outputs = join(host.dir, "outputs.json");
    writeFileSync(
        outputs,
        JSON.stringify({
            hosts: { main: { ipv4: "127.0.0.1" } },
            backups: { enabled: true, repository: "sftp://root@127.0.0.1/repo", host: "main", statusFile: join(host.stateDir, "backup-status.json") },
        }),
    );
});

afterAll(async () => {
    await sshd?.stop();
    host?.stop();
});

function npm(script: "backup" | "restore", args: string[], input = ""): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const ssh = ["--port", String(sshd.port), "--identity", sshd.identity, "--known-hosts", sshd.knownHosts];
    return new Promise((resolve) => {
        const child = spawn(process.execPath, [join(ROOT, "scripts", "run-ts.js"), join(ROOT, "scripts", `${script}.ts`), ...args, ...ssh], { stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += String(d)));
        child.stderr.on("data", (d) => (stderr += String(d)));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
        // A command that refuses before reading stdin closes it first; that EPIPE is the refusal, not a test failure.
        child.stdin.on("error", () => undefined);
        child.stdin.end(input);
    });
}

test("npm run backup takes a snapshot over SSH and prints its id; --list shows it", async () => {
    const res = await npm("backup", [STACK, "--outputs", outputs]);
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    const id = /^snapshot ([0-9a-f]{64})$/m.exec(res.stdout)?.[1];
    expect(id).toBeDefined();
    const list = await npm("backup", [STACK, "--host", "root@127.0.0.1", "--list"]);
    expect(list.status).toBe(0);
    expect(list.stdout).toContain(id!.slice(0, 8));
});

test("npm run restore asks first, refuses a wrong answer, and restores after the stack name is typed", async () => {
    const before = tableChecksums(host, ["conversations"]);
    host.sql("DELETE FROM conversations WHERE id > 20");
    host.dockerCalls();
    const refused = await npm("restore", [STACK, "--outputs", outputs], "no\n");
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("not confirmed");
    expect(host.dockerCalls()).toEqual([]);
    const silent = await npm("restore", [STACK, "--outputs", outputs]);
    expect(silent.status).toBe(1);
    expect(silent.stderr).toContain("pass --yes");

    const res = await npm("restore", [STACK, "--outputs", outputs], `${STACK}\n`);
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: expect.stringContaining("Type test to go on") });
    expect(res.stdout).toContain("chatwoot-rails chatwoot-sidekiq healthy");
    expect(tableChecksums(host, ["conversations"])).toEqual(before);
});

test("npm run restore --drill prints the row counts and the freshness check reads the result over SSH", async () => {
    const res = await npm("restore", [STACK, "--outputs", outputs, "--drill"]);
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: "" });
    expect(res.stdout).toMatch(/public\.conversations\s+120\s+120\n/);
    const fresh = checkBackups({ ssh: { port: sshd.port, identity: sshd.identity, knownHosts: sshd.knownHosts } }, await readText(outputs));
    expect(fresh.map((r) => [r.name, r.verdict])).toEqual([["backup", "ok"], ["drill", "ok"]]);
});

test("a restore whose operator session dies right after \"stopping\" still runs to its end and starts the writers again", async () => {
    const before = tableChecksums(host, ["conversations"]);
    host.sql("DELETE FROM conversations WHERE id > 10");
    host.dockerCalls();
    // Stopping rails takes a while; the operator's connection drops meanwhile (laptop closed, network gone).
    writeFileSync(join(host.dockerDir, "stop-seconds"), "3");
    const earlier = restoreStatuses().length;
    const ssh = ["--port", String(sshd.port), "--identity", sshd.identity, "--known-hosts", sshd.knownHosts];
    const child = spawn(process.execPath, [join(ROOT, "scripts", "run-ts.js"), join(ROOT, "scripts", "restore.ts"), STACK, "--outputs", outputs, "--yes", ...ssh], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    let out = "";
    await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "stopping" within 60 s: ${out}`)), 60_000);
        child.stdout!.on("data", (d) => {
            out += String(d);
            if (/^stopping /m.test(out)) {
                clearTimeout(timer);
                resolve();
            }
        });
    });
    // The whole local process group (npm's node and its ssh) dies at once: the server sees the session end.
    process.kill(-child.pid!, "SIGKILL");
    try {
        const deadline = Date.now() + 60_000;
        let calls: string[] = [];
        while (Date.now() < deadline && !calls.includes("start chatwoot-rails chatwoot-sidekiq")) {
            await new Promise((r) => setTimeout(r, 500));
            calls = [...calls, ...host.dockerCalls()];
        }
        expect(calls).toContain("start chatwoot-rails chatwoot-sidekiq");
        // The detached restore records its exit status beside its log when it ends: 0.
        while (Date.now() < deadline && restoreStatuses().length <= earlier) await new Promise((r) => setTimeout(r, 250));
        expect(restoreStatuses().slice(earlier)).toEqual(["0"]);
        expect(tableChecksums(host, ["conversations"])).toEqual(before);
    } finally {
        writeFileSync(join(host.dockerDir, "stop-seconds"), "0");
    }
});

test("a missing snapshot and a wrong password are refused with their reason and a non-zero exit", async () => {
    const missing = await npm("restore", [STACK, "--outputs", outputs, "--yes", "--snapshot", "abcdef12"]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("snapshot not found");
    const bad = await npm("restore", [STACK, "--outputs", outputs, "--yes", "--snapshot", "not-hex"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--snapshot must be a snapshot id");

    const env = join(host.dir, "backup.env");
    const good = await readText(env);
    writeFileSync(env, good.replace("s3cret pass", "wrong pass"));
    try {
        const res = await npm("restore", [STACK, "--outputs", outputs, "--yes"]);
        expect(res.status).toBe(1);
        expect(res.stderr).toContain("wrong password");
        const backup = await npm("backup", [STACK, "--outputs", outputs]);
        expect(backup.status).toBe(1);
        expect(backup.stderr).toContain("wrong password");
    } finally {
        writeFileSync(env, good);
    }
});

test("a stack with backups off is refused before any SSH", async () => {
    const off = join(host.dir, "outputs-off.json");
    writeFileSync(off, JSON.stringify({ hosts: { main: { ipv4: "127.0.0.1" } }, backups: { enabled: false, host: "main" } }));
    const res = await npm("backup", [STACK, "--outputs", off]);
    expect(res.status).toBe(2);
    expect(res.stderr).toContain("backups are off in stack test");
    expect(res.stderr).toContain("visualkit:backupsEnabled true");
});

/** The exit status of every detached restore so far, oldest first (restore-<UTC stamp>-<pid>.log.rc). */
function restoreStatuses(): string[] {
    return readdirSync(host.stateDir)
        .filter((f) => /^restore-.*\.log\.rc$/.test(f))
        .sort()
        .map((f) => readFileSync(join(host.stateDir, f), "utf8").trim());
}

async function readText(path: string): Promise<string> {
    const { readFile } = await import("node:fs/promises");
    return readFile(path, "utf8");
}
