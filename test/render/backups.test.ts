import { spawnSync } from "node:child_process";
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BACKUP_SCRIPTS, renderBackupEnv, renderBackupInstall, renderBackupStdin, renderBackupUnits, type BackupLayout } from "../../render/backups";
import { ROOT } from "../helpers/program";

const layout: BackupLayout = {
    tag: "visualkit-test",
    paths: ["/mnt/data/chatwoot/storage", "/mnt/data/widget-cdn", "/mnt/data/widget-cdn-releases"],
    postgres: { container: "chatwoot-postgres", user: "chatwoot", database: "chatwoot_production" },
    writers: ["chatwoot-rails", "chatwoot-sidekiq"],
    keep: { daily: 7, weekly: 4, monthly: 6 },
    schedule: "*-*-* 03:30:00",
    drillSchedule: "Sun *-*-* 05:00:00",
    sftp: true,
    dumpDir: "/mnt/data/.visualkit-backup-dump",
    appendOnly: false,
    pitr: { dataPath: "/mnt/data/postgres", socketPath: "/mnt/data/postgres-socket", spool: "/mnt/data/postgres-wal-spool", repository: "/mnt/data/pgbackrest" },
};
const scripts = Object.fromEntries(BACKUP_SCRIPTS.map((s) => [s.file, readFileSync(join(ROOT, "scripts", "host", s.file), "utf8")]));
const PASSWORD = `it's a "long" pass $HOME \`x\``;
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
let dir: string;

beforeAll(() => {
    dir = mkdtempSync("/tmp/vk-backup-install-");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the install script as the remote shell would, into a temporary root instead of /. */
function install(root: string, stdin: string) {
    mkdirSync(root, { recursive: true });
    return spawnSync("sh", ["-c", renderBackupInstall(layout, scripts)], { input: stdin, encoding: "utf8", env: { ...process.env, VISUALKIT_INSTALL_ROOT: root } });
}
const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

test("the install script passes shellcheck as a POSIX sh script", () => {
    const file = join(dir, "install.sh");
    writeFileSync(file, `#!/bin/sh\n${renderBackupInstall(layout, scripts)}`);
    const res = spawnSync("shellcheck", ["-s", "sh", file], { encoding: "utf8" });
    expect({ status: res.status, out: res.stdout }).toEqual({ status: 0, out: "" });
});

test("installs the scripts behind their commands, and the secrets from standard input into root-only files, byte for byte", () => {
    const root = join(dir, "root");
    const env = renderBackupEnv({ repository: "sftp://u1@u1.your-storagebox.de:23/prod", password: PASSWORD });
    const res = install(root, renderBackupStdin(env, KEY));
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: "" });
    for (const s of BACKUP_SCRIPTS) {
        const installed = join(root, "usr/local/lib/visualkit/backup", s.file);
        expect(readFileSync(installed, "utf8")).toBe(scripts[s.file]);
        if ("command" in s) {
            expect(mode(installed)).toBe("755");
            expect(readlinkSync(join(root, "usr/local/sbin", s.command))).toBe(`/usr/local/lib/visualkit/backup/${s.file}`);
        }
    }
    expect(mode(join(root, "etc/visualkit"))).toBe("700");
    expect(mode(join(root, "etc/visualkit/backup.env"))).toBe("600");
    expect(mode(join(root, "etc/visualkit/backup-sftp-key"))).toBe("600");
    expect(readFileSync(join(root, "etc/visualkit/backup-sftp-key"), "utf8")).toBe(KEY);
    // What the scripts see after sourcing the two files, as they do.
    const sourced = spawnSync("bash", ["-c", 'set -a; . "$1/etc/visualkit/backup.env"; . "$1/etc/visualkit/backup.conf"; printf "%s\\n" "$RESTIC_PASSWORD" "$VISUALKIT_SFTP_KEY" "$VISUALKIT_BACKUP_PATHS"', "-", root], { encoding: "utf8" });
    expect(sourced.stdout).toBe(`${PASSWORD}\n/etc/visualkit/backup-sftp-key\n${layout.paths.join(" ")}\n`);
    expect(existsSync(join(root, "etc/visualkit/backup.env.new"))).toBe(false);

    // Run again without an SFTP key (the repository moved to S3): same files, the old key is gone.
    const again = install(root, renderBackupStdin(renderBackupEnv({ repository: "s3:https://h/b/p", password: "x", s3: { accessKeyId: "a", secretAccessKey: "b" } })));
    expect(again.status).toBe(0);
    expect(existsSync(join(root, "etc/visualkit/backup-sftp-key"))).toBe(false);
    expect(readFileSync(join(root, "etc/visualkit/backup.env"), "utf8")).toContain("AWS_SECRET_ACCESS_KEY='b'");
});

