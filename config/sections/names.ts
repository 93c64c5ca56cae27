import type { ConfigReader } from "../reader";
import type { Environment, LogLevel } from "../types";
import { checkMailbox } from "../checks";
import { checkDomain } from "../validators";

/** Names of the stack: environment, domain inside its Cloudflare zone, Cloudflare ids, ACME e-mail, log level. */
export interface NamesSection {
    readonly environment?: Environment;
    readonly domain?: string;
    readonly zone?: string;
    readonly zoneId?: string;
    readonly accountId?: string;
    readonly acmeEmail?: string;
    readonly logLevel?: LogLevel;
}

const hex32 = (v: string) => (/^[0-9a-f]{32}$/.test(v) ? undefined : "is not a Cloudflare id (32 lowercase hex characters, shown on the zone's overview page)");

export function readNames(r: ConfigReader): NamesSection {
    const environment = r.oneOf<Environment>("environment", ["dev", "prod"]);
    const domain = r.checked("domain", r.str("domain"), checkDomain, "dev.visualkit.live");
    const zone = r.checked("cloudflareZone", r.str("cloudflareZone"), checkDomain, "visualkit.live");
    if (domain && zone && domain !== zone && !domain.endsWith(`.${zone}`)) {
        r.add("domain", `${domain} is not inside the Cloudflare zone ${zone}`, `use a domain under ${zone} (e.g. dev.${zone}) or fix visualkit:cloudflareZone`);
    }
    return {
        environment,
        domain,
        zone,
        zoneId: r.checked("cloudflareZoneId", r.optStr("cloudflareZoneId"), hex32, "<32-hex zone id>"),
        accountId: r.checked("cloudflareAccountId", r.str("cloudflareAccountId"), hex32, "<32-hex account id>"),
        acmeEmail: r.checked("acmeEmail", r.str("acmeEmail"), checkMailbox, "ops@visualkit.live"),
        logLevel: r.oneOf<LogLevel>("logLevel", ["debug", "info", "warn"]),
    };
}
