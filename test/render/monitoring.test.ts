import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { alertRules, renderAlertRules } from "../../render/alert-rules";
import { RESERVED_HOST_PORTS } from "../../catalog/defaults";
import {
    MONITORING_PATHS,
    MONITORING_PORTS,
    renderAlertmanagerConfig,
    renderMonitoringEnv,
    renderMonitoringInstall,
    renderMonitoringStdin,
    renderPrometheusConfig,
    renderServiceDefaults,
    type AlertRouting,
    type MonitoringLayout,
} from "../../render/monitoring";
import { ROOT } from "../helpers/program";

const layout: MonitoringLayout = {
    stack: "test",
    host: "main",
    dataDir: "/mnt/data",
    hostnames: ["api.visualkit.live", "chat.visualkit.live"],
    janus: { apiUrl: "http://172.18.0.1:8088/janus", adminUrl: "http://172.18.0.1:7088/admin" },
    postgres: { container: "chatwoot-postgres", user: "chatwoot" },
    redis: { container: "chatwoot-redis" },
    backupStatus: "/var/lib/visualkit/backup-status.json",
};
let dir: string;
beforeAll(() => {
    dir = mkdtempSync("/tmp/vk-monitoring-");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (cmd: string, args: string[]) => {
    const res = spawnSync(cmd, args, { encoding: "utf8", cwd: dir });
    return { status: res.status, out: `${res.stdout}${res.stderr}`, stdout: res.stdout };
};

interface ExpAlert {
    exp_labels: Record<string, string>;
    exp_annotations?: Record<string, string>;
}
interface RuleTest {
    alertname: string;
    exp_alerts: ExpAlert[];
}

/**
 * The hand-written cases of test/render/monitoring/rules.test.yml, each expected alert given the annotations its rule's
 * templates make from the expected labels (a template naming a label the alert lacks shows as MISSING and fails).
 */
function ruleTests(): { text: string; cases: number } {
    const doc = parse(readFileSync(join(ROOT, "test/render/monitoring/rules.test.yml"), "utf8"));
    const rules = new Map(Object.values(alertRules(layout.dataDir)).flat().map((r) => [r.alert, r]));
    let cases = 0;
    for (const t of doc.tests) {
        for (const a of t.alert_rule_test as RuleTest[]) {
            cases++;
            const rule = rules.get(a.alertname);
            if (!rule) throw new Error(`rules.test.yml tests ${a.alertname}, which is no rule`);
            for (const e of a.exp_alerts) {
                const summary = rule.summary.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, l: string) => e.exp_labels[l] ?? "MISSING");
                e.exp_annotations = { summary, runbook: `docs/monitoring.md#${a.alertname.toLowerCase()}` };
            }
        }
    }
    return { text: stringify(doc), cases };
}

describe("alert rules", () => {
    test("promtool check rules accepts the rendered file", () => {
        writeFileSync(join(dir, "rules.yml"), renderAlertRules(layout.dataDir));
        expect(run("promtool", ["check", "rules", "rules.yml"])).toMatchObject({ status: 0 });
    });

    test("promtool test rules: every alert fires when it should and stays silent when it should not", () => {
        writeFileSync(join(dir, "rules.yml"), renderAlertRules(layout.dataDir));
        const { text } = ruleTests();
        writeFileSync(join(dir, "rules.test.yml"), text);
        const res = run("promtool", ["test", "rules", "rules.test.yml"]);
        expect(res.out).toContain("SUCCESS");
        expect(res.status).toBe(0);
    });

    test("every rule has a firing case and a silent case in the unit tests", () => {
        const doc = parse(ruleTests().text);
        const seen: Record<string, { fires: boolean; silent: boolean }> = {};
        for (const t of doc.tests) {
            for (const a of t.alert_rule_test as RuleTest[]) {
                const s = (seen[a.alertname] ??= { fires: false, silent: false });
                if (a.exp_alerts.length > 0) s.fires = true;
                else s.silent = true;
            }
        }
        const rules = Object.values(alertRules(layout.dataDir)).flat().map((r) => r.alert);
        // The Watchdog has nothing to be silent about.
        const expected = Object.fromEntries(rules.map((r) => [r, { fires: true, silent: r !== "Watchdog" }]));
        expect(Object.fromEntries(rules.map((r) => [r, seen[r] ?? { fires: false, silent: false }]))).toEqual(expected);
    });

    test("a data volume path with regex characters is matched literally and still parses", () => {
        writeFileSync(join(dir, "odd-rules.yml"), renderAlertRules("/mnt/data.1"));
        expect(run("promtool", ["check", "rules", "odd-rules.yml"])).toMatchObject({ status: 0 });
        const expr = alertRules("/mnt/data.1")["visualkit-host"].find((r) => r.alert === "DiskAlmostFull")!.expr;
        // PromQL's string "\\." is the regular expression \. (a dot).
        expect(expr).toContain('mountpoint=~"/|/mnt/data\\\\.1"');
    });

    test("docs/monitoring.md explains every alert with a first command to run", () => {
        const doc = readFileSync(join(ROOT, "docs/monitoring.md"), "utf8");
        const missing = Object.values(alertRules(layout.dataDir))
            .flat()
            .filter((r) => !new RegExp(`^### ${r.alert}\\n[\\s\\S]*?First command:`, "m").test(doc))
            .map((r) => r.alert);
        expect(missing).toEqual([]);
    });
});

