/**
 * What the Monitoring component puts on a host: Prometheus, Alertmanager, node-exporter and the Postgres and Redis
 * exporters from Debian, their settings, the visualkit-metrics collector (scripts/host/visualkit-metrics.sh) and its
 * timer, journald's limits, and the install script that writes all of it. Pure, so the tests check the files with
 * promtool and amtool, the units with systemd-analyze and the script with shellcheck and a temporary root.
 *
 * Everything listens on 127.0.0.1 only (nothing here is in the firewall's open ports either): the on-call person
 * reaches the UIs through an SSH tunnel (docs/monitoring.md).
 */
import { stringify } from "yaml";
import { CADDY_METRICS } from "./caddyfile";
import { shellQuote } from "../lib/shipped";
import { heredoc } from "./heredoc";

export const MONITORING_ADDRESS = "127.0.0.1";

/** Loopback ports; Debian's defaults except Caddy's metrics site, which has none. */
export const MONITORING_PORTS = { prometheus: 9090, alertmanager: 9093, nodeExporter: 9100, postgresExporter: 9187, redisExporter: 9121, caddyMetrics: CADDY_METRICS.port } as const;

export const MONITORING_PATHS = {
    prometheusConfig: "/etc/prometheus/prometheus.yml",
    rules: "/etc/prometheus/visualkit-rules.yml",
    alertmanagerConfig: "/etc/prometheus/alertmanager.yml",
    /** Alertmanager reads the SMTP password from here (0640 root:prometheus), so it is in no config text. */
    smtpPassword: "/etc/prometheus/alertmanager-smtp.pass",
    /** The collector's plain settings and its secrets (root only). */
    collectorConf: "/etc/visualkit/metrics.conf",
    secrets: "/etc/visualkit/monitoring.env",
    /** Debian's node-exporter reads *.prom files here (its --collector.textfile.directory default). */
    textfileDir: "/var/lib/prometheus/node-exporter",
    collector: "/usr/local/sbin/visualkit-metrics",
    units: "/etc/systemd/system",
    journald: "/etc/systemd/journald.conf.d/50-visualkit.conf",
} as const;

/** Debian packages installed on the host (bookworm: Prometheus 2.42, Alertmanager 0.25, node-exporter 1.5). */
export const MONITORING_PACKAGES = ["prometheus", "prometheus-alertmanager", "prometheus-node-exporter", "prometheus-postgres-exporter", "prometheus-redis-exporter", "jq", "curl", "openssl"] as const;

/** Scrape and rule evaluation interval; the rules' `for` windows are multiples of it. */
export const SCRAPE_INTERVAL = "30s";

/**
 * How long metrics are kept: 30 days, capped at 1 GB on the root disk. Measured here with Debian's binaries on these
 * configs: about 1,500 series at a 30 s interval, which at Prometheus's ~1.3 bytes a sample is ~6 MB a day, ~170 MB
 * for 30 days, so the time limit is the one that applies; the cap only guards against a series explosion.
 */
export const RETENTION = { time: "30d", size: "1GB" } as const;

/**
 * Container logs in the journal: kept across container replacements (Docker's json-file logs are deleted with the
 * container), at most 2 GB and 30 days on the root disk, so `journalctl CONTAINER_NAME=<name>` still shows the copy
 * that failed a deploy.
 */
export const JOURNAL_LIMITS = { Storage: "persistent", SystemMaxUse: "2G", SystemKeepFree: "4G", SystemMaxFileSize: "128M", MaxRetentionSec: "30day" } as const;

export interface MonitoringLayout {
    readonly stack: string;
    readonly host: string;
    /** Mount point of the data volume (its disk is watched beside the root disk). */
    readonly dataDir: string;
    /** Public hostnames Caddy serves on this host: the collector checks each route and its certificate. */
    readonly hostnames: readonly string[];
    /** Janus's HTTP API and admin API (`http://172.18.0.1:8088/janus`, `…:7088/admin`). */
    readonly janus?: { readonly apiUrl: string; readonly adminUrl: string };
    /**
     * Containers whose address the Postgres and Redis exporters connect to (they move on every replacement); `user`
     * is the Postgres superuser the collector creates the exporter's own role with (`docker exec`, no password).
     */
    readonly postgres?: { readonly container: string; readonly user: string };
    readonly redis?: { readonly container: string };
    /** The backup status file; absent when backups are off. */
    readonly backupStatus?: string;
}

