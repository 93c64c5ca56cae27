import { checkPublicIpv4 } from "../checks";
import type { ConfigReader } from "../reader";
import type { PlatformConfig } from "../types";

/** Taking over the hand-built production: the adopt map (written by npm run adopt) and the old server's address kept until the switch. */
export function readTakeover(r: ConfigReader): Pick<PlatformConfig, "adopt" | "cutoverFromIpv4"> {
    const adopt: Record<string, string> = {};
    const rerun = `re-run npm run adopt -- ${r.stack}, which rewrites visualkit:adopt in Pulumi.${r.stack}.yaml`;
    for (const [name, id] of Object.entries(r.strMap("adopt"))) {
        if (!name.startsWith(`visualkit-${r.stack}-`)) {
            r.add(`adopt.${name}`, `is not a resource of stack ${r.stack} (names start with visualkit-${r.stack}-)`, rerun);
        } else if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+){1,2}$/.test(id) || id.split("/").some((part) => part.startsWith(".") || part.includes(".."))) {
            r.add(`adopt.${name}`, `${JSON.stringify(id)} is not a Cloudflare import id such as <zone_id>/<record_id>`, rerun);
        } else {
            adopt[name] = id;
        }
    }
    const cutoverFromIpv4 = r.checked("cutoverFromIpv4", r.optStr("cutoverFromIpv4"), checkPublicIpv4, "178.156.151.139");
    return { adopt, cutoverFromIpv4 };
}
