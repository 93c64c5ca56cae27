import { RESERVED_HOST_PORTS, STANDBY_PORT_OFFSET, UNPRIVILEGED_PORT_FLOOR } from "./defaults";
import { portRangeText } from "./derived";
import type { CatalogIssue } from "./input";
import type { Catalog, PortSpec } from "./types";

const PAGES_PROJECT = /^[a-z0-9](?:[a-z0-9-]{0,56}[a-z0-9])?$/;

/**
 * Checks what only the assembled catalog can show: two routes on one hostname, two services on one host port
 * (or a port inside a UDP range), a port the host itself needs, and Pages project names Cloudflare rejects.
 */
export function validateCatalog(catalog: Catalog, stack: string): CatalogIssue[] {
    const set = (key: string, value: string) => `pulumi config set --path '${key}' ${value} -s ${stack}`;
    return [...hostnameIssues(catalog, set), ...portIssues(catalog, stack), ...pagesIssues(catalog, stack)];
}

/** Hostnames: routes, Pages sites and redirects share one namespace. */
function hostnameIssues(catalog: Catalog, set: (key: string, value: string) => string): CatalogIssue[] {
    const issues: CatalogIssue[] = [];
    const owners = new Map<string, string>();
    const named = [
        ...catalog.services.flatMap((s) => s.routes.map((r) => ({ id: r.id, hostname: r.hostname }))),
        ...catalog.pages.map((p) => ({ id: p.routeId, hostname: p.hostname })),
        ...catalog.redirects.map((r) => ({ id: r.id, hostname: r.hostname })),
    ];
    for (const { id, hostname } of named) {
        const other = owners.get(hostname);
        if (other !== undefined) {
            issues.push({
                key: `visualkit:hostnames.${id}`,
                problem: `hostname ${hostname} is already used by route "${other}"`,
                fix: `give one of them another label, e.g. ${set(`visualkit:hostnames.${id}`, `${id.toLowerCase()}2`)}`,
            });
        } else {
            owners.set(hostname, id);
        }
    }
    return issues;
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