export interface AlertRouting {
    /** Where alert e-mail goes, with the SMTP server that sends it; no e-mail when absent. */
    readonly email?: { readonly to: string; readonly from: string; readonly smarthost: string; readonly username: string };
    /** Webhook that gets every alert (Alertmanager's JSON); a secret, rendered only into the host's copy. */
    readonly webhookUrl?: string;
    /** Outside heartbeat that receives the Watchdog alert every minute and alarms when it stops. */
    readonly heartbeatUrl?: string;
}

/** The command that forwards Prometheus and Alertmanager of a host to the same ports on this machine. */
export function sshTunnel(ip: string): string {
    const f = (p: number) => `-L ${p}:${MONITORING_ADDRESS}:${p}`;
    return `ssh -N ${f(MONITORING_PORTS.prometheus)} ${f(MONITORING_PORTS.alertmanager)} root@${ip}`;
}

const hostPort = (port: number) => `${MONITORING_ADDRESS}:${port}`;
const listen = (port: number) => `--web.listen-address=${hostPort(port)}`;

/** prometheus.yml: every exporter on loopback, the rules, the local Alertmanager. */
export function renderPrometheusConfig(l: MonitoringLayout): string {
    const P = MONITORING_PORTS;
    const job = (name: string, port: number) => ({ job_name: name, static_configs: [{ targets: [hostPort(port)] }] });
    const config = {
        global: { scrape_interval: SCRAPE_INTERVAL, evaluation_interval: SCRAPE_INTERVAL, external_labels: { stack: l.stack, host: l.host } },
        rule_files: [MONITORING_PATHS.rules],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [hostPort(P.alertmanager)] }] }] },
        scrape_configs: [
            job("prometheus", P.prometheus),
            job("alertmanager", P.alertmanager),
            job("node", P.nodeExporter),
            job("caddy", P.caddyMetrics),
            ...(l.postgres ? [job("postgres", P.postgresExporter)] : []),
            ...(l.redis ? [job("redis", P.redisExporter)] : []),
        ],
    };
    return `# Rendered by the VisualKit Pulumi program (the Monitoring component installs it).\n${stringify(config, { lineWidth: 0 })}`;
}

/** alertmanager.yml. Secrets (webhook and heartbeat URLs) appear only in the text installed on the host. */
export function renderAlertmanagerConfig(r: AlertRouting): string {
    const people = {
        name: "people",
        ...(r.email ? { email_configs: [{ to: r.email.to, send_resolved: true }] } : {}),
        ...(r.webhookUrl ? { webhook_configs: [{ url: r.webhookUrl, send_resolved: true }] } : {}),
    };
    const heartbeat = { name: "heartbeat", ...(r.heartbeatUrl ? { webhook_configs: [{ url: r.heartbeatUrl, send_resolved: false }] } : {}) };
    const config = {
        global: r.email
            ? {
                  smtp_smarthost: r.email.smarthost,
                  smtp_from: r.email.from,
                  ...(r.email.username ? { smtp_auth_username: r.email.username, smtp_auth_password_file: MONITORING_PATHS.smtpPassword } : {}),
                  smtp_require_tls: true,
              }
            : {},
        route: {
            receiver: "people",
            group_by: ["alertname", "hostname", "name", "mountpoint"],
            group_wait: "30s",
            group_interval: "5m",
            repeat_interval: "4h",
            // The heartbeat every minute: its receiver alarms when a few are missed, whatever silenced this host.
            routes: [{ matchers: ['alertname="Watchdog"'], receiver: "heartbeat", group_wait: "0s", group_interval: "1m", repeat_interval: "1m" }],
        },
        // A host that is down takes its containers with it: one page, not ten.
        inhibit_rules: [{ source_matchers: ['alertname="RouteDown"'], target_matchers: ['alertname="CaddyUpstreamErrors"'], equal: ["host"] }],
        receivers: [people, heartbeat],
    };
    return `# Rendered by the VisualKit Pulumi program (the Monitoring component installs it).\n${stringify(config, { lineWidth: 0 })}`;
}

