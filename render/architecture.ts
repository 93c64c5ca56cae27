import { RESERVED_HOST_PORTS } from "../catalog/defaults";
import { upstreamOf } from "../catalog";
import { httpsUrl, portOf, portRangeText, routeUrl } from "../catalog/derived";
import type { Catalog, ContainerSpec, HostSpec, PortSpec, RouteSpec, ServiceSpec } from "../catalog/types";

/**
 * The architecture picture: Markdown with a Mermaid flowchart and two tables, generated from the catalog so it can
 * never disagree with what is deployed. Pure (no `@pulumi/*` import); index.ts publishes it as architecture.md.
 *
 * Picture: browsers → Cloudflare (DNS-only records of the VPS hostnames, Pages sites, the www redirect) → Caddy on
 * each host → the containers and the ports they listen on; plus the UDP media path Browser ⇄ Janus ⇄ vk-agent ⇄
 * Gemini, which bypasses Caddy.
 */

export interface ArchitectureOptions {
    readonly stack: string;
}

/** Mermaid node ids: letters, digits and `_`, prefixed so no id is a keyword such as `end`. */
function nodeId(prefix: string, ...parts: string[]): string {
    return [prefix, ...parts].join("_").replace(/[^A-Za-z0-9_]/g, "_");
}

/** A container's node: its Docker name, and its cell's when a media cell repeats the name on another host. */
function containerNode(service: ServiceSpec, c: ContainerSpec): string {
    return service.cell ? nodeId("c", c.name, service.cell) : nodeId("c", c.name);
}

/** A quoted Mermaid label: `"` and `#` are entity-coded, `\n` becomes a line break. */
function label(text: string): string {
    return `"${text.replace(/#/g, "#35;").replace(/"/g, "#quot;").replace(/\n/g, "<br/>")}"`;
}

/**
 * Where a port listens: the service's bind address, its bridge address for internal UDP, every address when public —
 * unless the service has an address of its own that is only known after deploy (TURN's `turnIpv4`).
 */
function listenAddress(service: ServiceSpec, p: PortSpec): string {
    const ownAddress = !/^[0-9a-f.:]+$/i.test(service.bindAddress);
    const address = p.exposure === "public" ? (ownAddress ? service.bindAddress : "0.0.0.0") : p.protocol === "udp" && service.networkAddress ? service.networkAddress : service.bindAddress;
    const inside = p.containerPort !== p.port ? ` → container ${p.containerPort}` : "";
    return `${address}:${portRangeText(p)}/${p.protocol}${inside}`;
}

/** Ports a container listens on: those it publishes; ports nobody publishes belong to the service's first container. */
function portsOf(service: ServiceSpec, container: ContainerSpec): PortSpec[] {
    const published = new Set(service.containers.flatMap((c) => c.publishes));
    const first = service.containers[0] === container;
    return service.ports.filter((p) => container.publishes.includes(p.id) || (first && !published.has(p.id)));
}

/** The container a route's traffic reaches (the one listening on the route's upstream port). */
function containerOf(service: ServiceSpec, route: RouteSpec): ContainerSpec | undefined {
    if (route.target.kind !== "proxy") return undefined;
    const portId = route.target.port;
    return service.containers.find((c) => portsOf(service, c).some((p) => p.id === portId));
}

