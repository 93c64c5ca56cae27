import prices from "./prices.json";
import type { ImageKey } from "./types";

/**
 * What the catalog is built from, declared by the catalog itself: config produces these values and the catalog never
 * looks at config. The id tables are part of the input: they say which ports and hostnames exist and what each is
 * unless the stack overrides it (`visualkit:ports`, `visualkit:hostnames`).
 */

/** The server types catalog/prices.json prices; visualkit:serverType must be one of them (config/sections/server.ts). */
export const KNOWN_SERVER_TYPES: readonly string[] = Object.keys(prices.serverTypes);

/** The one host of a stack without `visualkit:hosts` (config/sections/hosts.ts), where every service runs. */
export const MAIN_HOST = "main";

/** How much Caddy and Janus log (visualkit:logLevel). */
export type LogLevel = "debug" | "info" | "warn";

/** The Caddy version a stack runs unless visualkit:caddyVersion says otherwise: Debian 12's package (cloud-init installs it). */
export const DEFAULT_CADDY_VERSION = "2.6.2";

/** Internal ports of the reference platform, by the id used in `visualkit:ports`. */
export const DEFAULT_PORTS = {
    platformApi: 3001,
    websocket: 3002,
    chatwoot: 3003,
    vkAgent: 3004,
    vkAgentRtp: 5005,
    janusHttp: 8088,
    janusWs: 8188,
    janusAdmin: 7088,
} as const;
export type PortId = keyof typeof DEFAULT_PORTS;

/** Public hostname labels of the reference, by the route id used in `visualkit:hostnames`. `@` is the domain. */
export const DEFAULT_HOSTNAMES = {
    api: "api",
    ws: "ws",
    agent: "agent",
    janus: "janus",
    janusApi: "janus-api",
    support: "support",
    cdn: "cdn",
    landing: "@",
    app: "app",
    meet: "meet",
    www: "www",
    /** The TURN service (coturn); not a Caddy route: its own address, see docs/turn.md. */
    turn: "turn",
} as const;
export type RouteId = keyof typeof DEFAULT_HOSTNAMES;

/** Environment variables the program derives for vk-agent (from the catalog and geminiApiKey); config may not set them. */
export const VK_AGENT_DERIVED_ENV = ["VK_AGENT_JANUS_WS_URL", "VK_AGENT_RTP_HOST", "VK_AGENT_RTP_PORT", "GEMINI_API_KEY", "VK_AGENT_GEMINI_API_KEY", "VK_AGENT_JANUS_TOKEN_SECRET"] as const;

/**
 * Environment variables the program sets on platform-api for Janus (catalog/janus-plugins.ts JANUS_CLIENT_ENV and one
 * admin key per allowed plugin); config may not set them. test/components/janus-secrets.test.ts checks the list against
 * what the program really sets.
 */
export const PLATFORM_API_DERIVED_ENV = ["JANUS_API_URL", "JANUS_TOKEN_SECRET", "JANUS_AUDIOBRIDGE_ADMIN_KEY", "JANUS_VIDEOROOM_ADMIN_KEY", "TURN_URLS", "TURN_SECRET", "TURN_CREDENTIAL_TTL_SECONDS", "MEDIA_CELLS"] as const;

export interface PortRange {
    readonly from: number;
    readonly to: number;
}

/** Image per image key; `websocket` only when a separate WebSocket image is configured. */
export type CatalogImages = Readonly<Record<Exclude<ImageKey, "websocket">, string>> & { readonly websocket?: string };

export interface CatalogInput {
    readonly domain: string;
    /** The Cloudflare zone the domain lives in. */
    readonly zone: string;
    readonly ports: Readonly<Record<PortId, number>>;
    readonly hostnames: Readonly<Record<RouteId, string>>;
    readonly janus: { readonly rtpPorts: PortRange; readonly stun?: { readonly host: string; readonly port: number } };
    readonly images: CatalogImages;
    readonly pages: { readonly enabled: boolean; readonly projectSuffix: string; readonly appsDir: string };
    /** A standby copy of each stateless HTTP container, so image changes lose no request. */
    readonly standbyReplicas: boolean;
    /**
     * The hosts (`visualkit:hosts`) in stack-file order, each with the services placed on it; a service placed nowhere
     * runs on the first host. @default one host `main` with every service (today's stacks)
     */
    readonly hosts?: readonly HostInput[];
    /** Media cells (`visualkit:mediaCells`): Janus + vk-agent on a host of their own. @default none */
    readonly mediaCells?: readonly MediaCellInput[];
}

/** One host as the stack file places it (config/sections/hosts.ts). */
export interface HostInput {
    readonly name: string;
    /** Hetzner server type; `visualkit:serverType` unless the host says otherwise. */
    readonly serverType: string;
    /** Hetzner location; `visualkit:serverLocation` unless the host says otherwise. */
    readonly location: string;
    /** Data volume size; `visualkit:volumeSizeGb` unless the host says otherwise. */
    readonly volumeSizeGb: number;
    /** Catalog service ids placed on this host, as written (`visualkit:hosts.<name>.services`). @default none */
    readonly services?: readonly string[];
    /** Its address on the private network; derived from its position unless written. @default derived */
    readonly privateIp?: string;
}

/** One media cell: Janus and vk-agent (catalog/cells.ts) on the host it names. */
export interface MediaCellInput {
    /** The cell's name: its public hostname is `janus-<name>.<domain>`. */
    readonly name: string;
    readonly host: string;
    readonly rtpPorts: PortRange;
    /** No new sessions: left out of platform-api's MEDIA_CELLS, still serving the calls it has. */
    readonly drain: boolean;
}

export type DmarcPolicy = "none" | "quarantine" | "reject";

/** The e-mail records of a stack's domain (catalog/dns.ts); absent when the stack publishes none. */
export interface EmailInput {
    readonly mx: readonly { readonly priority: number; readonly host: string }[];
    readonly spf?: string;
    readonly dkim?: { readonly selector: string; readonly value: string };
    readonly dmarc: { readonly policy: DmarcPolicy; readonly rua?: string };
}

/** A conflict only the assembled catalog shows: the config key (as written in Pulumi.<stack>.yaml) to change, and how. */
export interface CatalogIssue {
    readonly key: string;
    readonly problem: string;
    readonly fix: string;
}
