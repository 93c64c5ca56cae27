import { createHmac } from "node:crypto";
import { portOf } from "../catalog/derived";
import type { Catalog, PortSpec } from "../catalog/types";

/**
 * coturn's `turnserver.conf` for the platform's TURN service (docs/turn.md), and the TURN REST API credentials
 * platform-api mints for each call. Pure (no `@pulumi/*` import): the tests start Debian's real `turnserver` with this
 * exact text, and the TurnServer component writes it to the host.
 *
 * Safe by default: no allocation without a credential minted from the shared secret, relays only to the peers the
 * platform names (Janus's host) and never to a private, loopback, link-local, CGNAT, Docker-bridge or multicast
 * address, per-user and total quotas, a bandwidth cap per session, TLS 1.2 and above only, no telnet CLI, no
 * TCP relays (browsers never ask for one; they would turn the server into a TCP proxy), no software version on the
 * wire.
 */

/**
 * Peer addresses no TURN user may relay to: the IANA special-purpose ranges that are not globally reachable (RFC 6890
 * and its registry), so a caller cannot reach Caddy's admin API, Janus's admin API on the Docker bridge, Postgres, or
 * anything on a private network the host can see. 172.16.0.0/12 already holds Docker's default bridge (172.17/16) and
 * the platform network; the platform network is listed again by `turnSettings` from the catalog, so moving it out of
 * that block keeps it denied. IPv4-mapped and NAT64 IPv6 forms are denied too: they would reach the IPv4 ranges by
 * another name.
 *
 * coturn 4.6.1's range check (src/client/ns_turn_ioaddr.c, `ioa_addr_in_range`) has two traps this list avoids: a range
 * whose first address is `0.0.0.0` or `::` is open below and compares across families, so `::-::ffff` would deny
 * every IPv4 peer (the unspecified addresses are refused by `ioa_addr_is_zero` anyway); and IPv6 addresses compare
 * byte by byte, so only CIDR-aligned ranges (each byte a full interval) mean what they say — every range here is one.
 */
export const DENIED_PEER_RANGES: readonly string[] = [
    "0.0.0.0-0.255.255.255", // "this network"
    "10.0.0.0-10.255.255.255", // private
    "100.64.0.0-100.127.255.255", // CGNAT (RFC 6598)
    "127.0.0.0-127.255.255.255", // loopback
    "169.254.0.0-169.254.255.255", // link-local (and cloud metadata services)
    "172.16.0.0-172.31.255.255", // private, Docker's bridges
    "192.0.0.0-192.0.0.255", // IETF protocol assignments
    "192.0.2.0-192.0.2.255", // TEST-NET-1
    "192.168.0.0-192.168.255.255", // private
    "198.18.0.0-198.19.255.255", // benchmarking
    "198.51.100.0-198.51.100.255", // TEST-NET-2
    "224.0.0.0-239.255.255.255", // multicast
    "240.0.0.0-255.255.255.255", // reserved, broadcast
    "::1", // loopback
    "::ffff:0.0.0.0-::ffff:255.255.255.255", // IPv4-mapped
    "64:ff9b::-64:ff9b::ffff:ffff", // NAT64
    "100::-100::ffff:ffff:ffff:ffff", // discard
    "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", // unique local
    "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", // link-local
    "ff00::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", // multicast
];

/** Every address of both families: with `allowedPeers` set, everything but those peers is denied. */
export const ALL_ADDRESSES: readonly string[] = ["0.0.0.0-255.255.255.255", "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"];

/** Limits of one server. Audio with Opus needs ~64 kbit/s per direction; the cap leaves room for video at low rates. */
export const TURN_LIMITS = {
    /** Allocations one credential may hold at a time (a call needs one per ICE component and address family). */
    userQuota: 12,
    /** Allocations of all users together. */
    totalQuota: 1200,
    /** Bytes per second one session may relay (coturn's `max-bps`): 2 Mbit/s. */
    maxBytesPerSecond: 250_000,
    /** Seconds a nonce stays valid (`stale-nonce`); the client re-authenticates after it. */
    staleNonceSeconds: 600,
    /** Seconds a credential minted by platform-api stays valid; a call started within it keeps its allocation. */
    credentialTtlSeconds: 3600,
} as const;

