import type { DmarcPolicy, EmailInput } from "../../catalog/input";
import type { ConfigReader } from "../reader";
import { checkMailbox, checkSpf, checkTxt } from "../checks";
import { checkDkim, checkLabel, checkDomain } from "../validators";

/** The domain's e-mail records: MX, SPF, DKIM and DMARC. */
export interface EmailSection {
    /** Absent when the stack publishes no e-mail records (dev). */
    readonly email?: EmailInput;
}

export function readEmail(r: ConfigReader): EmailSection {
    const mx = (r.list("emailMx") ?? []).flatMap((entry, i) => {
        const m = entry.match(/^(\d+)\s+(\S+?)\.?$/);
        if (!m || Number(m[1]) > 65535 || checkDomain(m[2].toLowerCase()) !== undefined) {
            r.add(`emailMx[${i}]`, `"${entry}" is not 'priority host', e.g. '10 mx.zoho.com'`, `fix the entry in Pulumi.${r.stack}.yaml`);
            return [];
        }
        return [{ priority: Number(m[1]), host: m[2].toLowerCase() }];
    });
    const spf = r.checked("emailSpf", r.optStr("emailSpf"), checkSpf, "'v=spf1 include:zoho.com ~all'");
    const dkim = r.checked("emailDkim", r.optStr("emailDkim"), (v) => checkTxt(v) ?? checkDkim(v), "'v=DKIM1; k=rsa; p=<key from Zoho>'");
    const selector = r.checked("emailDkimSelector", r.str("emailDkimSelector"), (v) => (checkLabel(v) === undefined ? undefined : "is not a DKIM selector (one hostname label)"), "zmail");
    const policy = r.oneOf<DmarcPolicy>("emailDmarcPolicy", ["none", "quarantine", "reject"]);
    const rua = r.checked(
        "emailDmarcRua",
        r.optStr("emailDmarcRua"),
        (v) => (v.split(",").every((a) => a.trim().startsWith("mailto:") && checkMailbox(a.trim().slice(7)) === undefined) && checkTxt(v) === undefined ? undefined : "is not a list of mailto: addresses"),
        "mailto:dmarc@visualkit.live",
    );
    // selector and policy are reported when wrong; the config is only used when nothing was reported.
    const email = mx.length > 0 || spf || dkim ? { mx, spf, dkim: dkim ? { selector: selector!, value: dkim } : undefined, dmarc: { policy: policy!, rua } } : undefined;
    return { email };
}
