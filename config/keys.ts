import { DEFAULT_CADDY_VERSION } from "../catalog/input";
/**
 * Every config key the program reads, in one table. `Pulumi.yaml` declares the same keys (a test keeps the two
 * equal) and docs/configuration.md's config table is checked against it, so a key cannot be added in one place only.
 *
 * Keys are written without the `visualkit:` namespace here; in `Pulumi.<stack>.yaml` they are `visualkit:<key>`.
 */
export type KeyType = "string" | "integer" | "boolean" | "array" | "object";

export interface KeySpec {
    readonly key: string;
    readonly type: KeyType;
    readonly description: string;
    /** Default when the stack file leaves the key out. No default and not `optional` means required. */
    readonly default?: string | number | boolean | readonly string[];
    /** Read as a Pulumi secret (`pulumi config set --secret`). Never declared in Pulumi.yaml, never committed. */
    readonly secret?: boolean;
    /** May be absent (objects and some secrets); a declared default of "" also means "unset". */
    readonly optional?: boolean;
    /** Required only when this other key is set (a password that goes with a server name). */
    readonly requiredWith?: string;
    /** With `requiredWith`: required only when that key's value starts with this (S3 keys for an `s3:` repository). */
    readonly requiredWithPrefix?: string;
}

export const NAMESPACE = "visualkit";