describe("Prometheus and Alertmanager configs", () => {
    test("promtool check config accepts prometheus.yml (with the rendered rules)", () => {
        writeFileSync(join(dir, "rules.yml"), renderAlertRules(layout.dataDir));
        // The rules' path on the host, pointed at the rendered copy here.
        writeFileSync(join(dir, "prometheus.yml"), renderPrometheusConfig(layout).replace(MONITORING_PATHS.rules, join(dir, "rules.yml")));
        const res = run("promtool", ["check", "config", "prometheus.yml"]);
        expect(res.out).toContain("SUCCESS: 1 rule files found");
        expect(res.status).toBe(0);
    });

    test("every monitoring port is a reserved host port no service may take, and none is opened by the firewall", () => {
        const reserved = new Map<number, string>(RESERVED_HOST_PORTS.map((r) => [r.port, r.firewall]));
        expect(Object.values(MONITORING_PORTS).map((p) => [p, reserved.get(p)])).toEqual(Object.values(MONITORING_PORTS).map((p) => [p, "closed"]));
    });

    test("every listener is on loopback and Debian's node-exporter is told to watch the data volume under /mnt", () => {
        const defaults = renderServiceDefaults(layout);
        for (const text of Object.values(defaults)) expect(text).toMatch(/-web\.listen-address=127\.0\.0\.1:\d+/);
        expect(defaults["prometheus-alertmanager"]).toContain("--cluster.listen-address= ");
        const exclude = /mount-points-exclude=(\S+)/.exec(defaults["prometheus-node-exporter"])![1];
        expect(new RegExp(exclude).test("/mnt/data")).toBe(false);
        expect(new RegExp(exclude).test("/proc/sys")).toBe(true);
        const targets = parse(renderPrometheusConfig(layout)).scrape_configs.flatMap((j: { static_configs: { targets: string[] }[] }) => j.static_configs[0].targets);
        expect(targets.every((t: string) => t.startsWith("127.0.0.1:"))).toBe(true);
    });

    const routings: Record<string, AlertRouting> = {
        nobody: {},
        "e-mail with SMTP login": { email: { to: "oncall@example.com", from: "alerts@example.com", smarthost: "smtp.example.com:587", username: "alerts" } },
        "e-mail without login": { email: { to: "oncall@example.com", from: "alerts@example.com", smarthost: "mail.internal:25", username: "" } },
        "webhook and heartbeat": { webhookUrl: "https://hooks.example.com/T0/B0/abc", heartbeatUrl: "https://hc-ping.com/0c3c5a5e" },
    };
    test.each(Object.entries(routings))("amtool check-config accepts alertmanager.yml: %s", (name, routing) => {
        const file = `alertmanager-${name.replace(/\W+/g, "-")}.yml`;
        writeFileSync(join(dir, file), renderAlertmanagerConfig(routing));
        const res = run("amtool", ["check-config", file]);
        expect(res.out).toContain("SUCCESS");
        expect(res.status).toBe(0);
    });

    test("the Watchdog goes to the heartbeat, every other alert to people (amtool config routes test)", () => {
        writeFileSync(join(dir, "am.yml"), renderAlertmanagerConfig(routings["webhook and heartbeat"]));
        const route = (labels: string[]) => run("amtool", ["config", "routes", "test", "--config.file=am.yml", ...labels]).stdout.trim();
        expect(route(["alertname=Watchdog", "severity=heartbeat"])).toBe("heartbeat");
        expect(route(["alertname=RouteDown", "severity=critical"])).toBe("people");
        expect(route(["alertname=BackupTooOld", "severity=critical"])).toBe("people");
    });

    test("no secret is written into the e-mail settings: the SMTP password is read from a file", () => {
        const text = renderAlertmanagerConfig(routings["e-mail with SMTP login"]);
        expect(parse(text).global).toMatchObject({ smtp_auth_password_file: MONITORING_PATHS.smtpPassword, smtp_auth_username: "alerts" });
        expect(text).not.toContain("smtp_auth_password:");
    });
});

