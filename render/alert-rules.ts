/**
 * The alert rules Prometheus evaluates on each host, as plain data rendered to a rules file. Pure: the tests feed the
 * text to the real `promtool test rules` with hand-written series in the label sets the exporters emit
 * (test/render/monitoring/*.test.yml), and docs/monitoring.md names every alert here (a test keeps them equal).
 *
 * Thresholds are what hurts users or data, not what is merely unusual: a route down for 5 minutes, a certificate past
 * two thirds of its lifetime (Caddy renews at one third left, so a certificate still there 6 h later means renewal is
 * failing; a fraction, because Let's Encrypt lifetimes fall from 90 to 64 days in 2027 and 45 in 2028), a disk full
 * within a day, a backup older than 26 h (a daily timer with 10 min of random delay, plus slack for one slow run), a
 * restore drill older than 8 days (a weekly timer plus a day).
 */
import { stringify } from "yaml";

export interface AlertRule {
    readonly alert: string;
    readonly expr: string;
    /** How long the condition must hold before the alert fires; omitted means at the first evaluation. */
    readonly for?: string;
    readonly severity: "critical" | "warning" | "heartbeat";
    readonly summary: string;
}

/** Numbers the rules use, named once so docs/monitoring.md and the rules cannot disagree. */
export const ALERT_LIMITS = {
    backupMaxAgeHours: 26,
    /** The WAL push runs every minute: ten missed runs and the database's recovery point is past its 5 min target. */
    walPushMaxAgeMinutes: 10,
    drillMaxAgeDays: 8,
    /** Elapsed fraction of a certificate's lifetime; Caddy renews at 2/3 elapsed. */
    certLifetimeElapsed: 2 / 3,
    diskFreeFraction: 0.1,
    containerMemoryFraction: 0.9,
    hostMemoryAvailableFraction: 0.1,
} as const;

/**
 * The file systems watched, as the body of a PromQL string holding a regular expression: the root disk and the data
 * volume (node-exporter's `mountpoint` label). The volume's path is matched literally; its regex escapes are doubled
 * because PromQL reads backslash escapes in strings first (a lone `\.` is a parse error there).
 */
export function watchedMounts(dataDir: string): string {
    return `/|${dataDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\\/g, "\\\\")}`;
}

/** Every rule, grouped as Prometheus evaluates them. `dataDir` is the data volume's mount point (/mnt/data). */
export function alertRules(dataDir: string): Record<string, AlertRule[]> {
    const L = ALERT_LIMITS;
    return {
        "visualkit-users": [
            { alert: "RouteDown", expr: "visualkit_route_up == 0", for: "5m", severity: "critical", summary: "{{ $labels.hostname }} answers with an error or not at all through Caddy on the server" },
            { alert: "TlsHandshakeFailing", expr: "visualkit_tls_probe_success == 0", for: "10m", severity: "critical", summary: "no valid certificate is served for {{ $labels.hostname }}" },
            {
                alert: "CertificateNotRenewed",
                expr: `(time() - visualkit_tls_cert_not_before_timestamp_seconds) / (visualkit_tls_cert_not_after_timestamp_seconds - visualkit_tls_cert_not_before_timestamp_seconds) > ${round(L.certLifetimeElapsed)}`,
                for: "6h",
                severity: "warning",
                summary: "the certificate of {{ $labels.hostname }} has less than a third of its lifetime left and Caddy has not renewed it",
            },
            { alert: "JanusRefusingSessions", expr: "visualkit_janus_session_create_success == 0", for: "5m", severity: "critical", summary: "Janus does not create sessions: no call can start" },
            {
                alert: "CaddyUpstreamErrors",
                expr: 'sum by (server) (rate(caddy_http_request_duration_seconds_count{code=~"5.."}[5m])) / sum by (server) (rate(caddy_http_request_duration_seconds_count[5m])) > 0.05',
                for: "10m",
                severity: "warning",
                summary: "more than 5% of the requests of Caddy server {{ $labels.server }} end in a 5xx",
            },
        ],
        "visualkit-containers": [
            { alert: "ContainerDown", expr: "visualkit_container_running == 0", for: "5m", severity: "critical", summary: "container {{ $labels.name }} is not running" },
            // increase() extrapolates to the window's edges: one restart reads as about 1.03, two as 2 or more.
            { alert: "ContainerRestarting", expr: "increase(visualkit_container_restarts_total[15m]) >= 2", severity: "warning", summary: "container {{ $labels.name }} restarted more than once in 15 minutes" },
            // A stopped container keeps its last health status in `docker inspect`: ContainerDown speaks for it, not this.
            { alert: "ContainerUnhealthy", expr: 'visualkit_container_health{status="unhealthy"} == 1 and on(instance, name) visualkit_container_running == 1', for: "3m", severity: "critical", summary: "container {{ $labels.name }} fails its health check" },
            {
                alert: "ContainerMemoryNearLimit",
                expr: `visualkit_container_memory_bytes / (visualkit_container_memory_limit_bytes > 0) > ${L.containerMemoryFraction}`,
                for: "10m",
                severity: "warning",
                summary: "container {{ $labels.name }} uses more than 90% of its memory limit; at the limit the kernel kills it",
            },
            { alert: "PostgresDown", expr: "pg_up == 0", for: "5m", severity: "critical", summary: "the Postgres exporter cannot reach Chatwoot's database" },
            { alert: "RedisDown", expr: "redis_up == 0", for: "5m", severity: "critical", summary: "the Redis exporter cannot reach Chatwoot's Redis" },
        ],
        "visualkit-host": hostRules(dataDir),
        "visualkit-data": [
            {
                alert: "BackupTooOld",
                expr: `visualkit_backup_enabled == 1 and time() - visualkit_backup_last_success_timestamp_seconds > ${L.backupMaxAgeHours} * 3600`,
                severity: "critical",
                summary: "the last successful backup is older than 26 hours",
            },
            {
                alert: "WalArchivingStale",
                expr: `visualkit_backup_enabled == 1 and time() - visualkit_backup_wal_push_last_success_timestamp_seconds > ${L.walPushMaxAgeMinutes} * 60`,
                severity: "critical",
                summary: "no WAL has been pushed for 10 minutes: the database's recovery point grows",
            },
            {
                alert: "BackupDrillTooOld",
                expr: `visualkit_backup_enabled == 1 and time() - visualkit_backup_drill_last_success_timestamp_seconds > ${L.drillMaxAgeDays} * 86400`,
                severity: "warning",
                summary: "no restore drill has passed for 8 days: nobody knows whether the backups restore",
            },
        ],
        "visualkit-meta": [
            // Fires always: Alertmanager sends it to an outside heartbeat, which raises the alarm when it stops arriving.
            { alert: "Watchdog", expr: "vector(1)", severity: "heartbeat", summary: "the monitoring pipeline is alive (dead man's switch)" },
        ],
    };
}

