import { RESERVED_HOST_PORTS, STANDBY_PORT_OFFSET, UNPRIVILEGED_PORT_FLOOR } from "./defaults";
import { portRangeText } from "./derived";
import { deriveDnsRecords, type DnsRecordSpec } from "./dns";
import type { CatalogIssue, EmailInput } from "./input";
import type { Catalog, PortSpec } from "./types";

const PAGES_PROJECT = /^[a-z0-9](?:[a-z0-9-]{0,56}[a-z0-9])?$/;

/**
 * Checks what only the assembled catalog can show: two DNS records that cannot coexist (two routes on one hostname,
 * e-mail beside a Pages CNAME), two services on one host port
 * (or a port inside a UDP range), a port the host itself needs, and Pages project names Cloudflare rejects.
 */
export function validateCatalog(catalog: Catalog, stack: string, email?: EmailInput): CatalogIssue[] {
    return [...dnsNameIssues(catalog, stack, email), ...portIssues(catalog, stack), ...pagesIssues(catalog, stack)];
}

/**
 * The one home of DNS name conflicts: every record the stack would manage (catalog/dns.ts, derived without the
 * takeover's cutover, which only drops records) checked pairwise. Routes, names, Pages sites, redirects and e-mail
 * share one namespace; a name holds one record per type (MX: one per mail host); below the zone apex a CNAME shares
 * its name with nothing, and at the apex (flattened) only with MX and TXT; each record is a resource named by its key.
 * Each pair is reported once, on the key of the record that came later, with the fix.
 */
export function dnsNameIssues(catalog: Catalog, stack: string, email?: EmailInput): CatalogIssue[] {
    // A domain outside its zone has no record names at all; the names section reports it (visualkit:domain).
    if (catalog.domain !== catalog.zone && !catalog.domain.endsWith(`.${catalog.zone}`)) return [];
    const records = deriveDnsRecords(catalog, { zone: catalog.zone, project: "", stack, email });
    const issues: CatalogIssue[] = [];
    records.forEach((r, i) => {
        for (const earlier of records.slice(0, i)) {
            const why = clash(earlier, r, catalog.zone);
            if (why === undefined) continue;
            const issue = nameIssue(earlier, r, why, stack);
            if (!issues.some((x) => x.key === issue.key && x.problem === issue.problem)) issues.push(issue);
        }
    });
    return issues;
}

type Clash = "duplicate" | "cname" | "resource";

/** Why two records cannot both exist, or undefined when they can. */
function clash(a: DnsRecordSpec, b: DnsRecordSpec, zone: string): Clash | undefined {
    if (a.hostname === b.hostname) {
        if (a.type === b.type && (a.type !== "MX" || JSON.stringify(a.content) === JSON.stringify(b.content))) return "duplicate";
        // The record beside a CNAME; at the apex Cloudflare flattens the CNAME, so MX and TXT may stay.
        const beside = a.type === "CNAME" ? b : b.type === "CNAME" ? a : undefined;
        if (beside && (a.hostname !== zone || !["MX", "TXT"].includes(beside.type))) return "cname";
    }
    return a.key === b.key ? "resource" : undefined;
}

function nameIssue(earlier: DnsRecordSpec, later: DnsRecordSpec, why: Clash, stack: string): CatalogIssue {
    const key = later.source.configKey;
    const label = key.match(/^visualkit:hostnames\.(\w+)$/)?.[1];
    const relabel = (k: string, id: string) => `pulumi config set --path '${k}' ${id.toLowerCase()}2 -s ${stack}`;
    if (label && earlier.source.configKey.startsWith("visualkit:hostnames.")) {
        return { key, problem: `hostname ${later.hostname} is already used by ${earlier.source.owner}`, fix: `give one of them another label, e.g. ${relabel(key, label)}` };
    }
    if (why === "cname") {
        const site = earlier.type === "CNAME" ? earlier : later;
        const other = site === earlier ? later : earlier;
        const move = site.source.configKey.match(/^visualkit:hostnames\.(\w+)$/)?.[1];
        return {
            key,
            problem: `${other.source.owner} at ${later.hostname} would sit beside the CNAME of ${site.source.owner}, which DNS forbids${later.name === "@" ? " even at the zone apex" : " below the zone apex"}`,
            fix: move ? `leave ${other.source.configKey} out of this stack, or move the site: ${relabel(site.source.configKey, move)}` : `remove ${key} from Pulumi.${stack}.yaml`,
        };
    }
    const what = why === "duplicate" ? `a second ${later.type} record at ${later.hostname}` : `a second DNS record named ${later.key}`;
    return { key, problem: `${later.source.owner} would be ${what}, beside ${earlier.source.owner}`, fix: `keep one of them: remove the repeated entry from ${key} in Pulumi.${stack}.yaml` };
}

