import { DATA_DIR, MAIN_HOST, NETWORK_ZONES, PLATFORM_NETWORK, PRIVATE_NETWORK } from "./defaults";
import { httpsUrl, portOf } from "./derived";
import type { CatalogInput, CatalogIssue, HostInput, MediaCellInput } from "./input";
import type { Catalog, ComponentKind, HostSpec, MediaCellSpec, ServiceSpec } from "./types";

/**
 * Placement: which host each service runs on, from `visualkit:hosts` and `visualkit:mediaCells` (docs/hosts.md).
 * Pure. The catalog's services are written once (catalog/index.ts); this decides their `host` and, for each media
 * cell, stamps out its own Janus and vk-agent.
 */

/** The components a media cell is made of; with cells declared, the catalog's own `janus` and `vk-agent` give way to them. */
export const CELL_COMPONENTS: readonly ComponentKind[] = ["janus", "vk-agent"];

/** The ids a host may list under `services` (catalog/index.ts writes one service of each). */
export const CATALOG_SERVICE_IDS: readonly string[] = ["platform-api", "vk-agent", "janus", "chatwoot", "turn", "widget-cdn"];

/** Used only when a caller builds a catalog without hosts (tests of other parts): config always passes them. */
const FALLBACK_HOST: HostInput = { name: MAIN_HOST, serverType: "cx22", location: "nbg1", volumeSizeGb: 10 };

/** The hosts, each with its machine and, when there is more than one, its private address. */
export function hostSpecs(cfg: CatalogInput): HostSpec[] {
    const hosts = cfg.hosts && cfg.hosts.length > 0 ? cfg.hosts : [FALLBACK_HOST];
    const many = hosts.length > 1;
    return hosts.map((h, i) => ({
        name: h.name,
        dataDir: DATA_DIR,
        network: { ...PLATFORM_NETWORK },
        machine: { serverType: h.serverType, location: h.location, volumeSizeGb: h.volumeSizeGb },
        ...(many ? { privateIp: h.privateIp ?? `${PRIVATE_NETWORK.prefix}${PRIVATE_NETWORK.firstHost + i}` } : {}),
    }));
}

/** The private network, when there is more than one host: in the first host's network zone. */
export function privateNetwork(hosts: readonly HostSpec[]): Catalog["privateNetwork"] {
    if (hosts.length < 2) return undefined;
    return { ipRange: PRIVATE_NETWORK.ipRange, subnet: PRIVATE_NETWORK.subnet, zone: NETWORK_ZONES[hosts[0].machine.location] ?? "eu-central" };
}

/**
 * Every service on its host. Cells replace the catalog's Janus and vk-agent with one copy of each per cell, named
 * `<id>-<cell>`, on the cell's host, Janus with the cell's RTP range and its own public name. A service no host
 * lists runs on the first host, except TURN with cells: coturn relays only to a Janus on its own host (render/coturn.ts),
 * so it follows the first cell.
 */
export function placeServices(cfg: CatalogInput, hosts: readonly HostSpec[], services: readonly ServiceSpec[], cell: (c: MediaCellInput, host: HostSpec | undefined) => ServiceSpec[]): ServiceSpec[] {
    const cells = cfg.mediaCells ?? [];
    const listed = new Map<string, string>();
    for (const h of cfg.hosts ?? []) for (const id of h.services ?? []) if (!listed.has(id)) listed.set(id, h.name);
    const first = hosts[0].name;
    const base = cells.length === 0 ? services : services.filter((s) => !CELL_COMPONENTS.includes(s.component));
    const placed = base.map((s) => ({ ...s, host: listed.get(s.id) ?? (s.component === "turn" && cells.length > 0 ? cells[0].host : first) }));
    // A second cell on a host is reported by placementIssues alone: its copies would only add port collisions.
    const usable = cells.filter((c, i) => cells.findIndex((o) => o.host === c.host) === i);
    return [...placed, ...usable.flatMap((c) => cell(c, hosts.find((h) => h.name === c.host)))];
}