function hostLines(catalog: Catalog, host: HostSpec): string[] {
    const caddyPorts = RESERVED_HOST_PORTS.filter((p) => p.owner.startsWith("Caddy (")).map((p) => `${p.protocol.toUpperCase()} ${p.port}`);
    const services = catalog.services.filter((s) => s.host === host.name);
    const caddy = nodeId("caddy", host.name);
    const lines = [
        `  subgraph ${nodeId("host", host.name)}[${label(`Hetzner host ${host.name} · Docker network ${host.network.name} ${host.network.subnet}`)}]`,
        `    ${caddy}[${label(`Caddy · TLS\n${caddyPorts.join(", ")}`)}]`,
    ];
    const files: string[] = [];
    const edges: string[] = [];
    for (const service of services) {
        for (const c of service.containers) {
            const ports = portsOf(service, c).map((p) => `${p.id} ${listenAddress(service, p)} (${p.exposure})`);
            lines.push(`    ${containerNode(service, c)}[${label([c.name, ...ports].join("\n"))}]`);
        }
        // A service that runs on the host itself (coturn from Debian's package), not in a container.
        if (service.containers.length === 0 && service.ports.length > 0) {
            const ports = service.ports.map((p) => `${p.id} ${listenAddress(service, p)} (${p.exposure})${p.redirectFrom ? ` + TCP ${p.redirectFrom} redirected` : ""}`);
            lines.push(`    ${nodeId("s", service.id)}[${label([`${service.id} (host service)`, ...ports].join("\n"))}]`);
        }
        for (const route of service.routes) {
            const text = routeUrl(route);
            if (route.target.kind === "static") {
                const id = nodeId("files", route.id);
                files.push(`    ${id}[(${label(`files ${route.target.root}`)})]`);
                edges.push(`  ${caddy} -->|${label(text)}| ${id}`);
                continue;
            }
            const c = containerOf(service, route);
            const upstream = upstreamOf(service, route.target);
            if (c) edges.push(`  ${caddy} -->|${label(`${text} → ${service.bindAddress}:${upstream.port}`)}| ${containerNode(service, c)}`);
        }
    }
    lines.push(...files, "  end");
    return [...lines, ...edges];
}

/** Browser ⇄ Janus (public UDP range) ⇄ vk-agent (internal RTP) ⇄ Gemini; left out when those services are not in the catalog. */
function mediaLines(catalog: Catalog): string[] {
    // One Janus, or one per media cell, each with the vk-agent of its own host.
    return catalog.services.filter((s) => s.component === "janus").flatMap((janus) => janusMediaLines(catalog, janus));
}

function janusMediaLines(catalog: Catalog, janus: ServiceSpec): string[] {
    const agent = catalog.services.find((s) => s.component === "vk-agent" && s.host === janus.host);
    const janusRtp = janus?.ports.find((p) => p.protocol === "udp" && p.exposure === "public");
    const agentRtp = agent?.ports.find((p) => p.protocol === "udp");
    if (!janus?.containers[0] || !agent?.containers[0] || !janusRtp || !agentRtp) return [];
    const j = containerNode(janus, janus.containers[0]);
    const a = containerNode(agent, agent.containers[0]);
    const turnHere = catalog.services.some((s) => s.component === "turn" && s.host === janus.host) || !catalog.services.some((s) => s.component === "turn");
    return [
        `  browser <-.->|${label(`WebRTC media · UDP ${portRangeText(janusRtp)} (public)`)}| ${j}`,
        `  ${j} <-.->|${label(`RTP · ${listenAddress(agent, agentRtp)} (${agentRtp.exposure})`)}| ${a}`,
        `  ${a} <-->|${label("Live API · WSS")}| gemini`,
        ...(turnHere ? turnLines(catalog, janus, janusRtp) : []),
    ];
}

/** Callers without a direct UDP path: Browser ⇄ coturn (TURN over UDP, TCP or TLS 443) ⇄ Janus's RTP range. */
function turnLines(catalog: Catalog, janus: ServiceSpec, janusRtp: PortSpec): string[] {
    const turn = catalog.services.find((s) => s.id === "turn");
    if (!turn || !janus.containers[0]) return [];
    const tls = portOf(turn.ports, "tls", "turn");
    const relay = portOf(turn.ports, "relay", "turn");
    const t = nodeId("s", turn.id);
    return [
        `  browser <-.->|${label(`TURN · UDP/TCP ${turn.ports[0].port}, TLS ${tls.redirectFrom ?? tls.port} and ${tls.port}`)}| ${t}`,
        `  ${t} <-.->|${label(`relayed media · UDP ${portRangeText(relay)} → ${portRangeText(janusRtp)}`)}| ${containerNode(janus, janus.containers[0])}`,
    ];
}