/** The host's own resources: its disks, its memory, and the monitoring pipeline that watches them. */
function hostRules(dataDir: string): AlertRule[] {
    const L = ALERT_LIMITS;
    const fs = `node_filesystem_avail_bytes{mountpoint=~"${watchedMounts(dataDir)}"}`;
    const fsSize = fs.replace("avail_bytes", "size_bytes");
    return [
        {
            alert: "DiskFillingUp",
            expr: `predict_linear(${fs}[6h], 24 * 3600) < 0 and ${fs} / ${fsSize} < 0.25`,
            for: "30m",
            severity: "warning",
            summary: "{{ $labels.mountpoint }} will be full within a day at the rate of the last 6 hours",
        },
        { alert: "DiskAlmostFull", expr: `${fs} / ${fsSize} < ${L.diskFreeFraction}`, for: "5m", severity: "critical", summary: "{{ $labels.mountpoint }} has less than 10% free" },
        {
            alert: "HostMemoryLow",
            expr: `node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < ${L.hostMemoryAvailableFraction}`,
            for: "10m",
            severity: "warning",
            summary: "less than 10% of the host's memory is available",
        },
        { alert: "ExporterDown", expr: "up == 0", for: "5m", severity: "warning", summary: "Prometheus cannot scrape {{ $labels.job }} ({{ $labels.instance }})" },
        {
            alert: "MetricsCollectorStale",
            expr: "time() - visualkit_metrics_collector_last_run_timestamp_seconds > 300 or absent(visualkit_metrics_collector_last_run_timestamp_seconds)",
            for: "5m",
            severity: "warning",
            summary: "visualkit-metrics has not written its metrics for 5 minutes: the container, backup, TLS and Janus alerts are blind",
        },
        { alert: "AlertDeliveryFailing", expr: "rate(alertmanager_notifications_failed_total[15m]) > 0", for: "15m", severity: "critical", summary: "Alertmanager fails to deliver {{ $labels.integration }} notifications" },
    ];
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** The rules file, Prometheus's format. */
export function renderAlertRules(dataDir: string): string {
    const groups = Object.entries(alertRules(dataDir)).map(([name, rules]) => ({
        name,
        rules: rules.map((r) => ({
            alert: r.alert,
            expr: r.expr,
            ...(r.for ? { for: r.for } : {}),
            labels: { severity: r.severity },
            annotations: { summary: r.summary, runbook: `docs/monitoring.md#${r.alert.toLowerCase()}` },
        })),
    }));
    return `# Rendered by the VisualKit Pulumi program; each alert is explained in docs/monitoring.md.\n${stringify({ groups }, { lineWidth: 0 })}`;
}
