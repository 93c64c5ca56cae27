import type { ConfigReader } from "../reader";
import type { PlatformConfig } from "../types";

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
/**
 * The URL is its own password (Slack, ntfy, healthchecks.io put the token in it): https, except to a private or
 * loopback IPv4 address (a receiver inside the operator's network, or a test's sink), which never crosses the internet.
 */
const SECRET_URL = /^(https:\/\/[^\s/]+\/\S*|http:\/\/(127\.\d+|10\.\d+|192\.168|172\.(1[6-9]|2\d|3[01]))\.\d+\.\d+(:\d+)?\/\S*)$/;

/** Who hears the alerts (docs/monitoring.md): e-mail through the Chatwoot SMTP server, a webhook, a heartbeat. */
export function readMonitoring(r: ConfigReader): PlatformConfig["monitoring"] {
    const alertEmail = r.optStr("alertEmail");
    const smtp = r.optStr("chatwootSmtpAddress");
    if (alertEmail !== undefined && !EMAIL.test(alertEmail)) r.add("alertEmail", `"${alertEmail}" is not an e-mail address`, r.setCmd("alertEmail", "oncall@example.com"));
    else if (alertEmail !== undefined && smtp === undefined) {
        r.add("alertEmail", "is set but there is no SMTP server to send the alerts through (visualkit:chatwootSmtpAddress is empty)", `${r.setCmd("chatwootSmtpAddress", "smtp.example.com")}, or send alerts to a webhook instead: pulumi config set --secret visualkit:alertWebhookUrl https://… -s ${r.stack}`);
    }
    const webhookUrl = r.secret("alertWebhookUrl", false);
    const heartbeatUrl = r.secret("heartbeatUrl", false);
    for (const [key, v] of [["alertWebhookUrl", webhookUrl], ["heartbeatUrl", heartbeatUrl]] as const) {
        if (v && !SECRET_URL.test(v.reveal())) r.add(key, "is not an https:// URL (plain http:// only to a private IPv4 address: the URL carries its token)", `pulumi config set --secret visualkit:${key} https://… -s ${r.stack}`);
    }
    // The Worker can only tell a webhook on the internet.
    const prober = (r.bool("proberEnabled") ?? true) && webhookUrl !== undefined && webhookUrl.reveal().startsWith("https://");
    return { alertEmail, webhookUrl, heartbeatUrl, prober };
}
