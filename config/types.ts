import type { CatalogInput, EmailInput } from "../catalog/input";
import type { SecretString } from "./secret";

export type Environment = "dev" | "prod";
export type LogLevel = "debug" | "info" | "warn";
/** How Caddy gets certificates: from the public ACME CAs, or from its own internal CA (test hosts). */
export type CaddyTls = "acme" | "internal";

/** The validated, typed, frozen stack configuration. Built once by `loadConfig()`; nothing else reads config. */
export interface PlatformConfig {
    readonly project: string;
    readonly stack: string;
    readonly environment: Environment;
    readonly domain: string;
    readonly cloudflare: { readonly zone: string; readonly zoneId?: string; readonly accountId: string };
    readonly acmeEmail: string;
    readonly logLevel: LogLevel;
    readonly server: {
        readonly type: string;
        readonly location: string;
        readonly image: string;
        readonly backups: boolean;
        /** Let bootstrap changes replace the server (normally ignored, see HetznerHost). */
        readonly rebootstrap: boolean;
        readonly volumeSizeGb: number;
    };
    readonly protect: boolean;
    readonly ssh: {
        readonly publicKeys: readonly string[];
        readonly allowedCidrs: readonly string[];
        readonly privateKey?: SecretString;
    };
    readonly caddyVersion: string;
    /** A standby copy of each stateless HTTP container, so image changes lose no request (see the catalog). */
    readonly standbyReplicas: boolean;
    /** Replace Janus even while calls are in progress (they drop); otherwise the deployment refuses. */
    readonly janusForceRestart: boolean;
    readonly caddyTls: CaddyTls;
    /** Image per catalog image key; `websocket` only when a separate WebSocket image is configured. */
    readonly images: CatalogInput["images"];
    readonly registry?: { readonly server: string; readonly username: string; readonly password: SecretString };
    readonly ports: CatalogInput["ports"];
    readonly hostnames: CatalogInput["hostnames"];
    readonly env: {
        readonly platformApi: Readonly<Record<string, string>>;
        readonly vkAgent: Readonly<Record<string, string>>;
    };
    readonly secretEnv: { readonly platformApi: Readonly<Record<string, SecretString>> };
    readonly geminiApiKey: SecretString;
    readonly janus: CatalogInput["janus"];
    readonly chatwoot: {
        readonly smtp?: {
            readonly address: string;
            readonly port: number;
            readonly username: string;
            readonly password: SecretString;
            readonly sender: string;
        };
    };
    readonly widgetCdnSourceDir?: string;
    /** Who hears the alerts (docs/monitoring.md). */
    readonly monitoring: {
        readonly alertEmail?: string;
        readonly webhookUrl?: SecretString;
        readonly heartbeatUrl?: SecretString;
        /** The outside prober (a Cloudflare Worker) runs: proberEnabled, and an https alertWebhookUrl for it to tell. */
        readonly prober: boolean;
    };
    /** restic backups of the hosts; absent when visualkit:backupsEnabled is false. */
    readonly backups?: BackupConfig;
    readonly pages: CatalogInput["pages"] & {
        readonly git: { readonly owner: string; readonly repo: string };
        readonly productionBranch: string;
        readonly buildCommand: string;
        readonly outputDir: string;
    };
    /** Takeover of existing Cloudflare objects: resource name → import id (`visualkit:adopt`, written by `npm run adopt`). */
    readonly adopt: Readonly<Record<string, string>>;
    /** While set, every service A record points at the old server and no service AAAA exists (`visualkit:cutoverFromIpv4`). */
    readonly cutoverFromIpv4?: string;
    /** Absent when the stack publishes no e-mail records (dev). */
    readonly email?: EmailInput;
}

export interface BackupConfig {
    /** restic repository, `s3:…` or `sftp:…`. */
    readonly repository: string;
    readonly kind: "s3" | "sftp";
    readonly password: SecretString;
    readonly s3?: { readonly accessKeyId: SecretString; readonly secretAccessKey: SecretString };
    readonly sftpPrivateKey?: SecretString;
    /**
     * `visualkit:backupAppendOnly`: the host's SFTP key is forced to `rclone serve restic --append-only` on the backup
     * box, so the host (and root on it) can add snapshots and delete none; pruning runs from the backup-prune workflow.
     */
    readonly appendOnly: boolean;
    readonly keep: { readonly daily: number; readonly weekly: number; readonly monthly: number };
    /** systemd OnCalendar expressions. */
    readonly schedule: string;
    readonly drillSchedule: string;
}
