import * as command from "@pulumi/command";
import { REMOTE_COMMAND_DEFAULTS } from "../lib/ssh";
import * as pulumi from "@pulumi/pulumi";
import type { BackupConfig } from "../config/types";
import { publishFile } from "../lib/artifacts";
import type { HostHandle } from "../lib/host";
import { toPulumiSecret, toPulumiSecrets } from "../lib/secrets";
import { shippedFile } from "../lib/shipped";
import { BACKUP_SCRIPTS, renderBackupConf, renderBackupDisable, renderBackupEnv, renderBackupInstall, renderBackupStdin, renderBackupUnits, type BackupLayout } from "../render/backups";

export interface BackupsArgs {
    /** The host whose data is backed up (SSH connection, readiness). */
    host: HostHandle;
    /** What is backed up: the snapshots' tag, the folders, the Postgres container and the writers a restore stops. */
    data: Omit<BackupLayout, "keep" | "schedule" | "drillSchedule" | "sftp" | "appendOnly">;
    /**
     * Repository and secrets; without it backups are off and the timers are stopped on the host (the scripts, the
     * settings and the repository stay, so turning them on again keeps the snapshots).
     * @default undefined (off)
     */
    config?: BackupConfig;
    /**
     * Publish the rendered settings and units under this folder of rendered/<stack>/ (one host: `backup`).
     * @default "backup"
     */
    publishAs?: string;
}

/**
 * Scheduled restic backups of one host, installed over SSH after the host is ready (a day-2 step, so no server
 * replacement): restic and jq from Debian, the backup, drill and restore scripts, the settings, the env file with
 * the repository's secrets (0600, sent on standard input only) and two systemd timers. A changed script, setting
 * or secret runs the install again.
 */
export class Backups extends pulumi.ComponentResource {
    /** Where the snapshots go, without credentials; empty when backups are off. */
    public readonly repository: pulumi.Output<string>;
    public readonly enabled: pulumi.Output<boolean>;

    constructor(name: string, args: BackupsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("visualkit:backup:Backups", name, {}, opts);
        const connection = args.host.connection;
        const child = { parent: this, dependsOn: [args.host.ready] };
        const cfg = args.config;
        if (cfg) {
            const layout: BackupLayout = { ...args.data, keep: cfg.keep, schedule: cfg.schedule, drillSchedule: cfg.drillSchedule, sftp: cfg.kind === "sftp", appendOnly: cfg.appendOnly };
            const scripts = Object.fromEntries(BACKUP_SCRIPTS.map((s) => [s.file, shippedFile(`scripts/host/${s.file}`)]));
            const install = renderBackupInstall(layout, scripts);
            const folder = args.publishAs ?? "backup";
            publishFile(`${folder}/backup.conf`, renderBackupConf(layout));
            for (const [unit, text] of Object.entries(renderBackupUnits(layout))) publishFile(`${folder}/${unit}`, text);
            // Rendered inside the apply from Pulumi secrets, so the text is a secret too.
            const secrets = { password: toPulumiSecret(cfg.password), s3: cfg.s3 && toPulumiSecrets(cfg.s3), sftpKey: cfg.sftpPrivateKey && toPulumiSecret(cfg.sftpPrivateKey) };
            const stdin = pulumi.output(secrets).apply(({ password, s3, sftpKey }) => renderBackupStdin(renderBackupEnv({ repository: cfg.repository, password, s3 }), sftpKey));
            // The secrets are a trigger too (kept encrypted in the state): a new password or key is installed at once.
            new command.remote.Command(`${name}-install`, { ...REMOTE_COMMAND_DEFAULTS, connection, create: install, stdin, triggers: [install, args.host.instance, stdin] }, child);
        } else {
            const disable = renderBackupDisable(args.data.pitr?.spool);
            new command.remote.Command(`${name}-off`, { ...REMOTE_COMMAND_DEFAULTS, connection, create: disable, triggers: [disable, args.host.instance] }, child);
        }
        this.repository = pulumi.output(cfg ? cfg.repository : "");
        this.enabled = pulumi.output(cfg !== undefined);
        this.registerOutputs({ repository: this.repository, enabled: this.enabled });
    }
}