/** /etc/default/<package> of each Debian service: loopback listeners, retention, the data volume watched. */
export function renderServiceDefaults(l: MonitoringLayout): Record<string, string> {
    const P = MONITORING_PORTS;
    // Debian's node-exporter leaves out every mount under /mnt, where the data volume is: the list below is its
    // default without `mnt`.
    const excluded = "^/(dev|proc|run|sys|media|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)";
    if (l.dataDir.match(/^\/(dev|proc|run|sys|media)(\/|$)/)) throw new Error(`monitoring: the data volume's mount point ${l.dataDir} is excluded from node-exporter's file systems`);
    const args = (words: string[]) => `# Written by the Monitoring component (pulumi up).\nARGS=${shellQuote(words.join(" "))}\n`;
    return {
        prometheus: args([listen(P.prometheus), `--storage.tsdb.retention.time=${RETENTION.time}`, `--storage.tsdb.retention.size=${RETENTION.size}`]),
        // No cluster: one Alertmanager, and its gossip port would listen on every address.
        "prometheus-alertmanager": args([listen(P.alertmanager), "--cluster.listen-address=", `--web.external-url=http://${hostPort(P.alertmanager)}/`]),
        "prometheus-node-exporter": args([listen(P.nodeExporter), `--collector.filesystem.mount-points-exclude=${excluded}`, "--collector.systemd"]),
        // The address and how to log in come from the collector's env file (<exporter>-exporter.env), written before each start.
        "prometheus-postgres-exporter": args([listen(P.postgresExporter), "--disable-settings-metrics"]),
        "prometheus-redis-exporter": args([`-web.listen-address=${hostPort(P.redisExporter)}`]),
    };
}

/** The collector's settings, sourced by visualkit-metrics (no secret). */
export function renderCollectorConf(l: MonitoringLayout): string {
    const v: Record<string, string> = {
        VISUALKIT_HOSTNAMES: l.hostnames.join(" "),
        VISUALKIT_TEXTFILE_DIR: MONITORING_PATHS.textfileDir,
        VISUALKIT_BACKUP_STATUS: l.backupStatus ?? "",
        VISUALKIT_JANUS_API: l.janus?.apiUrl ?? "",
        VISUALKIT_JANUS_ADMIN: l.janus?.adminUrl ?? "",
        VISUALKIT_PG_CONTAINER: l.postgres?.container ?? "",
        VISUALKIT_PG_USER: l.postgres?.user ?? "",
        VISUALKIT_REDIS_CONTAINER: l.redis?.container ?? "",
    };
    for (const h of l.hostnames) if (!/^[a-z0-9.-]+$/i.test(h)) throw new Error(`monitoring: hostname "${h}" is not a DNS name`);
    return ["# Written by the Monitoring component (pulumi up); secrets are in monitoring.env.", ...Object.entries(v).map(([k, x]) => `${k}=${shellQuote(x)}`), ""].join("\n");
}

/**
 * The collector's service and timer (every minute), and the exporters' drop-ins that find Postgres and Redis. Each
 * exporter has its own environment file, written by its own start: with one shared file, the Postgres exporter's start
 * wrote the Redis address the Redis exporter never restarted for (the collector saw no change left), and it watched
 * localhost until the next reboot (found by the host tier's redis_up check).
 */