/** Host ports, per host and protocol; ranges included. */
function portIssues(catalog: Catalog, stack: string): CatalogIssue[] {
    const issues: CatalogIssue[] = [];
    for (const host of catalog.hosts) {
        const taken: { p: PortSpec; owner: string }[] = [];
        for (const s of catalog.services.filter((x) => x.host === host.name)) {
            // A standby copy holds its own host port (STANDBY_PORT_OFFSET above the primary's): checked like any port.
            // Only ports on the host's network collide: a published port, or any port of a service whose containers
            // publish nothing (Janus, host-networked). vk-agent's RTP port lives in its container's own network
            // namespace, so Janus's RTP range may span it.
            const hostNetworked = s.containers.every((c) => c.publishes.length === 0);
            const onHost = s.ports.filter((p) => hostNetworked || s.containers.some((c) => c.publishes.includes(p.id)));
            const held = onHost.flatMap((p) => (p.standbyPort === undefined ? [p] : [p, { ...p, id: `${p.id} standby`, port: p.standbyPort, endPort: p.standbyPort }]));
            for (const p of held) {
                if (s.component === "janus" && p.port < UNPRIVILEGED_PORT_FLOOR) {
                    issues.push({ key: p.configKey, problem: `${p.protocol} ${portRangeText(p)} is below ${UNPRIVILEGED_PORT_FLOOR}; Janus runs as an unprivileged user and cannot bind it`, fix: `choose a port of ${UNPRIVILEGED_PORT_FLOOR} or above, e.g. ${suggest(p)}` });
                }
                if (p.port > 65535) {
                    issues.push({ key: p.configKey, problem: `the standby copy of ${s.id} would listen on ${p.port}, above 65535`, fix: `choose a port of at most ${65535 - STANDBY_PORT_OFFSET}, or run without standby copies: pulumi config set visualkit:standbyReplicas false -s ${stack}` });
                }
                for (const r of RESERVED_HOST_PORTS) {
                    if (r.protocol === p.protocol && r.port >= p.port && r.port <= p.endPort) {
                        issues.push({ key: p.configKey, problem: `${p.protocol} ${portRangeText(p)} includes port ${r.port}, which the host uses for ${r.owner}`, fix: `choose a port that is free, e.g. ${suggest(p)}` });
                    }
                }
                for (const t of taken) {
                    // Two services that collide on their primary ports collide on their standby ports too: one report.
                    // A port no config key moves (the TURN service's) is reported on the other port's key.
                    const fixedPort = !p.configKey.startsWith("visualkit:");
                    const key = fixedPort ? t.p.configKey : p.configKey;
                    const fix = fixedPort
                        ? `change ${key} so it leaves ${portRangeText(p)} (${s.id} ${p.id}, fixed in ${p.configKey}) free`
                        : `give each service its own port: change ${p.configKey} or ${t.p.configKey}`;
                    if (issues.some((i) => i.key === key && i.fix === fix)) continue;
                    if (t.p.protocol === p.protocol && t.p.port <= p.endPort && p.port <= t.p.endPort) {
                        issues.push({
                            key,
                            problem: `${p.protocol} ${portRangeText(p)} (${s.id} ${p.id}) collides with ${portRangeText(t.p)} (${t.owner}) on host ${host.name}`,
                            fix,
                        });
                    }
                }
                taken.push({ p, owner: `${s.id} ${p.id}` });
            }
        }
    }
    return issues;
}

/** Pages project names Cloudflare rejects. */
function pagesIssues(catalog: Catalog, stack: string): CatalogIssue[] {
    const issues: CatalogIssue[] = [];
    for (const p of catalog.pages) {
        if (!PAGES_PROJECT.test(p.project)) {
            issues.push({
                key: "visualkit:pagesProjectSuffix",
                problem: `Pages project name "${p.project}" is not valid (lowercase letters, digits and hyphens, at most 58 characters)`,
                fix: `use a suffix such as -dev: pulumi config set visualkit:pagesProjectSuffix -dev -s ${stack}`,
            });
        }
    }
    return issues;
}

function suggest(p: PortSpec): string {
    return p.configKey === "visualkit:janusRtpPorts" ? "10000-60000" : String(p.port < 1024 ? p.port + 3000 : p.port + 1);
}
