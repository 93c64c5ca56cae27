import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { SecretString } from "../config/secret";
import { publishFile } from "../lib/artifacts";
import type { HostHandle } from "../lib/host";
import { toPulumiSecret } from "../lib/secrets";
import { shippedFile } from "../lib/shipped";
import { REMOTE_COMMAND_DEFAULTS } from "../lib/ssh";
import { renderAlertRules } from "../render/alert-rules";
import {
    MONITORING_ADDRESS,
    MONITORING_PORTS,
    renderAlertmanagerConfig,
    renderCollectorConf,
    renderJournaldConf,
    renderMonitoringEnv,
    renderMonitoringInstall,
    renderMonitoringStdin,
    renderMonitoringUnits,
    renderPrometheusConfig,
    renderServiceDefaults,
    type AlertRouting,
    type MonitoringLayout,
} from "../render/monitoring";

/** The collector, a real file so shellcheck and the tests check what runs on the server. */
export const COLLECTOR_SCRIPT = "scripts/host/visualkit-metrics.sh";

export interface MonitoringArgs {
    /** The host watched (SSH connection, readiness). */
    host: HostHandle;
    /** What is watched on the host: its routes, Janus, the Chatwoot containers, the backup status file. */
    layout: MonitoringLayout;
    /**
     * Who hears the alerts. E-mail goes through `smtp` (the stack's Chatwoot SMTP server).
     * @default {} (alerts are evaluated and shown in Alertmanager, but reach nobody)
     */
    routing?: {
        alertEmail?: string;
        smtp?: { address: string; port: number; username: string; password: SecretString; sender: string };
        webhookUrl?: SecretString;
        heartbeatUrl?: SecretString;
    };
    /**
     * Secrets the collector and exporters need: Janus's admin secret (and its token secret: the collector signs a one-minute token) and
     * the Redis password. No Postgres password: the Postgres exporter logs in as its own role, which the host makes.
     */
    secrets: { janusAdminSecret?: pulumi.Input<string>; janusTokenSecret?: pulumi.Input<string>; redisPassword?: pulumi.Input<string> };
    /**
     * Publish the rendered files under this folder of rendered/<stack>/ (one host: `monitoring`).
     * @default "monitoring"
     */
    publishAs?: string;
}

/** Placeholders in the published alertmanager.yml: the real URLs are secrets and only reach the host. */
const PUBLISHED_SECRET_URL = (key: string) => `https://secret.invalid/visualkit:${key}`;

/**
 * Prometheus, Alertmanager, node-exporter and the Postgres and Redis exporters (Debian's packages), the alert rules,
 * the visualkit-metrics collector and journald's limits on one host, installed over SSH after the host is ready (a
 * day-2 step: an existing server gets it on the next `pulumi up`, no replacement). Everything listens on loopback.
 * A changed file, setting or secret runs the install again; it restarts only the services whose files changed.
 */
export class Monitoring extends pulumi.ComponentResource {
    /** Where Prometheus and Alertmanager answer on the host (loopback: reach them through an SSH tunnel). */
    public readonly prometheusUrl: pulumi.Output<string>;
    public readonly alertmanagerUrl: pulumi.Output<string>;
    /** Who the alerts reach, without secrets: `e-mail to x`, `webhook`, `heartbeat`, or `nobody`. */
    public readonly alertsReach: pulumi.Output<string[]>;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("visualkit:monitoring:Monitoring", name, {}, opts);
        const folder = args.publishAs ?? "monitoring";
        const r = args.routing ?? {};
        const email: AlertRouting["email"] =
            r.alertEmail && r.smtp ? { to: r.alertEmail, from: r.smtp.sender || r.alertEmail, smarthost: `${r.smtp.address}:${r.smtp.port}`, username: r.smtp.username } : undefined;
        const rules = renderAlertRules(args.layout.dataDir);
        const install = renderMonitoringInstall(args.layout, { collector: shippedFile(COLLECTOR_SCRIPT), rules });

        publishFile(`${folder}/prometheus.yml`, renderPrometheusConfig(args.layout));
        publishFile(`${folder}/alert-rules.yml`, rules);
        publishFile(
            `${folder}/alertmanager.yml`,
            renderAlertmanagerConfig({ email, webhookUrl: r.webhookUrl && PUBLISHED_SECRET_URL("alertWebhookUrl"), heartbeatUrl: r.heartbeatUrl && PUBLISHED_SECRET_URL("heartbeatUrl") }),
        );
        publishFile(`${folder}/metrics.conf`, renderCollectorConf(args.layout));
        publishFile(`${folder}/journald.conf`, renderJournaldConf());
        for (const [pkg, text] of Object.entries(renderServiceDefaults(args.layout))) publishFile(`${folder}/default/${pkg}`, text);
        for (const [unit, text] of Object.entries(renderMonitoringUnits())) publishFile(`${folder}/${unit}`, text);

        // Rendered inside the apply from Pulumi secrets, so the text is a secret too.
        const secret = (s?: SecretString) => (s ? toPulumiSecret(s) : pulumi.output(undefined));
        const stdin = pulumi
            .all([secret(r.webhookUrl), secret(r.heartbeatUrl), secret(r.smtp?.password), args.secrets.janusAdminSecret, args.secrets.janusTokenSecret, args.secrets.redisPassword])
            .apply(([webhookUrl, heartbeatUrl, smtpPassword, janusAdminSecret, janusTokenSecret, redisPassword]) =>
                renderMonitoringStdin({
                    env: renderMonitoringEnv({ janusAdminSecret, janusTokenSecret, redisPassword }),
                    alertmanager: renderAlertmanagerConfig({ email, webhookUrl, heartbeatUrl }),
                    smtpPassword: email?.username ? smtpPassword : undefined,
                }),
            );
        const stdinSecret = pulumi.secret(stdin);
        // The secrets are a trigger too (kept encrypted in the state): a new URL or password is installed at once.
        new command.remote.Command(
            `${name}-install`,
            { ...REMOTE_COMMAND_DEFAULTS, connection: args.host.connection, create: install, stdin: stdinSecret, triggers: [install, args.host.instance, stdinSecret] },
            { parent: this, dependsOn: [args.host.ready] },
        );

        this.prometheusUrl = pulumi.output(`http://${MONITORING_ADDRESS}:${MONITORING_PORTS.prometheus}`);
        this.alertmanagerUrl = pulumi.output(`http://${MONITORING_ADDRESS}:${MONITORING_PORTS.alertmanager}`);
        const reach = [...(email ? [`e-mail to ${email.to}`] : []), ...(r.webhookUrl ? ["webhook"] : []), ...(r.heartbeatUrl ? ["heartbeat"] : [])];
        this.alertsReach = pulumi.output(reach.length > 0 ? reach : ["nobody"]);
        this.registerOutputs({ prometheusUrl: this.prometheusUrl, alertmanagerUrl: this.alertmanagerUrl, alertsReach: this.alertsReach });
    }
}