/** The cells as platform-api and the outputs see them. */
export function mediaCellSpecs(cfg: CatalogInput, services: readonly ServiceSpec[]): MediaCellSpec[] {
    return (cfg.mediaCells ?? []).map((c) => {
        const janus = services.find((s) => s.cell === c.name && s.component === "janus");
        const ws = janus?.routes[0];
        const http = janus && portOf(janus.ports, "http", janus.id);
        return {
            name: c.name,
            host: c.host,
            janusUrl: ws ? httpsUrl(ws.hostname).replace(/^https:/, "wss:") : "",
            janusApiUrl: janus && http ? `http://${janus.bindAddress}:${http.port}/janus` : "",
            rtpPorts: { ...c.rtpPorts },
            drain: c.drain,
        };
    });
}

/**
 * What only placement shows: a service placed that does not exist or placed twice, a cell on an undeclared host, two
 * cells on one host, overlapping cell RTP ranges, Janus and vk-agent placed apart, hosts in two network zones, a
 * private address outside the subnet or taken twice. Never throws.
 */
export function placementIssues(cfg: CatalogInput, serviceIds: readonly string[], stack: string): CatalogIssue[] {
    const issues: CatalogIssue[] = [];
    const hosts = cfg.hosts ?? [];
    const names = hosts.map((h) => h.name);
    const cells = cfg.mediaCells ?? [];
    const file = `Pulumi.${stack}.yaml`;
    const where = new Map<string, string>();
    for (const h of hosts) {
        (h.services ?? []).forEach((id, i) => {
            const key = `visualkit:hosts.${h.name}.services[${i}]`;
            if (!serviceIds.includes(id)) {
                issues.push({ key, problem: `"${id}" is not a service of the catalog (known: ${serviceIds.join(", ")})`, fix: `correct the id, or remove it from the list in ${file}` });
            } else if (cells.length > 0 && CELL_COMPONENTS.includes(id as ComponentKind)) {
                issues.push({ key, problem: `"${id}" runs in the media cells (visualkit:mediaCells) once cells are declared, not on a host of its own`, fix: `remove it from the list; give its host a cell instead: visualkit:mediaCells.<cell>.host: ${h.name}` });
            } else if (where.has(id)) {
                issues.push({ key, problem: `"${id}" is already placed on host ${where.get(id)}; a service runs on one host`, fix: `remove it from one of the two lists in ${file}` });
            } else where.set(id, h.name);
        });
    }
    if (cells.length === 0 && (where.get("janus") ?? names[0]) !== (where.get("vk-agent") ?? names[0])) {
        issues.push({ key: "visualkit:hosts", problem: `janus and vk-agent are placed on different hosts (${where.get("janus") ?? names[0]}, ${where.get("vk-agent") ?? names[0]}); Janus sends each call's RTP to vk-agent over the host's Docker bridge`, fix: `place them on one host, or declare a media cell: visualkit:mediaCells.<cell>.host: <host>` });
    }
    // coturn relays only to the Janus of its own host (render/coturn.ts turnSettings): TURN goes where a Janus is.
    const turnHost = where.get("turn");
    const janusHosts = cells.length > 0 ? cells.map((c) => c.host) : [where.get("janus") ?? names[0]];
    if (turnHost !== undefined && !janusHosts.includes(turnHost)) {
        const i = hosts.find((h) => h.name === turnHost)!.services!.indexOf("turn");
        issues.push({ key: `visualkit:hosts.${turnHost}.services[${i}]`, problem: `turn is placed on ${turnHost}, where no Janus runs; coturn relays only to the Janus of its own host`, fix: `place it on ${janusHosts.join(" or ")}, or leave it out (it follows ${cells.length > 0 ? "the first cell" : "Janus"})` });
    }
    // A cell's names share the hostname namespace with the routes (visualkit:hostnames); named here, by the cell's key.
    const labels = new Map(Object.entries(cfg.hostnames).map(([id, label]) => [label, id]));
    for (const c of cells) {
        for (const label of [`janus-${c.name}`, `agent-${c.name}`]) {
            const taken = labels.get(label);
            if (taken !== undefined) issues.push({ key: `visualkit:mediaCells.${c.name}`, problem: `its name ${label} is already visualkit:hostnames.${taken}`, fix: `rename the cell in ${file}, or give ${taken} another label: pulumi config set --path 'visualkit:hostnames.${taken}' ${taken.toLowerCase()}2 -s ${stack}` });
        }
    }
    const cellOf = new Map<string, string>();
    for (const c of cells) {
        const key = `visualkit:mediaCells.${c.name}`;
        if (!names.includes(c.host)) {
            issues.push({ key: `${key}.host`, problem: `host "${c.host}" is not declared under visualkit:hosts (declared: ${names.join(", ") || "none"})`, fix: `add it: visualkit:hosts.${c.host}: { type: cx22 } in ${file}, or name a declared host` });
        } else if (cellOf.has(c.host)) {
            issues.push({ key: `${key}.host`, problem: `host ${c.host} already runs cell "${cellOf.get(c.host)}"; a cell is a host of its own (its Janus takes the host's listeners)`, fix: `declare another host for it under visualkit:hosts` });
        } else cellOf.set(c.host, c.name);
        for (const other of cells.slice(0, cells.indexOf(c))) {
            if (other.rtpPorts.from <= c.rtpPorts.to && c.rtpPorts.from <= other.rtpPorts.to) {
                issues.push({ key: `${key}.rtpPorts`, problem: `${c.rtpPorts.from}-${c.rtpPorts.to} overlaps cell "${other.name}" (${other.rtpPorts.from}-${other.rtpPorts.to}); each cell has its own range, so a port names one cell in firewalls and captures`, fix: `give it a range of its own, e.g. ${other.rtpPorts.to + 1}-${Math.min(65535, other.rtpPorts.to + 1 + (c.rtpPorts.to - c.rtpPorts.from))}` });
            }
        }
    }
    if (hosts.length > 1) {
        const zones = new Set(hosts.map((h) => NETWORK_ZONES[h.location]));
        if (zones.size > 1) {
            issues.push({ key: "visualkit:hosts", problem: `the hosts are in more than one Hetzner network zone (${hosts.map((h) => `${h.name}: ${h.location}`).join(", ")}); one private network subnet spans one zone`, fix: `put every host in ${hosts[0].location}'s zone (fsn1, nbg1 and hel1 are eu-central)` });
        }
        const taken = new Map<string, string>();
        hosts.forEach((h, i) => {
            const ip = h.privateIp ?? `${PRIVATE_NETWORK.prefix}${PRIVATE_NETWORK.firstHost + i}`;
            const last = Number(ip.split(".")[3]);
            if (!ip.startsWith(PRIVATE_NETWORK.prefix) || !(last >= PRIVATE_NETWORK.firstHost && last <= 254)) {
                issues.push({ key: `visualkit:hosts.${h.name}.privateIp`, problem: `${ip} is not a host address of the subnet ${PRIVATE_NETWORK.subnet} (.1 is Hetzner's gateway)`, fix: `choose one of ${PRIVATE_NETWORK.prefix}${PRIVATE_NETWORK.firstHost}-254, or leave it out` });
            } else if (taken.has(ip)) {
                issues.push({ key: `visualkit:hosts.${h.name}.privateIp`, problem: `${ip} is already host ${taken.get(ip)}'s address`, fix: `give it another address of ${PRIVATE_NETWORK.subnet}, or leave both out (derived from their position)` });
            } else taken.set(ip, h.name);
        });
    }
    return issues;
}