export const KEYS: readonly KeySpec[] = [
    // Environment and names
    { key: "environment", type: "string", description: "Which kind of stack this is: dev or prod. prod turns on the strict rules (pinned images)." },
    { key: "domain", type: "string", description: "Domain every hostname lives under, e.g. visualkit.live (prod) or dev.visualkit.live (dev)." },
    { key: "cloudflareZone", type: "string", description: "Cloudflare zone that holds the domain; the domain is the zone or a subdomain of it." },
    { key: "cloudflareZoneId", type: "string", default: "", description: "Zone id (32 hex characters); when empty the zone is looked up by name." },
    { key: "cloudflareAccountId", type: "string", description: "Cloudflare account id (32 hex characters) that owns the Pages projects." },
    { key: "acmeEmail", type: "string", description: "E-mail address Caddy gives Let's Encrypt for certificate notices." },
    { key: "logLevel", type: "string", default: "info", description: "Log level of Caddy and Janus: debug, info or warn." },

    // Host
    { key: "serverType", type: "string", description: "Hetzner server type, e.g. cx22 (dev) or cx32 (prod; Chatwoot alone wants 4 GB RAM)." },
    { key: "serverLocation", type: "string", default: "nbg1", description: "Hetzner location: fsn1, nbg1, hel1, ash, hil or sin." },
    { key: "serverImage", type: "string", default: "debian-12", description: "Hetzner OS image for new servers; cloud-init targets Debian 12." },
    { key: "serverBackups", type: "boolean", description: "Hetzner automatic backups (+20% of the server price)." },
    { key: "serverRebootstrap", type: "boolean", default: false, description: "When true, a changed bootstrap (cloud-init, SSH keys, serverImage) replaces the server on the next pulumi up; IPs and volume stay. Set it back to false afterwards." },
    { key: "protect", type: "boolean", description: "Protect IPs, server and data volume from deletion and keep the volume on destroy." },
    { key: "volumeSizeGb", type: "integer", description: "Size of the persistent data volume in GB (Hetzner minimum 10; can grow, never shrink)." },
    { key: "hosts", type: "object", optional: true, description: "Hosts by name, each with type, location, volumeSizeGb and the services placed on it (docs/hosts.md); absent means one host, main, with every service." },
    { key: "mediaCells", type: "object", optional: true, description: "Media cells by name: Janus and vk-agent on their own host, each with host, rtpPorts and drain (docs/hosts.md)." },
    { key: "sshPublicKeys", type: "array", description: "OpenSSH public keys allowed to log in as root; the server accepts no other login." },
    { key: "sshAllowedCidrs", type: "array", description: "CIDRs allowed to reach SSH (TCP 22); everything else is dropped by the firewall." },
    {
        key: "sshOpenToTheWorld",
        type: "boolean",
        default: false,
        description: "Say that an sshAllowedCidrs entry wider than a /8 (IPv4) or /16 (IPv6), e.g. 0.0.0.0/0, is deliberate; prod refuses one otherwise.",
    },
    { key: "sshPrivateKey", type: "string", secret: true, optional: true, description: "Private key for the day-2 SSH commands; when unset they use the ssh-agent. The Docker provider always uses the ssh-agent." },
    { key: "caddyTls", type: "string", default: "acme", description: "How Caddy gets certificates: acme (Let's Encrypt/ZeroSSL, needs public DNS) or internal (Caddy's own CA, for a test host or a server checked before the DNS switch)." },
    { key: "caddyVersion", type: "string", default: DEFAULT_CADDY_VERSION, description: `Caddy version the server runs (Debian 12's package is ${DEFAULT_CADDY_VERSION}); newer-only directives are rendered only when it supports them.` },

    // Containers
    { key: "imagePlatformApi", type: "string", description: "Image of platform-api (Fastify + tRPC API on 3001, WebSocket server on 3002)." },
    { key: "imageWebsocket", type: "string", default: "", description: "Separate image for the WebSocket server; empty means platform-api serves 3002 itself." },
    { key: "imageVkAgent", type: "string", description: "Image of vk-agent (Python voice AI bridge between Janus and Gemini)." },
    { key: "imageJanus", type: "string", description: "Image of the Janus WebRTC gateway (a maintained build; the reference's canyan image is unmaintained since 2021)." },
    { key: "imageChatwoot", type: "string", description: "Chatwoot image used for both rails and sidekiq." },
    { key: "imagePostgres", type: "string", default: "pgvector/pgvector:0.8.0-pg16", description: "Postgres image for Chatwoot (pgvector build, which Chatwoot requires)." },
    { key: "imageRedis", type: "string", default: "redis:7.4.2-alpine", description: "Redis image for Chatwoot." },
    { key: "registryServer", type: "string", default: "", description: "Private registry host (e.g. ghcr.io) to log in to; empty means public images only." },
    { key: "registryUsername", type: "string", default: "", description: "User name for registryServer." },
    { key: "registryPassword", type: "string", secret: true, optional: true, requiredWith: "registryServer", description: "Password or token for registryServer; required when registryServer is set." },
    { key: "standbyReplicas", type: "boolean", default: true, description: "Run a standby copy of platform-api, vk-agent and Chatwoot rails so an image change loses no request; costs the memory of a second copy of each." },
    { key: "ports", type: "object", optional: true, description: "Overrides of internal ports by id (platformApi, websocket, chatwoot, vkAgent, vkAgentRtp, janusHttp, janusWs, janusAdmin)." },
    { key: "hostnames", type: "object", optional: true, description: "Overrides of public hostname labels by route id (api, ws, agent, janus, janusApi, support, cdn, app, meet, www)." },
    { key: "platformApiEnv", type: "object", optional: true, description: "Plain environment variables of platform-api (name: value)." },
    { key: "platformApiSecretEnv", type: "object", secret: true, optional: true, description: "Secret environment variables of platform-api, set with --secret --path 'platformApiSecretEnv.NAME'." },
    { key: "vkAgentEnv", type: "object", optional: true, description: "Plain environment variables of vk-agent." },
    { key: "geminiApiKey", type: "string", secret: true, description: "Gemini API key for vk-agent." },

    // Janus
    { key: "janusRtpPorts", type: "string", default: "10000-60000", description: "UDP port range Janus uses for media; the firewall opens exactly this range." },
    { key: "janusForceRestart", type: "boolean", default: false, description: "Replace Janus even while calls are in progress (they drop); when false a Janus change is refused during a call. Set for one deployment only." },
    { key: "janusStunServer", type: "string", default: "stun.l.google.com:19302", description: "STUN server (host:port) Janus uses to learn its public address; empty disables STUN." },

    // Chatwoot
    { key: "chatwootSmtpAddress", type: "string", default: "", description: "SMTP host for Chatwoot mail; empty disables outgoing mail." },
    { key: "chatwootSmtpPort", type: "integer", default: 587, description: "SMTP port for Chatwoot mail." },
    { key: "chatwootSmtpUsername", type: "string", default: "", description: "SMTP user name for Chatwoot mail." },
    { key: "chatwootMailerSender", type: "string", default: "", description: "From address of Chatwoot mail, e.g. VisualKit <support@visualkit.live>." },
    { key: "chatwootSmtpPassword", type: "string", secret: true, optional: true, requiredWith: "chatwootSmtpAddress", description: "SMTP password; required when chatwootSmtpAddress is set." },
    { key: "widgetCdnSourceDir", type: "string", default: "", description: "Local folder whose files are synced to the widget CDN on pulumi up; empty leaves the CDN files alone." },

    // Cloudflare Pages
    { key: "pagesEnabled", type: "boolean", default: true, description: "Create the Cloudflare Pages projects (landing, dashboard, meeting) and their DNS." },
    { key: "pagesProjectSuffix", type: "string", default: "", description: "Suffix of every Pages project name, e.g. -dev, so dev never touches prod projects." },
    { key: "pagesGitOwner", type: "string", default: "", description: "GitHub owner of the apps repository the Pages projects build from." },
    { key: "pagesGitRepo", type: "string", default: "", description: "GitHub repository the Pages projects build from." },
    { key: "pagesProductionBranch", type: "string", default: "main", description: "Branch that Pages deploys to production." },
    { key: "pagesBuildCommand", type: "string", default: "pnpm build", description: "Build command of every Pages project." },
    { key: "pagesOutputDir", type: "string", default: "dist", description: "Build output folder of every Pages project." },
    { key: "pagesAppsDir", type: "string", default: "apps", description: "Folder of the apps in the repository; each project's root dir is <pagesAppsDir>/<app>." },

    // Backups (restic, see docs/backups.md)
    { key: "backupsEnabled", type: "boolean", description: "Scheduled restic backups of Chatwoot's database and files (off in dev, on in prod); prod refuses to deploy with them on and no backupRepository." },
    { key: "backupRepository", type: "string", default: "", description: "restic repository: s3:https://<endpoint>/<bucket>/<path> (Hetzner Object Storage, any S3) or sftp://<user>@<host>:<port>/<path> (Hetzner Storage Box)." },
    { key: "backupPassword", type: "string", secret: true, optional: true, requiredWith: "backupRepository", description: "Password that encrypts the repository; without it no backup can be read. Keep a copy outside Pulumi." },
    { key: "backupS3AccessKeyId", type: "string", secret: true, optional: true, requiredWith: "backupRepository", requiredWithPrefix: "s3:", description: "S3 access key id for an s3: repository (Hetzner Object Storage → Security → S3 credentials)." },
    { key: "backupS3SecretAccessKey", type: "string", secret: true, optional: true, requiredWith: "backupRepository", requiredWithPrefix: "s3:", description: "S3 secret access key for an s3: repository." },
    { key: "backupSftpPrivateKey", type: "string", secret: true, optional: true, requiredWith: "backupRepository", requiredWithPrefix: "sftp:", description: "OpenSSH private key the host logs in to an sftp: repository with (its public half goes on the Storage Box)." },
    { key: "backupAppendOnly", type: "boolean", default: false, description: "The host's SFTP key is append-only on the backup box (forced to rclone serve restic --append-only; docs/backups.md): the host cannot delete snapshots; the backups workflow prunes. Required in prod by the policy pack." },
    { key: "backupKeepDaily", type: "integer", default: 7, description: "Daily snapshots kept by the retention (restic forget --prune, besides every snapshot of the last 48 h and never fewer than 3); at least 3." },
    { key: "backupKeepWeekly", type: "integer", default: 4, description: "Weekly snapshots kept." },
    { key: "backupKeepMonthly", type: "integer", default: 6, description: "Monthly snapshots kept." },
    { key: "backupSchedule", type: "string", default: "*-*-* 03:30:00", description: "When the backup runs: a systemd OnCalendar expression in the host's time zone (UTC)." },
    { key: "backupDrillSchedule", type: "string", default: "Sun *-*-* 05:00:00", description: "When the restore drill runs (weekly by default): a systemd OnCalendar expression." },

    // Monitoring (docs/monitoring.md)
    { key: "alertEmail", type: "string", default: "", description: "Where alert e-mail goes (sent through chatwootSmtpAddress); empty sends no alert e-mail." },
    { key: "alertWebhookUrl", type: "string", secret: true, optional: true, description: "Webhook that receives every alert (Alertmanager's JSON) and the outside prober's reports; a secret, since the URL is its own password." },
    { key: "heartbeatUrl", type: "string", secret: true, optional: true, description: "Dead man's switch: an outside heartbeat URL (e.g. healthchecks.io) pinged every minute while monitoring works; it alarms when the pings stop." },
    { key: "proberEnabled", type: "boolean", default: true, description: "Run the outside prober: a Cloudflare Worker that checks every public route every 5 minutes (free plan: 100,000 requests a day)." },

    // E-mail DNS
    { key: "emailMx", type: "array", default: [], description: "MX records as 'priority host', e.g. '10 mx.zoho.com'; empty means no e-mail records at all." },
    { key: "emailSpf", type: "string", default: "", description: "SPF TXT value at the domain, e.g. v=spf1 include:zoho.com ~all." },
    { key: "emailDkim", type: "string", default: "", description: "DKIM TXT value (v=DKIM1; k=rsa; p=...) published at emailDkimSelector._domainkey." },
    { key: "emailDkimSelector", type: "string", default: "zmail", description: "DKIM selector (Zoho uses zmail)." },
    { key: "emailDmarcPolicy", type: "string", default: "none", description: "DMARC policy: none, quarantine or reject." },
    { key: "emailDmarcRua", type: "string", default: "", description: "Where DMARC aggregate reports go, e.g. mailto:dmarc@visualkit.live; empty means no rua tag." },

    // Taking over the hand-built production (npm run adopt, docs/takeover.md)
    { key: "adopt", type: "object", optional: true, description: "Existing Cloudflare objects to import instead of create, resource name: import id; written by npm run adopt." },
    { key: "cutoverFromIpv4", type: "string", default: "", description: "Old server's IPv4 that the service A records keep pointing at until the switch (no AAAA meanwhile); empty points them at the new host." },
];

/** Provider credentials: read by the providers themselves, checked here so a missing one is reported with the rest. */
export const PROVIDER_SECRETS = [
    { key: "hcloud:token", env: "HCLOUD_TOKEN", description: "Hetzner Cloud API token (read and write)." },
    { key: "cloudflare:apiToken", env: "CLOUDFLARE_API_TOKEN", description: "Cloudflare API token with Zone DNS, Zone Settings, Page Rules/Rulesets and Pages edit rights, and Workers Scripts edit when the prober runs (proberEnabled with an alertWebhookUrl)." },
] as const;

export function fullKey(key: string): string {
    return key.includes(":") ? key : `${NAMESPACE}:${key}`;
}
