/**
 * The service catalog: plain data describing what runs on the platform. Every DNS record, Caddy site, firewall
 * rule, container port binding, health check and stack output is derived from it, so a port or hostname is
 * written once.
 */

export type Protocol = "tcp" | "udp";

/**
 * - `proxied`: reachable from the internet only through Caddy; the port listens on a loopback/bridge address.
 * - `public`: opened in the host firewall to the whole internet (media ranges).
 * - `internal`: never reachable from outside the host.
 */
export type Exposure = "proxied" | "public" | "internal";

export interface PortSpec {
    /** Id unique within the service, e.g. `http`. */
    readonly id: string;
    readonly protocol: Protocol;
    /** Port on the host (first port of a range). */
    readonly port: number;
    /** Last port of a range; equal to `port` for a single port. */
    readonly endPort: number;
    /** Port inside the container when it differs from the host port (Chatwoot listens on 3000). */
    readonly containerPort: number;
    /**
     * Host port the standby copy of the publishing container listens on (see `ContainerSpec.standby`); Caddy sends
     * traffic there while the primary is being replaced. Absent when the port has no standby.
     */
    readonly standbyPort?: number;
    readonly exposure: Exposure;
    /** The config key that sets this port, for error messages. */
    readonly configKey: string;
    /**
     * Another TCP port of the service's own address that the host redirects to this one (TURN over TLS on 443 of the
     * TURN address); the firewall opens it too. It is not a second listener and not the host's 443.
     */
    readonly redirectFrom?: number;
}

export interface ProxyTarget {
    readonly kind: "proxy";
    /** Id of the port (in the same service) requests go to. */
    readonly port: string;
    /** WebSocket endpoint; `subprotocol` is what clients must offer (Janus requires `janus-protocol`). */
    readonly websocket?: { readonly subprotocol?: string };
    /**
     * Response headers the upstream sets that must not reach the browser, each on the request paths given (Caddy path
     * patterns: `/widget`, `/hc/*`) and nowhere else.
     */
    readonly removeResponseHeaders?: readonly { readonly header: string; readonly paths: readonly string[] }[];
    /** Largest request body Caddy passes on (Caddy size, `64KB`); a larger one is refused before the upstream sees it. */
    readonly maxRequestBody?: string;
}

export interface StaticTarget {
    readonly kind: "static";
    /** Folder on the host the files are served from. */
    readonly root: string;
    /** Response headers set on every file. */
    readonly headers: Readonly<Record<string, string>>;
    /**
     * Cache-Control by name. Paths matching `immutablePath` (a regular expression: a release's own version folder or a
     * content-hashed file name, whose bytes never change) get `immutable`; every other path (a name each release
     * overwrites, such as /widget.js or /v1/widget.js) gets `mutable`, so a release or a rollback reaches browsers
     * within its max-age instead of a year later.
     */
    readonly cacheControl?: { readonly immutablePath: string; readonly immutable: string; readonly mutable: string };
}

export interface PublicCheck {
    readonly kind: "http" | "websocket";
    readonly path: string;
    readonly expectStatus: number;
    readonly subprotocol?: string;
}

export interface RouteSpec {
    /** Id as used in `visualkit:hostnames`, e.g. `janusApi`. */
    readonly id: string;
    /** Label under the domain; `@` is the domain itself. */
    readonly label: string;
    /** Fully qualified hostname. */
    readonly hostname: string;
    readonly target: ProxyTarget | StaticTarget;
    /** Cloudflare proxy on the DNS record. The reference keeps VPS hostnames DNS-only (Caddy terminates TLS). */
    readonly proxied: boolean;
    /** How the smoke checker proves the route works from the internet. */
    readonly check?: PublicCheck;
}

/** `port` is the port inside the container; `tcp` only proves something accepts connections (servers with no health URL). */
export type ContainerHealth =
    | { readonly kind: "http"; readonly port: number; readonly path: string }
    | { readonly kind: "tcp"; readonly port: number }
    | { readonly kind: "command"; readonly test: readonly string[] };

export interface ContainerSpec {
    /** Container name on the host, as `docker ps` shows it. */
    readonly name: string;
    /** Which `image*` config key supplies the image. */
    readonly image: ImageKey;
    /** Ids of the service ports this container publishes on the host. */
    readonly publishes: readonly string[];
    readonly health?: ContainerHealth;
    /**
     * A second copy of the container that carries the traffic while the first is replaced, so an image change loses
     * no request (docs/deploys.md). Only stateless HTTP containers behind Caddy have one.
     */
    readonly standby?: StandbySpec;
}

export interface StandbySpec {
    /** Docker name of the standby copy. */
    readonly name: string;
    /** Its fixed address on the platform network, when the service has one (`ServiceSpec.networkAddress`). */
    readonly networkAddress?: string;
}

