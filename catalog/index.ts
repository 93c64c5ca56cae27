import {
    MAIN_HOST,
    PLATFORM_NETWORK,
    STANDBY_PORT_OFFSET,
    STANDBY_SUFFIX,
    TURN_PORTS,
    TURN_RELAY_PORTS,
    VK_AGENT_ADDRESS,
    VK_AGENT_STANDBY_ADDRESS,
    WIDGET_CDN_ROOT,
    WIDGET_IMMUTABLE_PATH,
} from "./defaults";
import { containerPortOf, healthPort, httpsUrl, portOf, routeUrl } from "./derived";
import type { CatalogInput, MediaCellInput, PortId, RouteId } from "./input";
import { hostSpecs, mediaCellSpecs, placeServices, privateNetwork } from "./placement";
import type { Catalog, ContainerSpec, HostSpec, PagesSiteSpec, PortSpec, ProxyTarget, PublicCheck, RouteSpec, ServiceSpec, StandbySpec, StaticTarget } from "./types";

/**
 * Redis's health check. redis-cli takes the password from REDISCLI_AUTH (the container's environment, which `ps`
 * does not show): with `-a "$REDIS_PASSWORD"` the shell put the password on redis-cli's command line, readable by any
 * user on the host in `ps` every 30 s.
 */
export const REDIS_HEALTH_CHECK = "redis-cli ping | grep -q PONG";

export * from "./types";
export * from "./derived";

export function fqdn(label: string, domain: string): string {
    return label === "@" ? domain : `${label}.${domain}`;
}

/** Builds the catalog from its input (validated config). Pure: same input, same catalog. */
export function buildCatalog(cfg: CatalogInput): Catalog {
    const b = builders(cfg);
    const hosts = hostSpecs(cfg);
    // Janus listens where the other hosts can reach it: its host's private address once there is a private network.
    const janusBind = (host: HostSpec | undefined) => host?.privateIp ?? PLATFORM_NETWORK.gateway;
    const catalogServices = [platformApiService(b), vkAgentService(b), janusService(cfg, b), chatwootService(b), turnCatalogService(cfg, b), widgetCdnService(b)];
    const placed = placeServices(cfg, hosts, catalogServices, (c, host) => cellServices(cfg, b, c, janusBind(host)));
    const services = placed.map((s) => (s.id === "janus" ? { ...s, bindAddress: janusBind(hosts.find((h) => h.name === s.host)) } : s));
    const ownsZone = cfg.domain === cfg.zone;
    return deepFreeze({
        domain: cfg.domain,
        zone: cfg.zone,
        ownsZone,
        hosts,
        ...(privateNetwork(hosts) ? { privateNetwork: privateNetwork(hosts) } : {}),
        mediaCells: mediaCellSpecs(cfg, services),
        services: services.map(withStandbyPorts),
        pages: pagesSites(cfg, services),
        redirects: ownsZone ? [{ id: "www", label: cfg.hostnames.www, hostname: fqdn(cfg.hostnames.www, cfg.domain), to: httpsUrl(cfg.domain), status: 301 as const }] : [],
    });
}

/** The small constructors every service below is written with, bound to the stack's input. */
function builders(cfg: CatalogInput) {
    // Host-networked services (Janus) have no container side: their configs are rendered with the host port.
    const port = (id: string, portId: PortId, protocol: "tcp" | "udp", exposure: PortSpec["exposure"]): PortSpec => ({
        id,
        protocol,
        port: cfg.ports[portId],
        endPort: cfg.ports[portId],
        containerPort: containerPortOf(cfg.ports[portId], portId),
        exposure,
        configKey: `visualkit:ports.${portId}`,
    });
    // Ports no config key moves (the TURN service's, catalog/defaults.ts): public to everyone.
    const fixed = (id: string, protocol: "tcp" | "udp", p: number): PortSpec => ({
        id,
        protocol,
        port: p,
        endPort: p,
        containerPort: p,
        exposure: "public",
        configKey: "catalog/defaults.ts TURN_PORTS",
    });
    const route = (id: RouteId, target: ProxyTarget | StaticTarget, check?: PublicCheck): RouteSpec => ({
        id,
        label: cfg.hostnames[id],
        hostname: fqdn(cfg.hostnames[id], cfg.domain),
        target,
        proxied: false,
        check,
    });
    const http = (path: string, expectStatus = 200): PublicCheck => ({ kind: "http", path, expectStatus });
    const ws = (subprotocol?: string): PublicCheck => ({ kind: "websocket", path: "/", expectStatus: 101, subprotocol });
    const separateWs = cfg.images.websocket !== undefined;
    // Stateless HTTP containers behind Caddy get a standby copy (when the stack wants them): Caddy's upstream pool is
    // the pair, and the two are replaced one after the other. Stateful containers (Postgres, Redis, Janus with its
    // calls) and workers (sidekiq) have none.
    const standby = (name: string, networkAddress?: string): { standby?: StandbySpec } =>
        cfg.standbyReplicas ? { standby: { name: `${name}${STANDBY_SUFFIX}`, ...(networkAddress ? { networkAddress } : {}) } } : {};

    return { port, fixed, route, http, ws, standby, separateWs, loopback: "127.0.0.1" };
}