export interface TurnSettings {
    /** `realm` and `server-name`: the TURN hostname (`turn.<domain>`). */
    readonly realm: string;
    /** Addresses coturn listens on (`listening-ip`); the TURN address only, never Caddy's. */
    readonly listenAddresses: readonly string[];
    /** Address relayed media leaves from and arrives at (`relay-ip`). */
    readonly relayAddresses: readonly string[];
    /** STUN/TURN over UDP and TCP, and TURN over TLS (the host also sends TCP 443 of the TURN address here). */
    readonly ports: { readonly plain: number; readonly tls: number };
    /** UDP ports of the relayed addresses (`min-port`-`max-port`); disjoint from Janus's RTP range. */
    readonly relayPorts: { readonly from: number; readonly to: number };
    /** Extra peer ranges to deny besides `DENIED_PEER_RANGES` (the platform's Docker network, from the catalog). */
    readonly deniedPeers: readonly string[];
    /**
     * When non-empty, the only peers a TURN user may reach (Janus's host addresses): every other address is denied.
     * Empty: any peer outside the denied ranges.
     */
    readonly allowedPeers: readonly string[];
    /** TLS certificate chain and private key files on the host (coturn re-reads them on SIGUSR2). */
    readonly tls: { readonly certFile: string; readonly keyFile: string };
    readonly limits: { readonly userQuota: number; readonly totalQuota: number; readonly maxBytesPerSecond: number; readonly staleNonceSeconds: number };
    /** `stdout` under systemd (journald keeps it), or a file path. */
    readonly logFile: string;
    readonly verbose: boolean;
}

/** The config file, `static-auth-secret` included: write it 0640 root:turnserver, never pass the secret as an argument. */
export function renderTurnserverConf(s: TurnSettings, secret: string): string {
    checkSecret(secret);
    const lines: string[] = [
        "# Generated by the VisualKit Pulumi program from the service catalog; edit that, not this file. See docs/turn.md.",
        "",
        "# Listeners: the TURN address only (Caddy owns 443 of the host's primary address).",
        ...s.listenAddresses.map((a) => `listening-ip=${addr(a)}`),
        `listening-port=${s.ports.plain}`,
        `tls-listening-port=${s.ports.tls}`,
        // RFC 5780 needs a second address and port set, and answers unauthenticated requests from other ports:
        // nothing WebRTC uses, and the alternate listeners would take ports the firewall does not open.
        "no-rfc5780",
        "no-stun-backward-compatibility",
        "response-origin-only-with-rfc5780",
        // Browsers speak TURN over UDP, TCP and TLS, never DTLS to the server.
        "no-dtls",
        "",
        "# Relays",
        ...s.relayAddresses.map((a) => `relay-ip=${addr(a)}`),
        `min-port=${s.relayPorts.from}`,
        `max-port=${s.relayPorts.to}`,
        // RFC 6062 TCP allocations would let a caller open TCP connections from the server; WebRTC never asks for one.
        "no-tcp-relay",
        "",
        "# Authentication: TURN REST API credentials (username <expiry>:<user>, password base64(HMAC-SHA1(secret, username))).",
        "fingerprint",
        "use-auth-secret",
        `static-auth-secret=${secret}`,
        `realm=${s.realm}`,
        `server-name=${s.realm}`,
        `stale-nonce=${s.limits.staleNonceSeconds}`,
        "",
        "# Limits",
        `user-quota=${s.limits.userQuota}`,
        `total-quota=${s.limits.totalQuota}`,
        `max-bps=${s.limits.maxBytesPerSecond}`,
        "",
        "# Peers: coturn 4.6 refuses loopback peers unless allow-loopback-peers is set (its no-loopback-peers is gone);",
        "# the ranges below say it again, with every other non-global range.",
        "no-multicast-peers",
        ...(s.allowedPeers.length > 0 ? ALL_ADDRESSES : []).map((r) => `denied-peer-ip=${r}`),
        ...[...DENIED_PEER_RANGES, ...s.deniedPeers].map((r) => `denied-peer-ip=${r}`),
        ...s.allowedPeers.map((a) => `allowed-peer-ip=${a}`),
        "",
        "# TLS: 1.2 and above",
        `cert=${s.tls.certFile}`,
        `pkey=${s.tls.keyFile}`,
        "no-tlsv1",
        "no-tlsv1_1",
        "",
        "# Operations",
        "no-cli",
        "no-software-attribute",
        `log-file=${s.logFile}`,
        "simple-log",
        ...(s.verbose ? ["verbose"] : []),
        "",
    ];
    return lines.join("\n");
}

/**
 * coturn reads the file line by line and cuts values at whitespace: a secret must be one printable token, or it would
 * end early or add lines of its own. The generated one is 48 letters and digits; the mocks' is `[secret]`.
 */
function checkSecret(secret: string): void {
    if (!/^[\x21-\x7e]{8,}$/.test(secret) || secret.includes("#")) throw new Error("coturn: the TURN secret must be at least 8 printable characters, without spaces or #");
}

/** coturn takes IPv6 addresses bare (no brackets) in listening-ip/relay-ip. */
function addr(a: string): string {
    if (!/^[0-9a-fA-F.:]+$/.test(a)) throw new Error(`coturn: "${a}" is not an IP address`);
    return a;
}

/** One ICE server entry as RTCPeerConnection takes it. */
export interface IceServer {
    readonly urls: readonly string[];
    readonly username: string;
    readonly credential: string;
}

/**
 * TURN REST API credentials (draft-uberti-behave-turn-rest, what coturn's `use-auth-secret` checks): the username is
 * `<unix expiry>:<user id>`, the password base64(HMAC-SHA1(secret, username)). platform-api runs exactly this for
 * each call (docs/turn.md); the tests mint with it against the real coturn.
 */