export function renderMonitoringUnits(): Record<string, string> {
    const exporterDropIn = (exporter: "postgres" | "redis") =>
        [
            "[Unit]",
            "After=docker.service",
            "[Service]",
            "# The container's address changes with each replacement: written before every start by the collector (as root).",
            `ExecStartPre=+${MONITORING_PATHS.collector} exporters ${exporter}`,
            `EnvironmentFile=-/run/visualkit/${exporter}-exporter.env`,
            "Restart=always",
            "RestartSec=30",
            "",
        ].join("\n");
    return {
        "visualkit-metrics.service": [
            "[Unit]",
            "Description=VisualKit metrics: containers, routes, certificates, Janus, backups (node-exporter textfile)",
            "After=docker.service",
            "[Service]",
            "Type=oneshot",
            `ExecStart=${MONITORING_PATHS.collector}`,
            "Nice=10",
            "",
        ].join("\n"),
        "visualkit-metrics.timer": ["[Unit]", "Description=VisualKit metrics every minute", "[Timer]", "OnBootSec=1min", "OnUnitActiveSec=1min", "AccuracySec=5s", "[Install]", "WantedBy=timers.target", ""].join("\n"),
        "prometheus-postgres-exporter.service.d/50-visualkit.conf": exporterDropIn("postgres"),
        "prometheus-redis-exporter.service.d/50-visualkit.conf": exporterDropIn("redis"),
    };
}

export function renderJournaldConf(): string {
    return ["# Written by the Monitoring component: container logs (Docker's journald driver) kept across deploys.", "[Journal]", ...Object.entries(JOURNAL_LIMITS).map(([k, v]) => `${k}=${v}`), ""].join("\n");
}

/** Standard input of the install script: the secrets env file and the alertmanager.yml, each base64 on one line. */
export function renderMonitoringStdin(s: { env: string; alertmanager: string; smtpPassword?: string }): string {
    const b64 = (t: string) => Buffer.from(t, "utf8").toString("base64");
    return `${b64(s.env)}\n${b64(s.alertmanager)}\n${s.smtpPassword ? b64(s.smtpPassword) : "-"}\n`;
}

/**
 * The collector's secrets: the Janus admin secret (and its token secret) and the Redis password its exporter uses.
 * No Postgres password: the Postgres exporter has its own role, made on the host (scripts/host/visualkit-metrics.sh).
 */
export function renderMonitoringEnv(s: { janusAdminSecret?: string; janusTokenSecret?: string; redisPassword?: string }): string {
    const v = { JANUS_ADMIN_SECRET: s.janusAdminSecret ?? "", REDIS_PASSWORD: s.redisPassword ?? "", ...(s.janusTokenSecret ? { JANUS_TOKEN_SECRET: s.janusTokenSecret } : {}) };
    return Object.entries(v).map(([k, x]) => `${k}=${shellQuote(x)}\n`).join("");
}

export const MONITORING_SERVICES = ["prometheus", "prometheus-alertmanager", "prometheus-node-exporter", "prometheus-postgres-exporter", "prometheus-redis-exporter"] as const;

/**
 * Installs the packages, the settings, the collector and its timer, then (re)starts what changed. Safe to run again:
 * every file is written aside and renamed, and each service is restarted only when one of its files changed.
 * VISUALKIT_INSTALL_ROOT puts every file under another folder and skips apt and systemctl, for the tests.
 */