export function renderMermaid(catalog: Catalog): string {
    const redirects = catalog.redirects;
    const lines = ["flowchart LR", `  browser([${label("Browsers and widget embeds")}])`, `  gemini([${label("Gemini Live API (Google)")}])`];
    lines.push(`  subgraph cloudflare[${label(`Cloudflare · ${catalog.domain}`)}]`);
    const dnsEdges: string[] = [];
    for (const host of catalog.hosts) {
        for (const service of catalog.services.filter((s) => s.host === host.name)) {
            for (const route of service.routes) {
                const id = nodeId("dns", route.id);
                lines.push(`    ${id}[${label(`${route.hostname}\nA + AAAA · ${route.proxied ? "proxied" : "DNS only"}`)}]`);
                dnsEdges.push(`  ${id} --> ${nodeId("caddy", host.name)}`);
            }
            for (const n of service.names ?? []) {
                const id = nodeId("dns", n.id);
                lines.push(`    ${id}[${label(`${n.hostname}\nA ${n.address} · DNS only`)}]`);
                dnsEdges.push(`  ${id} --> ${nodeId("s", service.id)}`);
            }
        }
    }
    for (const site of catalog.pages) lines.push(`    ${nodeId("pages", site.id)}[${label(`${site.hostname}\nPages ${site.project} · ${site.rootDir}`)}]`);
    for (const r of redirects) lines.push(`    ${nodeId("redirect", r.id)}[${label(`${r.hostname}\nredirect ${r.status} → ${r.to}`)}]`);
    lines.push("  end");
    lines.push(`  browser -->|${label("HTTPS · WSS")}| cloudflare`);
    for (const r of redirects) {
        const target = catalog.pages.find((p) => httpsUrl(p.hostname) === r.to);
        if (target) lines.push(`  ${nodeId("redirect", r.id)} -.-> ${nodeId("pages", target.id)}`);
    }
    for (const host of catalog.hosts) lines.push(...hostLines(catalog, host));
    lines.push(...dnsEdges, ...mediaLines(catalog));
    return lines.join("\n") + "\n";
}

function cell(text: string): string {
    return text.replace(/\|/g, "\\|");
}

export function renderArchitecture(catalog: Catalog, opts: ArchitectureOptions): string {
    const redirects = catalog.redirects;
    const hostnames = [
        ...catalog.services.flatMap((s) =>
            s.routes.map((r) => {
                const to = r.target.kind === "static" ? `files ${r.target.root}` : `${s.id} ${s.bindAddress}:${upstreamOf(s, r.target).port}`;
                return `| \`${routeUrl(r)}\` | A + AAAA, ${r.proxied ? "proxied" : "DNS only"} | Caddy on ${s.host} → ${cell(to)} |`;
            }),
        ),
        ...catalog.pages.map((p) => `| \`${httpsUrl(p.hostname)}\` | CNAME → ${p.project}.pages.dev, proxied | Cloudflare Pages \`${p.project}\` (${p.rootDir}) |`),
        ...redirects.map((r) => `| \`${httpsUrl(r.hostname)}\` | proxied | redirect ${r.status} → ${r.to} |`),
    ];
    const ports = catalog.services.flatMap((s) =>
        s.ports.map((p) => `| ${s.host} | ${s.id} | ${p.id} | \`${listenAddress(s, p)}\` | ${p.exposure} | \`${p.configKey}\` |`),
    );
    return [
        `# Architecture of the \`${opts.stack}\` stack`,
        "",
        "Generated by `npm run render` from the service catalog (`catalog/`); do not edit — change the catalog or the",
        "stack config and re-render. Dotted lines carry UDP media, which does not pass through Caddy.",
        "",
        "```mermaid",
        renderMermaid(catalog).trimEnd(),
        "```",
        "",
        "## Public hostnames",
        "",
        "| URL | DNS | Served by |",
        "|---|---|---|",
        ...hostnames,
        "",
        "## Ports",
        "",
        "`proxied`: reachable only through Caddy; `public`: open in the host firewall; `internal`: never reachable from outside the host.",
        "",
        "| Host | Service | Port | Listens on | Exposure | Set by |",
        "|---|---|---|---|---|---|",
        ...ports,
        "",
    ].join("\n");
}
