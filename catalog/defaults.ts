import type { PortId } from "./input";

/**
 * The ports the images listen on inside their containers. `visualkit:ports` moves the host side only: these apps are
 * not told another port, so the container side stays what the image uses (Chatwoot's rails listens on 3000). Ports
 * the program does tell the service (vk-agent's RTP port via VK_AGENT_RTP_PORT, Janus's rendered configs) follow
 * the override on both sides. Read through `containerPortOf` (catalog/derived.ts).
 */
export const CONTAINER_PORTS: Readonly<Partial<Record<PortId, number>>> = {
    platformApi: 3001,
    websocket: 3002,
    vkAgent: 3004,
    chatwoot: 3000,
};

/**
 * Ports the host itself uses (SSH, Caddy on HTTP/HTTPS and HTTP/3); no service may take them. `firewall` says who
 * the host firewall lets in: `ssh` only visualkit:sshAllowedCidrs, `routes` everyone when the host serves routes,
 * `closed` nobody.
 */
export const RESERVED_HOST_PORTS = [
    { protocol: "tcp", port: 22, owner: "SSH", firewall: "ssh" },
    { protocol: "tcp", port: 80, owner: "Caddy (HTTP)", firewall: "routes" },
    { protocol: "tcp", port: 443, owner: "Caddy (HTTPS)", firewall: "routes" },
    { protocol: "udp", port: 443, owner: "Caddy (HTTP/3)", firewall: "routes" },
    // Caddy's default admin endpoint: the rendered Caddyfile moves it to a unix socket (render/caddyfile.ts
    // CADDY_ADMIN_SOCKET), but a new server's Caddy listens here until its first install, so no service may take it.
    { protocol: "tcp", port: 2019, owner: "Caddy admin API (until the first install moves it to a unix socket)", firewall: "closed" },
    // Monitoring, on 127.0.0.1 only (render/monitoring.ts MONITORING_PORTS; a test keeps the two equal).
    { protocol: "tcp", port: 2021, owner: "Caddy metrics (loopback)", firewall: "closed" },
    { protocol: "tcp", port: 9090, owner: "Prometheus (loopback)", firewall: "closed" },
    { protocol: "tcp", port: 9093, owner: "Alertmanager (loopback)", firewall: "closed" },
    { protocol: "tcp", port: 9100, owner: "node-exporter (loopback)", firewall: "closed" },
    { protocol: "tcp", port: 9121, owner: "Redis exporter (loopback)", firewall: "closed" },
    { protocol: "tcp", port: 9187, owner: "Postgres exporter (loopback)", firewall: "closed" },
] as const;

/**
 * The user bridge network of the reference compose files (vk-agent reaches Janus at its gateway). Docker hands out
 * addresses only from `ipRange`, so the fixed addresses below it (vk-agent's) are never taken by another container.
 */
export const PLATFORM_NETWORK = { name: "visualkit", subnet: "172.18.0.0/16", gateway: "172.18.0.1", ipRange: "172.18.128.0/17" } as const;
/** vk-agent's fixed address on that network: Janus sends the call's RTP there. */
export const VK_AGENT_ADDRESS = "172.18.0.2";
/** The standby vk-agent's address: each copy tells Janus its own address, so both can take calls. */
export const VK_AGENT_STANDBY_ADDRESS = "172.18.0.3";
/**
 * A standby container publishes each of its ports at the primary's host port plus this (3001 → 3101); the catalog's
 * port checks cover the standby ports too, so an override that would collide is reported with the key to change.
 */
export const STANDBY_PORT_OFFSET = 100;
/** Suffix of a standby container's Docker name (`platform-api-standby`). */
export const STANDBY_SUFFIX = "-standby";
/** Where the persistent Hetzner volume is mounted. */
export const DATA_DIR = "/mnt/data";
/**
 * Widget CDN names whose bytes never change (docs/deploy.md "Widget CDN releases"): a release's own folder
 * (/1.4.2/…, /v1.4.2-beta.1/…) and content-hashed names (widget.3f9a1c2b.js: at least 8 hex digits between dots).
 * Written without `{n,}` repetition: braces in a Caddyfile token read as a placeholder.
 */