type Builders = ReturnType<typeof builders>;

/** platform-api: the backend and its WebSocket server (a second container when the stack has a WebSocket image). */
function platformApiService(b: Builders): ServiceSpec {
    const { port, route, http, ws, standby, separateWs, loopback } = b;
    const apiPorts = [port("http", "platformApi", "tcp", "proxied"), port("ws", "websocket", "tcp", "proxied")];
    return {
        id: "platform-api",
        component: "platform-api",
        description: "Fastify + tRPC backend and its WebSocket server",
        host: MAIN_HOST,
        bindAddress: loopback,
        containers: [
            {
                name: "platform-api",
                image: "platformApi",
                publishes: separateWs ? ["http"] : ["http", "ws"],
                health: { kind: "http", port: healthPort(apiPorts, "http"), path: "/health" },
                ...standby("platform-api"),
            },
            ...(separateWs
                ? [{ name: "platform-ws", image: "websocket" as const, publishes: ["ws"], health: { kind: "tcp" as const, port: healthPort(apiPorts, "ws") }, ...standby("platform-ws") }]
                : []),
        ],
        ports: apiPorts,
        routes: [
            route("api", { kind: "proxy", port: "http" }, http("/health")),
            route("ws", { kind: "proxy", port: "ws", websocket: {} }, ws()),
        ],
    };
}

/** vk-agent: the voice AI agent. */
function vkAgentService(b: Builders): ServiceSpec {
    const { port, route, http, standby, loopback } = b;
    // RTP from Janus arrives over the bridge network; the reference published it to the world.
    const agentPorts = [port("http", "vkAgent", "tcp", "proxied"), port("rtp", "vkAgentRtp", "udp", "internal")];
    return {
        id: "vk-agent",
        component: "vk-agent",
        description: "Python voice AI agent bridging Janus RTP and the Gemini Live API",
        host: MAIN_HOST,
        bindAddress: loopback,
        networkAddress: VK_AGENT_ADDRESS,
        containers: [
            {
                name: "vk-agent",
                image: "vkAgent",
                publishes: ["http"],
                health: { kind: "http", port: healthPort(agentPorts, "http"), path: "/health" },
                ...standby("vk-agent", VK_AGENT_STANDBY_ADDRESS),
            },
        ],
        ports: agentPorts,
        routes: [route("agent", { kind: "proxy", port: "http" }, http("/health"))],
    };
}

/** Janus: host networking, its RTP range public. */
function janusService(cfg: CatalogInput, b: Builders): ServiceSpec {
    const { port, route, http, ws } = b;
    const janusPorts: PortSpec[] = [
        port("http", "janusHttp", "tcp", "proxied"),
        port("ws", "janusWs", "tcp", "proxied"),
        port("admin", "janusAdmin", "tcp", "internal"),
        {
            id: "rtp",
            protocol: "udp",
            port: cfg.janus.rtpPorts.from,
            endPort: cfg.janus.rtpPorts.to,
            containerPort: containerPortOf(cfg.janus.rtpPorts.from),
            exposure: "public",
            configKey: "visualkit:janusRtpPorts",
        },
    ];
    return {
        id: "janus",
        component: "janus",
        description: "Janus WebRTC gateway (host networking, listeners on the bridge gateway only)",
        host: MAIN_HOST,
        bindAddress: PLATFORM_NETWORK.gateway,
        containers: [{ name: "janus-gateway", image: "janus", publishes: [], health: { kind: "http", port: healthPort(janusPorts, "http"), path: "/janus/info" } }],
        ports: janusPorts,
        routes: [
            route("janus", { kind: "proxy", port: "ws", websocket: { subprotocol: "janus-protocol" } }, ws("janus-protocol")),
            // Janus's HTTP transport reads a whole body into memory before it checks the token (janus_http.c
            // reallocs without a limit); Janus API messages, SDP included, are a few KB.
            route("janusApi", { kind: "proxy", port: "http", maxRequestBody: "64KB" }, http("/janus/info")),
        ],
    };
}