export function renderMonitoringInstall(l: MonitoringLayout, files: { collector: string; rules: string }): string {
    const r = (p: string) => `"$root"${shellQuote(p)}`;
    const M = MONITORING_PATHS;
    const lines = [
        "set -eu",
        'root="${VISUALKIT_INSTALL_ROOT:-}"',
        "umask 022",
        'if [ -z "$root" ]; then',
        "  missing=''",
        `  for p in ${MONITORING_PACKAGES.join(" ")}; do dpkg-query -W -f='\${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"; done`,
        '  if [ -n "$missing" ]; then',
        "    export DEBIAN_FRONTEND=noninteractive",
        "    apt-get update -qq",
        "    # shellcheck disable=SC2086",
        "    apt-get install -y -qq --no-install-recommends $missing >/dev/null",
        "  fi",
        "fi",
        `mkdir -p ${r("/etc/default")} ${r("/etc/prometheus")} ${r(M.textfileDir)} ${r("/usr/local/sbin")} ${r(M.units)} ${r("/etc/systemd/journald.conf.d")}`,
        `install -d -m 0700 ${r("/etc/visualkit")}`,
        "changed=''",
        // Each file: compared with what is there, renamed into place only when it differs, its service noted.
        "put() { # path mode service < text",
        '  tmp="$root$1.new"; cat >"$tmp"; chmod "$2" "$tmp"',
        '  if cmp -s "$tmp" "$root$1"; then rm -f "$tmp"; else mv -f "$tmp" "$root$1"; changed="$changed $3"; fi',
        "}",
    ];
    const put = (path: string, text: string, mode: string, service: string) => lines.push(...heredoc(`put ${shellQuote(path)} ${mode} ${service}`, text));
    put(M.collector, files.collector, "0755", "visualkit-metrics");
    put(M.collectorConf, renderCollectorConf(l), "0644", "visualkit-metrics");
    put(M.prometheusConfig, renderPrometheusConfig(l), "0644", "prometheus");
    put(M.rules, files.rules, "0644", "prometheus");
    for (const [pkg, text] of Object.entries(renderServiceDefaults(l))) put(`/etc/default/${pkg}`, text, "0644", pkg);
    for (const [unit, text] of Object.entries(renderMonitoringUnits())) {
        const dir = unit.includes("/") ? unit.slice(0, unit.indexOf("/")) : "";
        if (dir) lines.push(`mkdir -p ${r(`${M.units}/${dir}`)}`);
        put(`${M.units}/${unit}`, text, "0644", dir ? dir.replace(/\.service\.d$/, "") : "daemon");
    }
    put(M.journald, renderJournaldConf(), "0644", "systemd-journald");
    lines.push(
        // Secrets come on standard input only: never on a command line, in the state's plain inputs or in rendered/.
        "umask 077",
        "IFS= read -r env_b64",
        "IFS= read -r am_b64",
        "IFS= read -r smtp_b64",
        // Decoded into a file first: `put` at the end of a pipeline would run in a subshell and lose what changed.
        'secret="$root/etc/visualkit/.monitoring-secret"',
        `printf '%s' "$env_b64" | base64 -d >"$secret" && put ${shellQuote(M.secrets)} 0600 'prometheus-postgres-exporter prometheus-redis-exporter' <"$secret"`,
        `printf '%s' "$am_b64" | base64 -d >"$secret" && put ${shellQuote(M.alertmanagerConfig)} 0640 prometheus-alertmanager <"$secret"`,
        `if [ "$smtp_b64" != - ]; then printf '%s' "$smtp_b64" | base64 -d >"$secret" && put ${shellQuote(M.smtpPassword)} 0640 prometheus-alertmanager <"$secret"; else rm -f ${r(M.smtpPassword)}; fi`,
        'rm -f "$secret"',
        'if [ -n "$root" ]; then echo "installed under $root:$changed"; exit 0; fi',
        `chgrp prometheus ${shellQuote(M.alertmanagerConfig)} ${M.smtpPassword} 2>/dev/null || true`,
        `promtool check config ${shellQuote(M.prometheusConfig)} >/dev/null`,
        `amtool check-config ${shellQuote(M.alertmanagerConfig)} >/dev/null`,
        "systemctl daemon-reload",
        'case "$changed" in *systemd-journald*) systemctl restart systemd-journald ;; esac',
        `for s in ${MONITORING_SERVICES.join(" ")}; do`,
        '  case " $changed " in *" $s "*) systemctl restart "$s" ;; *) systemctl start "$s" ;; esac',
        "done",
        `systemctl enable ${MONITORING_SERVICES.join(" ")} >/dev/null 2>&1`,
        "systemctl enable --now visualkit-metrics.timer >/dev/null 2>&1",
        "systemctl start visualkit-metrics.service",
        `echo "monitoring installed:$changed"`,
    );
    return lines.join("\n") + "\n";
}
