import { runProgram } from "../helpers/program";

/** The Backups component in the real program under mocks: what reaches the host, and what never shows. */
const PASSWORD = "repository password 42";
const HOST_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\naG9zdC1hcHBlbmQtb25seS1rZXk=\n-----END OPENSSH PRIVATE KEY-----\n";
const prodWith = (set: Record<string, string>) =>
    runProgram("prod", { set: { backupPassword: PASSWORD, backupSftpPrivateKey: HOST_KEY, ...set }, secrets: ["backupPassword", "backupSftpPrivateKey"] });

let prod: Awaited<ReturnType<typeof prodWith>>;
beforeAll(async () => {
    prod = await prodWith({});
});

test("prod installs backups over SSH after the host is ready, with the secrets on standard input only", () => {
    const run = prod;
    const install = run.named("visualkit-prod-main-backups-install");
    expect(install.parent).toBe("visualkit-prod-main-backups");
    expect(run.named("visualkit-prod-main-backups").type).toBe("visualkit:backup:Backups");
    expect(install.options.dependsOn).toEqual(["visualkit-prod-main-ready"]);
    expect(install.secretInputs).toEqual(expect.arrayContaining(["stdin"]));
    const stdin = String(install.rawInputs.stdin);
    const env = Buffer.from(stdin.split("\n")[0], "base64").toString("utf8");
    expect(env).toContain(`RESTIC_PASSWORD='${PASSWORD}'`);
    // prod's key is append-only on the backup box: the settings say so, the timer's unit never prunes.
    const create = String(install.rawInputs.create);
    expect(create).toContain("VISUALKIT_APPEND_ONLY='1'");
    expect(create).not.toContain("ExecStartPost=/usr/local/sbin/visualkit-backup-prune");
    expect(create).toContain("OnFailure=visualkit-backup-failed@%n.service");
    // The command line, the published files and the outputs carry none of it.
    for (const secret of [PASSWORD, "aG9zdC1hcHBlbmQtb25seS1rZXk="]) {
        expect(create).not.toContain(secret);
        expect(JSON.stringify(run.outputs)).not.toContain(secret);
    }
    expect(create).toContain("systemctl enable --now visualkit-backup.timer visualkit-backup-drill.timer");
    // No server replacement: the host's server resource is untouched by backups (no new dependency on it).
    expect(run.resources.filter((r) => r.type === "hcloud:index/server:Server").every((s) => !s.options.dependsOn.some((d) => d.includes("backups")))).toBe(true);
});

test("the stack outputs say where backups go, without credentials", () => {
    expect((prod.outputs as Record<string, unknown>).backups).toEqual({
        enabled: true,
        repository: "sftp://visualkit@backup.example.net:22/srv/restic/prod",
        host: "main",
        schedule: "*-*-* 03:30:00",
        drillSchedule: "Sun *-*-* 05:00:00",
        retention: { daily: 7, weekly: 4, monthly: 6 },
        statusFile: "/var/lib/visualkit/backup-status.json",
    });
});

test("dev has backups off: the timers are stopped on the host and nothing secret is sent", async () => {
    const run = await runProgram("dev");
    expect(run.resources.some((r) => r.name === "visualkit-dev-main-backups-install")).toBe(false);
    const off = run.named("visualkit-dev-main-backups-off");
    expect(String(off.inputs.create)).toContain("systemctl disable --now visualkit-backup.timer visualkit-backup-drill.timer");
    expect(off.inputs.stdin).toBeUndefined();
    expect((run.outputs as { backups: { enabled: boolean; repository: string } }).backups).toEqual(expect.objectContaining({ enabled: false, repository: "" }));
});

test("an sftp repository sends the private key on standard input and the settings name it", async () => {
    const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
    const run = await runProgram("prod", {
        set: { backupRepository: "sftp://u1@u1.your-storagebox.de:23/prod", backupAppendOnly: "false", backupPassword: PASSWORD, backupSftpPrivateKey: key },
        secrets: ["backupPassword", "backupSftpPrivateKey"],
    });
    const install = run.named("visualkit-prod-main-backups-install");
    const [, keyLine] = String(install.rawInputs.stdin).split("\n");
    expect(Buffer.from(keyLine, "base64").toString("utf8")).toBe(key);
    expect(String(install.rawInputs.create)).toContain("VISUALKIT_SFTP_KEY='/etc/visualkit/backup-sftp-key'");
    expect(String(install.rawInputs.create)).not.toContain("b3BlbnNzaC1rZXktdjEAAAAA");
    // A key that can delete: the timer's unit prunes after its backup (never npm run backup, which runs the script).
    expect(String(install.rawInputs.create)).toContain("ExecStartPost=/usr/local/sbin/visualkit-backup-prune");
});
