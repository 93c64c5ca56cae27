import type { ConfigReader } from "../reader";
import type { PlatformConfig } from "../types";
import { checkMailHost, checkSender } from "../checks";
import { isPort } from "../validators";

/** Chatwoot's outgoing mail: off unless an SMTP host is set. */
export function readChatwoot(r: ConfigReader): PlatformConfig["chatwoot"] {
    const address = r.checked("chatwootSmtpAddress", r.optStr("chatwootSmtpAddress"), checkMailHost, "smtp.zoho.eu");
    const port = r.int("chatwootSmtpPort");
    if (port !== undefined && !isPort(port)) r.add("chatwootSmtpPort", `${port} is not a port between 1 and 65535`, r.setCmd("chatwootSmtpPort", "587"));
    const username = r.str("chatwootSmtpUsername") ?? "";
    const senderText = r.str("chatwootMailerSender") ?? "";
    const sender = senderText === "" ? "" : r.checked("chatwootMailerSender", senderText, checkSender, "'VisualKit <support@visualkit.live>'") ?? "";
    const password = r.secret("chatwootSmtpPassword", r.requiredNow("chatwootSmtpPassword"));
    // port and password are reported when missing or wrong; the config is only used when nothing was reported.
    return { smtp: address ? { address, port: port!, username, password: password!, sender } : undefined };
}