describe("the install script", () => {
    const collector = readFileSync(join(ROOT, "scripts/host/visualkit-metrics.sh"), "utf8");
    const script = () => renderMonitoringInstall(layout, { collector, rules: renderAlertRules(layout.dataDir) });
    const stdin = (webhookUrl: string) =>
        renderMonitoringStdin({
            env: renderMonitoringEnv({ janusAdminSecret: "j-secret", redisPassword: "redis p'ass" }),
            alertmanager: renderAlertmanagerConfig({ webhookUrl }),
            smtpPassword: "smtp pass",
        });
    const install = (root: string, input: string) => spawnSync("sh", ["-c", script()], { input, encoding: "utf8", env: { ...process.env, VISUALKIT_INSTALL_ROOT: root } });
    const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

    test("passes shellcheck as a POSIX sh script", () => {
        writeFileSync(join(dir, "install.sh"), `#!/bin/sh\n${script()}`);
        const res = spawnSync("shellcheck", ["-s", "sh", join(dir, "install.sh")], { encoding: "utf8" });
        expect({ status: res.status, out: res.stdout }).toEqual({ status: 0, out: "" });
    });

    test("writes every file with its mode, secrets root-only; a second run changes nothing; a new secret touches only its service", () => {
        const root = join(dir, "root");
        const first = install(root, stdin("https://hooks.example.com/one"));
        expect(first.stderr).toBe("");
        expect(first.status).toBe(0);
        const p = (x: string) => join(root, x);
        expect(readFileSync(p(MONITORING_PATHS.collector), "utf8")).toBe(collector);
        expect(mode(p(MONITORING_PATHS.collector))).toBe("755");
        expect(mode(p(MONITORING_PATHS.secrets))).toBe("600");
        expect(mode(p(MONITORING_PATHS.alertmanagerConfig))).toBe("640");
        expect(mode(p(MONITORING_PATHS.smtpPassword))).toBe("640");
        expect(mode(p("/etc/visualkit"))).toBe("700");
        expect(readFileSync(p(MONITORING_PATHS.smtpPassword), "utf8")).toBe("smtp pass");
        expect(readFileSync(p(MONITORING_PATHS.alertmanagerConfig), "utf8")).toContain("url: https://hooks.example.com/one");
        expect(readFileSync(p("/etc/default/prometheus"), "utf8")).toContain("--storage.tsdb.retention.time=30d");
        expect(readFileSync(p(MONITORING_PATHS.journald), "utf8")).toContain("SystemMaxUse=2G");
        // Each exporter its own file, written by its own start (with one shared file the Redis exporter missed its address).
        for (const exporter of ["postgres", "redis"]) {
            const dropIn = readFileSync(p(`/etc/systemd/system/prometheus-${exporter}-exporter.service.d/50-visualkit.conf`), "utf8");
            expect(dropIn).toContain(`ExecStartPre=+${MONITORING_PATHS.collector} exporters ${exporter}\n`);
            expect(dropIn).toContain(`EnvironmentFile=-/run/visualkit/${exporter}-exporter.env\n`);
        }
        // The collector reads back what the install wrote.
        const env = spawnSync("sh", ["-c", `. ${p(MONITORING_PATHS.secrets)}; printf '%s|%s' "$JANUS_ADMIN_SECRET" "$REDIS_PASSWORD"`], { encoding: "utf8" });
        expect(env.stdout).toBe("j-secret|redis p'ass");
        expect(readdirSync(p("/etc/visualkit")).sort()).toEqual(["metrics.conf", "monitoring.env"]);

        const again = install(root, stdin("https://hooks.example.com/one"));
        expect(again.stdout.trim()).toBe(`installed under ${root}:`);
        const rotated = install(root, stdin("https://hooks.example.com/two"));
        expect(rotated.stdout.trim()).toBe(`installed under ${root}: prometheus-alertmanager`);
    });
});

test("systemd accepts the collector's units and the exporters with their drop-ins", () => {
    const root = join(dir, "units-root");
    const collector = readFileSync(join(ROOT, "scripts/host/visualkit-metrics.sh"), "utf8");
    const input = renderMonitoringStdin({ env: renderMonitoringEnv({}), alertmanager: renderAlertmanagerConfig({}) });
    const res0 = spawnSync("sh", ["-c", renderMonitoringInstall(layout, { collector, rules: renderAlertRules(layout.dataDir) })], { input, encoding: "utf8", env: { ...process.env, VISUALKIT_INSTALL_ROOT: root } });
    expect(res0.status).toBe(0);
    // systemd-analyze verify --root resolves units and commands inside the root: Debian's units (the exporters' from
    // their packages), a docker.service such as the host has, and the exporters' binaries.
    cpSync("/usr/lib/systemd/system", join(root, "usr/lib/systemd/system"), { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(root, "etc/systemd/system/docker.service"), "[Unit]\nDescription=Docker\n[Service]\nExecStart=/bin/true\n");
    mkdirSync(join(root, "usr/bin"), { recursive: true });
    for (const b of ["prometheus-postgres-exporter", "prometheus-redis-exporter"]) cpSync(`/usr/bin/${b}`, join(root, "usr/bin", b));
    mkdirSync(join(root, "bin"));
    cpSync("/usr/bin/kill", join(root, "bin/kill"));
    const units = ["visualkit-metrics.service", "visualkit-metrics.timer", "prometheus-postgres-exporter.service", "prometheus-redis-exporter.service"];
    const res = spawnSync("systemd-analyze", ["verify", "--man=no", `--root=${root}`, ...units.map((u) => (u.startsWith("visualkit") ? `/etc/systemd/system/${u}` : `/usr/lib/systemd/system/${u}`))], { encoding: "utf8" });
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: "" });
});