export const WIDGET_IMMUTABLE_PATH = `^/(v?[0-9]+[.][0-9]+[.][0-9]+(-[0-9A-Za-z.]+)?/.*|(.*/)?[^/]+[.]${"[0-9a-f]".repeat(8)}[0-9a-f]*[.][A-Za-z0-9]+)$`;
/** Widget CDN files: the reference's path, a link into the data volume so the files survive a rebuild. */
export const WIDGET_CDN_ROOT = "/opt/widget-cdn";
/** Folders on the data volume (relative to DATA_DIR) that hold state, so each survives a server rebuild. */
export const DATA_FOLDERS = { postgres: "postgres", redis: "redis", chatwootStorage: "chatwoot/storage", widgetCdn: "widget-cdn" } as const;
/** Chatwoot's database: its owner (the image's POSTGRES_USER, a superuser) and name. Backups dump and restore it. */
export const CHATWOOT_DATABASE = { user: "chatwoot", name: "chatwoot_production" } as const;
/** The reference's per-service folders under /opt, where deploy steps put configs (Janus's .jcfg files, ...). */
export const APP_DIRS = ["/opt/chatwoot", "/opt/dashboard", "/opt/janus/config", "/opt/platform-api", "/opt/vk-agent"] as const;
/**
 * Where every container's logs go: the host's journal (Docker's journald driver), so they outlive the container. With
 * json-file they were deleted with it, at every deploy, including the logs of the copy that failed. journald keeps
 * them within its own limits (render/monitoring.ts JOURNAL_LIMITS: 2 GB, 30 days, written by the bootstrap and the
 * Monitoring install), so no container can fill the disk; `journalctl CONTAINER_NAME=<name>` and `docker logs` read them.
 * The tag makes the container's name the journal's SYSLOG_IDENTIFIER (`journalctl -t <name>`). Docker cannot change
 * a container's log settings in place, so this change replaced every container once.
 */
export const CONTAINER_LOGS = { driver: "journald", opts: { tag: "{{.Name}}" } } as const;
/**
 * The TURN service's ports (docs/turn.md). coturn listens on the host's second IPv4 (a Hetzner Floating IP, the
 * "TURN address"), never on Caddy's: STUN/TURN on 3478 over UDP and TCP, TURN over TLS on 5349, and TCP 443 of the
 * TURN address is redirected to 5349 on the host (nftables), so callers behind firewalls that pass only HTTPS reach it
 * as `turns:turn.<domain>:443` while Caddy keeps 443 of the primary address.
 */
export const TURN_PORTS = { plain: 3478, tls: 5349, tlsAlias: 443 } as const;
/**
 * UDP ports of the relayed addresses: above Linux's ephemeral range (32768-60999) and Janus's default media range
 * (10000-60000); validateCatalog reports a visualkit:janusRtpPorts that reaches into it. 4001 ports, one per
 * allocation, more than the total quota.
 */
export const TURN_RELAY_PORTS = { from: 61000, to: 65000 } as const;
export { MAIN_HOST } from "./input";

/** The Janus image runs as an unprivileged user, so every port it binds must be 1024 or above. */
export const UNPRIVILEGED_PORT_FLOOR = 1024;

/**
 * Seconds a container may take to stop after SIGTERM — when the provider replaces or removes it (Docker kills it right
 * away otherwise) and when the server shuts down (the bootstrap's docker-.scope drop-in): in-flight requests finish,
 * Postgres and Redis write their data and shut down cleanly.
 */
export const STOP_GRACE_SECONDS = 30;

/**
 * The Hetzner private network that joins the hosts when there is more than one (components/private-network.ts): one
 * subnet, each host at a fixed address (`visualkit:hosts.<name>.privateIp`, or `firstHost` + its position in the
 * stack file). Fixed addresses are plain values, so Janus's listeners and platform-api's cell list are known before
 * anything exists; Hetzner keeps `.1` of a subnet for its gateway.
 */
export const PRIVATE_NETWORK = { ipRange: "10.0.0.0/16", subnet: "10.0.1.0/24", prefix: "10.0.1.", firstHost: 2 } as const;

/** Hetzner network zone of each location: one subnet (so one network) spans the locations of one zone only. */
export const NETWORK_ZONES: Readonly<Record<string, string>> = { fsn1: "eu-central", nbg1: "eu-central", hel1: "eu-central", ash: "us-east", hil: "us-west", sin: "ap-southeast" };