/** Chatwoot: rails, sidekiq, Postgres and Redis. */
function chatwootService(b: Builders): ServiceSpec {
    const { port, route, http, standby, loopback } = b;
    const chatwootPorts = [port("http", "chatwoot", "tcp", "proxied")];
    return {
        id: "chatwoot",
        component: "chatwoot",
        description: "Chatwoot support chat: rails, sidekiq, Postgres (pgvector) and Redis",
        host: MAIN_HOST,
        bindAddress: loopback,
        containers: [
            { name: "chatwoot-rails", image: "chatwoot", publishes: ["http"], health: { kind: "http", port: healthPort(chatwootPorts, "http"), path: "/api" }, ...standby("chatwoot-rails") },
            { name: "chatwoot-sidekiq", image: "chatwoot", publishes: [], health: { kind: "command", test: ["CMD-SHELL", "pgrep -f sidekiq >/dev/null"] } },
            { name: "chatwoot-postgres", image: "postgres", publishes: [], health: { kind: "command", test: ["CMD-SHELL", "pg_isready -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\""] } },
            { name: "chatwoot-redis", image: "redis", publishes: [], health: { kind: "command", test: ["CMD-SHELL", REDIS_HEALTH_CHECK] } },
        ],
        ports: chatwootPorts,
        routes: [
            // Chatwoot's widget is an iframe of /widget on customers' pages, and shows help-center articles (/hc/...)
            // inside it, so X-Frame-Options must go there. Only there: the agent dashboard (/app) and its login stay
            // unframeable (the reference stripped it for the whole site, which allows clickjacking the dashboard).
            route(
                "support",
                { kind: "proxy", port: "http", removeResponseHeaders: [{ header: "X-Frame-Options", paths: ["/widget", "/widget/*", "/hc/*"] }] },
                http("/api"),
            ),
        ],
    };
}

/** coturn: fixed ports, a name of its own on the TURN address. */
function turnCatalogService(cfg: CatalogInput, b: Builders): ServiceSpec {
    const { fixed } = b;
    return {
        id: "turn",
        component: "turn",
        description: "coturn TURN server: relays media for callers whose network blocks UDP or direct paths (docs/turn.md)",
        host: MAIN_HOST,
        // The TURN address is only known once Hetzner assigns it; coturn's config gets it from HetznerHost.
        bindAddress: "turnIpv4",
        containers: [],
        ports: [
            fixed("stun", "udp", TURN_PORTS.plain),
            fixed("stun-tcp", "tcp", TURN_PORTS.plain),
            { ...fixed("tls", "tcp", TURN_PORTS.tls), redirectFrom: TURN_PORTS.tlsAlias },
            { ...fixed("relay", "udp", TURN_RELAY_PORTS.from), endPort: TURN_RELAY_PORTS.to },
        ],
        routes: [],
        names: [{ id: "turn", label: cfg.hostnames.turn, hostname: fqdn(cfg.hostnames.turn, cfg.domain), address: "turnIpv4" }],
    };
}

/** The widget CDN: static files Caddy serves. */
function widgetCdnService(b: Builders): ServiceSpec {
    const { route, loopback } = b;
    return {
        id: "widget-cdn",
        component: "widget-cdn",
        description: "Static widget SDK files served by Caddy from the data volume",
        host: MAIN_HOST,
        bindAddress: loopback,
        containers: [],
        ports: [],
        routes: [
            route("cdn", {
                kind: "static",
                root: WIDGET_CDN_ROOT,
                headers: {
                    "Access-Control-Allow-Origin": "*",
                    "Access-Control-Allow-Methods": "GET, OPTIONS",
                },
                // A year's `immutable` only where a name never gets new bytes; a moving name is cached 5 minutes
                // (then revalidated by ETag), the time a widget release or rollback takes to reach every browser.
                cacheControl: { immutablePath: WIDGET_IMMUTABLE_PATH, immutable: "public, max-age=31536000, immutable", mutable: "public, max-age=300, must-revalidate" },
            }),
        ],
    };
}

/**
 * One media cell's Janus and vk-agent: the catalog's own two services with the cell's id suffix, host, RTP range and
 * public names (`janus-<cell>` for Janus's WebSocket, `agent-<cell>` for the agent). Janus's HTTP API gets no public
 * name: platform-api reaches it on the cell host's private address (MediaCellSpec.janusApiUrl).
 */