test("systemd accepts the installed units: oneshot services and persistent timers on the configured calendars", () => {
    const root = join(dir, "units");
    expect(install(root, renderBackupStdin(renderBackupEnv({ repository: "s3:https://h/b/p", password: "x" }))).status).toBe(0);
    // systemd-analyze verify --root resolves the units' dependencies inside the root: give it Debian's units and a
    // docker.service such as the host has.
    cpSync("/usr/lib/systemd/system", join(root, "usr/lib/systemd/system"), { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(root, "etc/systemd/system/docker.service"), "[Unit]\nDescription=Docker\n[Service]\nExecStart=/bin/true\n");
    // The alarm template is checked as the instance a failed backup starts.
    const units = Object.keys(renderBackupUnits(layout)).map((u) => `/etc/systemd/system/${u.replace("@.", "@visualkit-backup.service.")}`);
    const res = spawnSync("systemd-analyze", ["verify", "--man=no", `--root=${root}`, ...units], { encoding: "utf8" });
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: "" });
    const timer = readFileSync(join(root, "etc/systemd/system/visualkit-backup-drill.timer"), "utf8");
    expect(timer).toMatch(/^OnCalendar=Sun \*-\*-\* 05:00:00$/m);
    expect(timer).toMatch(/^Persistent=true$/m);
    expect(lstatSync(join(root, "usr/local/sbin/visualkit-backup-drill")).isSymbolicLink()).toBe(true);
    // A failed backup or drill, whatever killed it, starts the alarm; retention runs after the timer's backup only.
    for (const u of ["visualkit-backup.service", "visualkit-backup-drill.service"]) {
        expect(readFileSync(join(root, "etc/systemd/system", u), "utf8")).toMatch(/^OnFailure=visualkit-backup-failed@%n\.service$/m);
    }
    expect(readFileSync(join(root, "etc/systemd/system/visualkit-backup.service"), "utf8")).toMatch(/^ExecStartPost=\/usr\/local\/sbin\/visualkit-backup-prune$/m);
    expect(renderBackupUnits({ ...layout, appendOnly: true })["visualkit-backup.service"]).not.toContain("ExecStartPost");
    expect(readFileSync(join(root, "etc/systemd/system/visualkit-backup-failed@.service"), "utf8")).toMatch(/^ExecStart=\/usr\/local\/sbin\/visualkit-backup-alarm %i$/m);

    // Point-in-time recovery: the WAL pushed every minute on the minute (its unit raises the alarm too), the weekly
    // drill also recovers to a time, and the install enables the push timer with the others.
    const push = readFileSync(join(root, "etc/systemd/system/visualkit-pitr-push.timer"), "utf8");
    expect(push).toMatch(/^OnCalendar=\*-\*-\* \*:\*:00$/m);
    expect(push).toMatch(/^AccuracySec=1s$/m);
    const pushService = readFileSync(join(root, "etc/systemd/system/visualkit-pitr-push.service"), "utf8");
    expect(pushService).toMatch(/^ExecStart=\/usr\/local\/sbin\/visualkit-pitr push$/m);
    expect(pushService).toMatch(/^OnFailure=visualkit-backup-failed@%n\.service$/m);
    expect(readFileSync(join(root, "etc/systemd/system/visualkit-backup-drill.service"), "utf8").match(/^ExecStart=.*$/gm)).toEqual([
        "ExecStart=/usr/local/sbin/visualkit-backup-drill",
        "ExecStart=/usr/local/sbin/visualkit-backup-drill --to-time now",
    ]);
    expect(renderBackupInstall(layout, scripts)).toMatch(/systemctl enable --now visualkit-backup\.timer visualkit-backup-drill\.timer visualkit-pitr-push\.timer/);
    expect(Object.keys(renderBackupUnits({ ...layout, pitr: undefined }))).not.toContain("visualkit-pitr-push.timer");

    // The check is real: a schedule systemd cannot read fails it.
    writeFileSync(join(root, "etc/systemd/system/visualkit-backup.timer"), renderBackupUnits({ ...layout, schedule: "every night" })["visualkit-backup.timer"]);
    const bad = spawnSync("systemd-analyze", ["verify", "--man=no", `--root=${root}`, "/etc/systemd/system/visualkit-backup.timer"], { encoding: "utf8" });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("Failed to parse calendar specification");
});
