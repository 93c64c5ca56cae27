import { RESERVED_HOST_PORTS } from "./defaults";
import { portRangeText } from "./derived";
import { hostRoutes } from "./index";
import type { Catalog } from "./types";

/** Every address, IPv4 and IPv6. */
export const ANYWHERE: readonly string[] = ["0.0.0.0/0", "::/0"];

/** One inbound rule of a host firewall (Hetzner firewalls drop whatever no rule allows). */
export interface FirewallRuleSpec {
    readonly protocol: "tcp" | "udp" | "icmp";
    /** A port or an inclusive range `from-to`; absent for ICMP. */
    readonly port?: string;
    readonly sourceIps: readonly string[];
    readonly description: string;
}

/**
 * The inbound rules of one host, derived from the catalog: SSH from the configured CIDRs only; ICMP (ping and
 * path-MTU discovery) from anywhere; Caddy's HTTP, HTTPS and HTTP/3 from anywhere only when the host serves routes;
 * every `public` port or range of the services on the host from anywhere. `proxied` and `internal` ports stay
 * closed: Caddy reaches them on the host itself.
 */
export function firewallRules(catalog: Catalog, hostName: string, sshCidrs: readonly string[]): FirewallRuleSpec[] {
    const servesRoutes = hostRoutes(catalog, hostName).length > 0;
    const rules: FirewallRuleSpec[] = [];
    for (const r of RESERVED_HOST_PORTS) {
        if (r.firewall === "ssh") rules.push({ protocol: r.protocol, port: String(r.port), sourceIps: [...sshCidrs], description: `${r.owner} from visualkit:sshAllowedCidrs` });
    }
    rules.push({ protocol: "icmp", sourceIps: ANYWHERE, description: "ICMP (ping, path MTU discovery)" });
    if (servesRoutes) {
        for (const r of RESERVED_HOST_PORTS) {
            if (r.firewall === "routes") rules.push({ protocol: r.protocol, port: String(r.port), sourceIps: ANYWHERE, description: r.owner });
        }
    }
    for (const service of catalog.services.filter((s) => s.host === hostName)) {
        for (const p of service.ports.filter((x) => x.exposure === "public")) {
            rules.push({
                protocol: p.protocol,
                port: portRangeText(p),
                sourceIps: ANYWHERE,
                description: `${service.id} ${p.id} (${p.configKey})`,
            });
            // The redirected port (TCP 443 of the TURN address) needs its own opening when Caddy's 443 is not open.
            const alias = p.redirectFrom;
            if (alias !== undefined && !rules.some((r) => r.protocol === p.protocol && r.port === String(alias))) {
                rules.push({ protocol: p.protocol, port: String(alias), sourceIps: ANYWHERE, description: `${service.id} ${p.id} on ${alias} of its own address` });
            }
        }
    }
    return rules;
}
