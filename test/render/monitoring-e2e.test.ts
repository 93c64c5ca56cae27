/**
 * The pipeline end to end with Debian's binaries and the rendered files: node-exporter reads a visualkit-metrics
 * textfile, Prometheus (its rendered prometheus.yml, rules and command-line flags) evaluates the rules, Alertmanager
 * (its rendered alertmanager.yml and flags) routes them to two local webhook sinks. Only what a test must change is
 * changed: the loopback ports, and the intervals (30 s scrape and evaluation, 30 s / 5 min grouping, 1 min resend)
 * shortened to seconds so the run takes seconds. Shows: a backup older than 26 h reaches the people's webhook, the Watchdog reaches
 * the heartbeat and nothing else, and the fixed backup is sent as resolved.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { renderAlertRules } from "../../render/alert-rules";
import { MONITORING_PATHS, MONITORING_PORTS, renderAlertmanagerConfig, renderPrometheusConfig, renderServiceDefaults, type MonitoringLayout } from "../../render/monitoring";
import { freePort, waitFor } from "../helpers/caddy";

interface Notification {
    receiver: string;
    status: string;
    alerts: { status: string; labels: Record<string, string> }[];
}
const layout: MonitoringLayout = { stack: "test", host: "main", dataDir: "/mnt/data", hostnames: [] };
let dir: string;
const procs: ChildProcess[] = [];
let sink: Server;

const received: Record<string, Notification[]> = { people: [], heartbeat: [] };

const textfile = (lastBackup: number) =>
    [
        "visualkit_backup_enabled 1",
        `visualkit_backup_last_success_timestamp_seconds ${lastBackup}`,
        `visualkit_backup_drill_last_success_timestamp_seconds ${Math.floor(Date.now() / 1000)}`,
        `visualkit_metrics_collector_last_run_timestamp_seconds ${Math.floor(Date.now() / 1000) + 3600}`,
        "",
    ].join("\n");

/** ARGS of a rendered /etc/default file as argv, the listener moved to `port`. */
function argsOf(defaults: string, from: number, port: number): string[] {
    const args = /^ARGS='(.*)'$/m.exec(defaults)![1];
    return args.split(" ").map((a) => a.replace(`127.0.0.1:${from}`, `127.0.0.1:${port}`));
}

beforeAll(async () => {
    dir = mkdtempSync("/tmp/vk-monitoring-e2e-");
    mkdirSync(join(dir, "textfile"));
    writeFileSync(join(dir, "textfile/visualkit.prom"), textfile(0));
    sink = createServer((req, res) => {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
            received[req.url!.slice(1)]?.push(JSON.parse(body) as Notification);
            res.end();
        });
    });
    await new Promise<void>((ok) => sink.listen(0, "127.0.0.1", ok));
    const hook = (name: string) => `http://127.0.0.1:${(sink.address() as AddressInfo).port}/${name}`;
    const [prom, am, node] = [await freePort(), await freePort(), await freePort()];
    const P = MONITORING_PORTS;
    const remap = (text: string) =>
        text
            .replace(`127.0.0.1:${P.prometheus}`, `127.0.0.1:${prom}`)
            .replaceAll(`127.0.0.1:${P.alertmanager}`, `127.0.0.1:${am}`)
            .replace(`127.0.0.1:${P.nodeExporter}`, `127.0.0.1:${node}`);
    writeFileSync(join(dir, "rules.yml"), renderAlertRules(layout.dataDir));
    writeFileSync(
        join(dir, "prometheus.yml"),
        remap(renderPrometheusConfig(layout))
            .replace(MONITORING_PATHS.rules, join(dir, "rules.yml"))
            .replace(/(scrape_interval|evaluation_interval): 30s/g, "$1: 1s"),
    );
    writeFileSync(
        join(dir, "alertmanager.yml"),
        renderAlertmanagerConfig({ webhookUrl: hook("people"), heartbeatUrl: hook("heartbeat") })
            .replace(/group_wait: 30s/, "group_wait: 1s")
            .replace(/group_interval: 5m/, "group_interval: 2s"),
    );
    const defaults = renderServiceDefaults(layout);
    const start = (cmd: string, args: string[]) => {
        const p = spawn(cmd, args, { stdio: "ignore", cwd: dir });
        procs.push(p);
    };
    start("prometheus-node-exporter", [...argsOf(defaults["prometheus-node-exporter"], P.nodeExporter, node), `--collector.textfile.directory=${join(dir, "textfile")}`]);
    start("prometheus-alertmanager", [...argsOf(defaults["prometheus-alertmanager"], P.alertmanager, am), `--config.file=${join(dir, "alertmanager.yml")}`, `--storage.path=${join(dir, "am")}`]);
    // The Watchdog fires at the first evaluation, before Prometheus's notifier has found Alertmanager; Prometheus sends
    // it again after --rules.alert.resend-delay (1 min, so on a host the heartbeat starts within a minute): 1 s here.
    start("prometheus", [...argsOf(defaults.prometheus, P.prometheus, prom), `--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "tsdb")}`, "--rules.alert.resend-delay=1s"]);
}, 30_000);

afterAll(async () => {
    // Stopped by their own PIDs, and waited for, so no process outlives the test.
    await Promise.all(procs.map((p) => new Promise((done) => (p.exitCode !== null ? done(null) : (p.once("exit", done), p.kill())))));
    sink?.closeAllConnections();
    await new Promise((done) => (sink ? sink.close(done) : done(undefined)));
    rmSync(dir, { recursive: true, force: true });
});

const firing = (n: Notification[], alertname: string, status: string) => n.find((x) => x.alerts.some((a) => a.labels.alertname === alertname && a.status === status));

test("a backup older than 26 h reaches the webhook with the host's labels; the Watchdog reaches the heartbeat only", async () => {
    const n = await waitFor("BackupTooOld at the people's webhook", async () => firing(received.people, "BackupTooOld", "firing"), 300);
    expect(n.alerts.find((a) => a.labels.alertname === "BackupTooOld")!.labels).toMatchObject({ severity: "critical", stack: "test", host: "main" });
    await waitFor("Watchdog at the heartbeat", async () => firing(received.heartbeat, "Watchdog", "firing"), 300);
    expect(received.people.flatMap((x) => x.alerts).filter((a) => a.labels.alertname === "Watchdog")).toEqual([]);
    expect(received.heartbeat.flatMap((x) => x.alerts).every((a) => a.labels.alertname === "Watchdog")).toBe(true);
}, 60_000);

test("a fresh backup resolves it, and the webhook is told", async () => {
    writeFileSync(join(dir, "textfile/visualkit.prom"), textfile(Math.floor(Date.now() / 1000)));
    await waitFor("BackupTooOld resolved at the people's webhook", async () => firing(received.people, "BackupTooOld", "resolved"), 400);
}, 60_000);
