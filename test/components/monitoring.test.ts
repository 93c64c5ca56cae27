import { runProgram } from "../helpers/program";

/** The Monitoring and Prober components in the real program under mocks: what reaches the host and Cloudflare. */
const WEBHOOK = "https://hooks.example.com/services/T0/B0/secret-token-1";
const HEARTBEAT = "https://hc-ping.com/heartbeat-uuid-2";
const SMTP_PASSWORD = "smtp-pass-example";
const prodWith = (set: Record<string, string | boolean>) =>
    runProgram("prod", {
        set: { alertEmail: "oncall@example.com", chatwootSmtpAddress: "smtp.example.com", chatwootSmtpUsername: "alerts", chatwootSmtpPassword: SMTP_PASSWORD, alertWebhookUrl: WEBHOOK, heartbeatUrl: HEARTBEAT, ...set },
        secrets: ["alertWebhookUrl", "heartbeatUrl", "chatwootSmtpPassword"],
    });

let prod: Awaited<ReturnType<typeof prodWith>>;
beforeAll(async () => {
    prod = await prodWith({});
});

const SECRETS = [WEBHOOK, HEARTBEAT, SMTP_PASSWORD];

test("prod installs monitoring over SSH after the host is ready, secrets on standard input only", () => {
    const install = prod.named("visualkit-prod-main-monitoring-install");
    expect(prod.named("visualkit-prod-main-monitoring").type).toBe("visualkit:monitoring:Monitoring");
    expect(install.options.dependsOn).toEqual(["visualkit-prod-main-ready"]);
    expect(install.secretInputs).toEqual(expect.arrayContaining(["stdin"]));
    const [env, alertmanager, smtp] = String(install.rawInputs.stdin)
        .trimEnd()
        .split("\n")
        .map((l) => Buffer.from(l, "base64").toString("utf8"));
    expect(alertmanager).toContain(`url: ${WEBHOOK}`);
    expect(alertmanager).toContain(`url: ${HEARTBEAT}`);
    expect(alertmanager).toContain("to: oncall@example.com");
    expect(alertmanager).toContain("smtp_smarthost: smtp.example.com:587");
    expect(smtp).toBe(SMTP_PASSWORD);
    // No Postgres password: the exporter's own role is made on the host, Chatwoot's superuser password stays out.
    expect(env).toMatch(/^JANUS_ADMIN_SECRET='.+'\nREDIS_PASSWORD='.+'\nJANUS_TOKEN_SECRET='.+'\n$/);
    const create = String(install.rawInputs.create);
    for (const s of SECRETS) {
        expect(create).not.toContain(s);
        expect(JSON.stringify(prod.outputs)).not.toContain(s);
        for (const [path, text] of prod.files) expect([path, text.includes(s)]).toEqual([path, false]);
    }
    // The published alertmanager.yml says where the secrets go without them.
    expect(prod.files.get("monitoring/alertmanager.yml")).toContain("url: https://secret.invalid/visualkit:alertWebhookUrl");
});

test("the prober: a Worker with the health checks and the webhook as a secret binding, on a 5-minute cron", () => {
    const script = prod.resources.find((r) => r.type === "cloudflare:index/workersScript:WorkersScript")!;
    expect(script.name).toBe("visualkit-prod-prober-script");
    expect(script.rawInputs).toMatchObject({ scriptName: "visualkit-prod-prober", mainModule: "worker.js", compatibilityDate: "2024-09-23" });
    expect(String(script.rawInputs.content)).toBe(prod.files.get("prober/worker.js"));
    const bindings = script.rawInputs.bindings as { name: string; type: string; text: string }[];
    expect(bindings.map((b) => [b.name, b.type])).toEqual([
        ["CHECKS", "plain_text"],
        ["STACK", "plain_text"],
        ["TIMEOUT_MS", "plain_text"],
        ["ALERT_WEBHOOK_URL", "secret_text"],
    ]);
    expect(script.secretInputs).toEqual(expect.arrayContaining(["bindings"]));
    const checks = JSON.parse(bindings[0].text) as { url: string }[];
    expect(checks.map((c) => c.url)).toEqual((prod.outputs as { healthChecks: { url: string }[] }).healthChecks.map((c) => c.url));
    const cron = prod.resources.find((r) => r.type === "cloudflare:index/workersCronTrigger:WorkersCronTrigger")!;
    expect(cron.rawInputs).toMatchObject({ scriptName: "visualkit-prod-prober", schedules: [{ cron: "*/5 * * * *" }] });
});

test("the outputs say where the dashboards are, who hears the alerts and what the prober checks", () => {
    const m = (prod.outputs as { monitoring: Record<string, unknown> }).monitoring;
    expect(m).toMatchObject({
        runbook: "docs/monitoring.md",
        alertsReach: ["e-mail to oncall@example.com", "webhook", "heartbeat"],
        prober: { enabled: true, worker: "visualkit-prod-prober", schedule: "*/5 * * * *", checks: 6 },
        logs: "npm run logs -- prod <container>",
    });
    expect((m.hosts as Record<string, unknown>).main).toMatchObject({ prometheus: "http://127.0.0.1:9090", alertmanager: "http://127.0.0.1:9093" });
});

test("without a webhook there is no prober, and with no receiver the outputs say the alerts reach nobody", async () => {
    const run = await runProgram("dev");
    expect(run.resources.some((r) => r.type.startsWith("cloudflare:index/workers"))).toBe(false);
    expect((run.outputs as { monitoring: { alertsReach: string[]; prober: { enabled: boolean } } }).monitoring).toMatchObject({ alertsReach: ["nobody"], prober: { enabled: false } });
});

test("alertEmail without an SMTP server, or a webhook that is not https (or http to a private address), is a config error naming the key", async () => {
    await expect(runProgram("dev", { set: { alertEmail: "oncall@example.com" } })).rejects.toThrow(/visualkit:alertEmail.*no SMTP server/s);
    await expect(runProgram("dev", { set: { alertWebhookUrl: "http://hooks.example.com/x" }, secrets: ["alertWebhookUrl"] })).rejects.toThrow(/visualkit:alertWebhookUrl.*https:\/\//s);
    await expect(runProgram("dev", { set: { heartbeatUrl: "http://172.32.0.1/x" }, secrets: ["heartbeatUrl"] })).rejects.toThrow(/visualkit:heartbeatUrl.*https:\/\//s);
    // A receiver on a private address (the operator's network, a test host's sink) may be plain http.
    const run = await runProgram("dev", { set: { alertWebhookUrl: "http://10.0.2.2:18080/hook", heartbeatUrl: "http://172.16.5.1/beat" }, secrets: ["alertWebhookUrl", "heartbeatUrl"] });
    expect((run.outputs as { monitoring: { alertsReach: string[]; prober: { enabled: boolean } } }).monitoring).toMatchObject({ alertsReach: ["webhook", "heartbeat"], prober: { enabled: false } });
});