export function turnCredentials(secret: string, userId: string, ttlSeconds: number, nowSeconds: number = Math.floor(Date.now() / 1000)): { username: string; credential: string } {
    if (userId.includes(":")) throw new Error("turn credentials: the user id must not contain ':' (it separates the expiry)");
    const username = `${nowSeconds + ttlSeconds}:${userId}`;
    const credential = createHmac("sha1", secret).update(username).digest("base64");
    return { username, credential };
}

/** The ICE server URLs of a TURN hostname: TLS on 443 first (gets through firewalls that only pass HTTPS), then UDP and TCP. */
export function turnUrls(hostname: string, ports: { readonly plain: number; readonly tls: number }, tlsAlias?: number): string[] {
    return [
        ...(tlsAlias !== undefined ? [`turns:${hostname}:${tlsAlias}?transport=tcp`] : []),
        `turns:${hostname}:${ports.tls}?transport=tcp`,
        `turn:${hostname}:${ports.plain}?transport=udp`,
        `turn:${hostname}:${ports.plain}?transport=tcp`,
    ];
}

/** Where the TurnServer step puts coturn's files on the host (Debian's package reads /etc/turnserver.conf). */
export const TURN_HOST_FILES = { config: "/etc/turnserver.conf", cert: "/etc/coturn/tls/turn.crt", key: "/etc/coturn/tls/turn.key" } as const;

/** The catalog's `turn` service: its name, ports and relay range, and the addresses only known after deploy. */
export interface TurnService {
    readonly hostname: string;
    readonly ports: { readonly plain: number; readonly tls: number };
    /** TCP port of the TURN address the host redirects to the TLS port (443). */
    readonly tlsAlias?: number;
    readonly relayPorts: { readonly from: number; readonly to: number };
    /** The platform's Docker network, denied as a peer range. */
    readonly bridgeRange: string;
    /** Janus's RTP range: the only ports of Janus's address coturn may send to (the host's nftables guard). */
    readonly janusRtp: { readonly from: number; readonly to: number };
}

export function turnService(catalog: Catalog): TurnService | undefined {
    const service = catalog.services.find((s) => s.id === "turn");
    if (!service) return undefined;
    const port = (id: string): PortSpec => portOf(service.ports, id, "turn");
    const name = (service.names ?? []).find((n) => n.id === "turn");
    if (!name) throw new Error("catalog: turn has no name");
    const host = catalog.hosts.find((h) => h.name === service.host);
    if (!host) throw new Error(`catalog: turn runs on unknown host ${service.host}`);
    const relay = port("relay");
    // The Janus of TURN's own host (a media cell's, with cells): the only peer coturn relays to.
    const janus = catalog.services.find((s) => s.component === "janus" && s.host === service.host) ?? catalog.services.find((s) => s.id === "janus");
    if (!janus) throw new Error("catalog: TURN relays to Janus, but there is no janus service");
    const janusRtp = portOf(janus.ports, "rtp", "TURN's relay to janus");
    return {
        hostname: name.hostname,
        ports: { plain: port("stun").port, tls: port("tls").port },
        tlsAlias: port("tls").redirectFrom,
        relayPorts: { from: relay.port, to: relay.endPort },
        bridgeRange: cidrRange(host.network.subnet),
        janusRtp: { from: janusRtp.port, to: janusRtp.endPort },
    };
}

/** coturn's settings on the host: it listens and relays on the TURN address; Janus's host address is the only peer. */
export function turnSettings(t: TurnService, addresses: { readonly turn: string; readonly janus: readonly string[] }): TurnSettings {
    return {
        realm: t.hostname,
        listenAddresses: [addresses.turn],
        relayAddresses: [addresses.turn],
        ports: t.ports,
        relayPorts: t.relayPorts,
        deniedPeers: [t.bridgeRange],
        allowedPeers: addresses.janus,
        tls: { certFile: TURN_HOST_FILES.cert, keyFile: TURN_HOST_FILES.key },
        limits: TURN_LIMITS,
        logFile: "stdout",
        verbose: false,
    };
}

/** `172.18.0.0/16` → `172.18.0.0-172.18.255.255` (coturn takes ranges, not CIDRs). */
export function cidrRange(cidr: string): string {
    const [base, bitsText] = cidr.split("/");
    const bits = Number(bitsText);
    const octets = base.split(".").map(Number);
    if (octets.length !== 4 || !Number.isInteger(bits) || bits < 0 || bits > 32) throw new Error(`coturn: ${cidr} is not an IPv4 CIDR`);
    const start = (((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0) & (bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0);
    const end = (start | (bits === 32 ? 0 : (~0 >>> bits))) >>> 0;
    const text = (n: number) => [24, 16, 8, 0].map((sh) => (n >>> sh) & 255).join(".");
    return `${text(start)}-${text(end)}`;
}