/** A DNS name of a service that is not a Caddy route (the TURN hostname). */
export interface ServiceName {
    /** Id as used in `visualkit:hostnames`, e.g. `turn`. */
    readonly id: string;
    readonly label: string;
    readonly hostname: string;
    /** The host address the name points at: `turnIpv4` is the host's dedicated TURN address (HetznerHost). */
    readonly address: "turnIpv4";
}

/**
 * Which component deploys a service (index.ts looks it up in program/services.ts): the service's own id for the
 * catalog's services, `janus`/`vk-agent` for each media cell's copies (`janus-<cell>`).
 */
export type ComponentKind = "platform-api" | "vk-agent" | "janus" | "chatwoot" | "turn" | "widget-cdn";

export interface ServiceSpec {
    readonly id: string;
    /** The component that deploys it. */
    readonly component: ComponentKind;
    /** The media cell it belongs to (`visualkit:mediaCells.<cell>`); absent outside cells. @default none */
    readonly cell?: string;
    readonly description: string;
    /** Name of the host (see `Catalog.hosts`) the service runs on. */
    readonly host: string;
    /** Host address its published ports listen on: loopback, or the bridge gateway for host-networked Janus. */
    readonly bindAddress: string;
    /** Fixed address on the platform bridge network, where other containers must reach it. */
    readonly networkAddress?: string;
    readonly containers: readonly ContainerSpec[];
    readonly ports: readonly PortSpec[];
    readonly routes: readonly RouteSpec[];
    /** DNS names that are not Caddy routes (the TURN hostname). @default none */
    readonly names?: readonly ServiceName[];
}

export interface HostSpec {
    readonly name: string;
    /** Mount point of the persistent data volume. */
    readonly dataDir: string;
    /** The user bridge network the containers share (fixed so host-networked Janus and vk-agent can meet). */
    readonly network: { readonly name: string; readonly subnet: string; readonly gateway: string; readonly ipRange: string };
    /** Hetzner server type, location and data volume (`visualkit:hosts.<name>`, else the single-host keys). */
    readonly machine: { readonly serverType: string; readonly location: string; readonly volumeSizeGb: number };
    /** Its fixed address on the private network; only when the stack has more than one host. @default none */
    readonly privateIp?: string;
}

/** A media cell: Janus and vk-agent on one host, its own public name and RTP range (docs/hosts.md). */
export interface MediaCellSpec {
    readonly name: string;
    readonly host: string;
    /** Public WebSocket URL of its Janus (`wss://janus-<cell>.<domain>`), what callers connect to. */
    readonly janusUrl: string;
    /** Janus's HTTP API on the cell host's private address, where platform-api creates rooms. */
    readonly janusApiUrl: string;
    readonly rtpPorts: { readonly from: number; readonly to: number };
    /** Draining: out of platform-api's MEDIA_CELLS (no new sessions), still serving its calls. */
    readonly drain: boolean;
}

export interface PagesSiteSpec {
    readonly id: "landing" | "dashboard" | "meeting";
    /** Cloudflare Pages project name (with the stack's suffix). */
    readonly project: string;
    /** Id of its hostname in `visualkit:hostnames` (`landing`, `app`, `meet`). */
    readonly routeId: string;
    readonly label: string;
    readonly hostname: string;
    /** Folder of the app in the repository. */
    readonly rootDir: string;
    /** Build-time variables derived from the catalog, so a renamed hostname never leaves a stale URL in a build. */
    readonly buildEnv: Readonly<Record<string, string>>;
}

export interface RedirectSpec {
    readonly id: string;
    readonly label: string;
    readonly hostname: string;
    /** Target origin; path and query are kept. */
    readonly to: string;
    readonly status: 301 | 302;
}

export type ImageKey = "platformApi" | "websocket" | "vkAgent" | "janus" | "chatwoot" | "postgres" | "redis";

export interface Catalog {
    readonly domain: string;
    /** The Cloudflare zone the domain lives in. */
    readonly zone: string;
    /**
     * Whether this stack owns the zone's zone-wide settings (the redirect ruleset, TLS settings). A zone has one
     * entrypoint ruleset per phase and one value per setting, and dev (`dev.visualkit.live`) shares prod's zone, so
     * only the stack whose domain is the zone itself manages them.
     */
    readonly ownsZone: boolean;
    readonly hosts: readonly HostSpec[];
    /** The Hetzner private network joining the hosts; absent with one host. @default none */
    readonly privateNetwork?: { readonly ipRange: string; readonly subnet: string; readonly zone: string };
    /** Media cells in stack-file order; empty without `visualkit:mediaCells`. */
    readonly mediaCells: readonly MediaCellSpec[];
    readonly services: readonly ServiceSpec[];
    readonly pages: readonly PagesSiteSpec[];
    /** Redirect-only hostnames; empty unless the stack owns the zone (their rules live in the zone's one ruleset). */
    readonly redirects: readonly RedirectSpec[];
}