function cellServices(cfg: CatalogInput, b: Builders, c: MediaCellInput, bindAddress: string): ServiceSpec[] {
    // Route ids are camelCase (endpoint keys in the outputs); the DNS key kebab-cases it back (`janusEu1` → janus-eu1).
    const id = (kind: string) => kind + c.name.split("-").map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
    const cellRoute = (r: RouteSpec, kind: string): RouteSpec => ({ ...r, id: id(kind), label: `${kind}-${c.name}`, hostname: fqdn(`${kind}-${c.name}`, cfg.domain) });
    const janus = janusService({ ...cfg, janus: { ...cfg.janus, rtpPorts: c.rtpPorts } }, b);
    const agent = vkAgentService(b);
    return [
        {
            ...janus,
            id: `janus-${c.name}`,
            cell: c.name,
            host: c.host,
            bindAddress,
            ports: janus.ports.map((p) => (p.id === "rtp" ? { ...p, configKey: `visualkit:mediaCells.${c.name}.rtpPorts` } : p)),
            routes: janus.routes.filter((r) => r.id === "janus").map((r) => cellRoute(r, "janus")),
        },
        { ...agent, id: `vk-agent-${c.name}`, cell: c.name, host: c.host, routes: agent.routes.map((r) => cellRoute(r, "agent")) },
    ];
}

/** The Pages sites, their build variables naming the routes' own URLs. */
function pagesSites(cfg: CatalogInput, services: ServiceSpec[]): PagesSiteSpec[] {
    // Build variables name the routes' own URLs, so a route that turns WebSocket changes its scheme here too.
    // With media cells there is no `janus`/`agent` route: the meeting app is built with the first cell's, and must take
    // the cell platform-api assigns a call (docs/hosts.md "What the app does with the cells").
    const firstCell = cfg.mediaCells?.[0]?.name;
    const url = (id: RouteId) => {
        const cellName = firstCell && (id === "janus" || id === "agent") ? `${id}-${firstCell}` : undefined;
        const r = services.flatMap((s) => s.routes).find((x) => (cellName ? x.label === cellName : x.id === id));
        if (!r) throw new Error(`catalog: no route ${id}`);
        return routeUrl(r);
    };
    const appUrl = httpsUrl(fqdn(cfg.hostnames.app, cfg.domain));
    const apiEnv = { VITE_API_URL: url("api"), VITE_WS_URL: url("ws") };
    const site = (id: PagesSiteSpec["id"], routeId: RouteId, buildEnv: Record<string, string>): PagesSiteSpec => ({
        id,
        project: `visualkit-${id}${cfg.pages.projectSuffix}`,
        routeId,
        label: cfg.hostnames[routeId],
        hostname: fqdn(cfg.hostnames[routeId], cfg.domain),
        rootDir: `${cfg.pages.appsDir}/${id}`,
        buildEnv,
    });
    return cfg.pages.enabled
        ? [
              site("landing", "landing", { VITE_APP_URL: appUrl }),
              site("dashboard", "app", { ...apiEnv, VITE_SUPPORT_URL: url("support"), VITE_CDN_URL: url("cdn") }),
              site("meeting", "meet", { ...apiEnv, VITE_JANUS_URL: url("janus"), VITE_AGENT_URL: url("agent") }),
          ]
        : [];
}

/** Each port published by a container that has a standby gets the standby's host port, derived here once. */
function withStandbyPorts(service: ServiceSpec): ServiceSpec {
    const standbyPublished = new Set(service.containers.filter((c) => c.standby).flatMap((c) => c.publishes));
    return { ...service, ports: service.ports.map((p) => (standbyPublished.has(p.id) ? { ...p, standbyPort: p.port + STANDBY_PORT_OFFSET } : p)) };
}

/** The container of a service that publishes a port (the one Caddy's upstreams for that port are). */
export function publisherOf(service: ServiceSpec, portId: string): ContainerSpec | undefined {
    return service.containers.find((c) => c.publishes.includes(portId));
}

/** Every route of every service (the hostnames that land on a VPS). */
export function hostRoutes(catalog: Catalog, host?: string): { service: ServiceSpec; route: RouteSpec }[] {
    return catalog.services
        .filter((s) => host === undefined || s.host === host)
        .flatMap((service) => service.routes.map((route) => ({ service, route })));
}

/** The port a proxy route sends traffic to. */
export function upstreamOf(service: ServiceSpec, target: ProxyTarget): PortSpec {
    return portOf(service.ports, target.port, `a route of service ${service.id}`);
}

export function deepFreeze<T>(value: T): T {
    if (value && typeof value === "object" && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const v of Object.values(value)) deepFreeze(v);
    }
    return value;
}
