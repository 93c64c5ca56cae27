import { disabledJanusPlugins, JANUS_PLUGINS, type JanusPluginSpec } from "../catalog/janus-plugins";
import { portOf } from "../catalog/derived";
import type { Catalog, PortSpec, ServiceSpec } from "../catalog/types";
import type { LogLevel } from "../catalog/input";

/**
 * Janus configuration (`janus.jcfg` and the HTTP and WebSocket transports), rendered from the reference's values and
 * the catalog. Pure (no `@pulumi/*` import): the tests start the real Janus from Debian with this exact text, and the
 * JanusGateway component uploads it into the container.
 *
 * Where the reference's files did not do what they say, this follows what Janus 1.x actually reads:
 * `rtp_port_range` only in `media` (the copy under `nat` is ignored), `http`/`port` in the HTTP transport's `general`
 * section (the reference's `http:` section is not read), `min_nack_queue` instead of the removed `max_nack_queue`.
 */

/** Folders Janus reads; the image decides them. */
export interface JanusLayout {
    readonly configs: string;
    readonly plugins: string;
    readonly transports: string;
    readonly events: string;
    readonly loggers: string;
}

/**
 * The layout of images/janus/Dockerfile: Debian's `janus` package, with /usr/lib/janus linked to the multiarch
 * folder (x86_64-linux-gnu or aarch64-linux-gnu) so one rendering fits both architectures.
 */
export const JANUS_IMAGE_LAYOUT: JanusLayout = {
    configs: "/etc/janus",
    plugins: "/usr/lib/janus/plugins",
    transports: "/usr/lib/janus/transports",
    events: "/usr/lib/janus/events",
    loggers: "/usr/lib/janus/loggers",
};

/** Numeric user the image runs Janus as (uploaded files are owned by it; names would resolve on the deploying machine). */
export const JANUS_IMAGE_UID = 10001;

/** Janus's debug_level: 3 warnings and errors, 4 info (Janus's default), 5 verbose. 7 would log every packet. */
export const JANUS_DEBUG_LEVEL: Readonly<Record<LogLevel, number>> = { debug: 5, info: 4, warn: 3 };

/** Transports besides HTTP and WebSockets are never configured; they are not loaded at all. */
export const DISABLED_TRANSPORTS = ["libjanus_mqtt.so", "libjanus_nanomsg.so", "libjanus_pfunix.so", "libjanus_rabbitmq.so"] as const;
/** The JSON logger only logs to a file its own config names; Janus logs to stdout, which Docker rotates. */
export const DISABLED_LOGGERS = ["libjanus_jsonlog.so"] as const;

/**
 * Host interfaces whose addresses browsers can never reach: Docker's bridges and veths. Janus would otherwise offer
 * them as ICE candidates to every caller (partial names match, e.g. `br-` matches every user bridge).
 */
export const ICE_IGNORE_LIST = ["vmnet", "docker", "br-", "veth"] as const;

/** System folders no recording or plugin may write into (Debian's default list). */
const PROTECTED_FOLDERS = ["/bin", "/boot", "/dev", "/etc", "/initrd", "/lib", "/lib32", "/lib64", "/proc", "/sbin", "/sys", "/usr", "/var"];

/** Path of the admin API under its listener (`http://<bind>:<admin port>/admin`). */
export const JANUS_ADMIN_PATH = "/admin";

/** The admin API's URL for a rendering: where the deploy-time call guard asks Janus for its sessions. */
export function janusAdminUrl(s: JanusSettings): string {
    const host = s.bindAddress.includes(":") ? `[${s.bindAddress}]` : s.bindAddress;
    return `http://${host}:${s.ports.admin}${JANUS_ADMIN_PATH}`;
}

/** The Janus API's internal URL (`http://<bind>:<http port>/janus`): where platform-api creates rooms, over the bridge. */
export function janusApiUrl(s: JanusSettings): string {
    const host = s.bindAddress.includes(":") ? `[${s.bindAddress}]` : s.bindAddress;
    return `http://${host}:${s.ports.http}/janus`;
}

/** The core's files; each loaded plugin adds its own (`janus.plugin.<name>.jcfg`, see `janusFileNames`). */
export const JANUS_CORE_FILES = ["janus.jcfg", "janus.transport.http.jcfg", "janus.transport.websockets.jcfg"] as const;

/** Every file of a rendering, by name in the configs folder: the core's, then one per loaded plugin. */
export function janusFileNames(s: JanusSettings): string[] {
    return [...JANUS_CORE_FILES, ...s.plugins.map(pluginFile)];
}

/** The files that hold a secret (token secret, admin secret, admin keys): only Janus's user may read them. */
export function janusSecretFileNames(s: JanusSettings): string[] {
    return ["janus.jcfg", ...s.plugins.map(pluginFile)];
}

function pluginFile(p: JanusPluginSpec): string {
    return `${p.package}.jcfg`;
}

/**
 * The generated secrets a rendering needs. `tokenSecret` signs the tokens callers present (`token_auth_secret`): whoever
 * holds it mints tokens, so only platform-api and vk-agent get it. `adminKeys` by plugin id (`audiobridge`): creating
 * rooms and forwarding RTP need them; only platform-api gets them.
 */
export interface JanusSecrets {
    readonly adminSecret: string;
    readonly tokenSecret: string;
    readonly adminKeys: Readonly<Record<string, string>>;
}

/**
 * What one caller may hold on to. Janus 1.1.2 has no per-client cap on sessions or handles; what bounds a caller is the
 * token (only platform-api and vk-agent mint them, each with an expiry), the idle timeout below and the per-room
 * limits platform-api sets when it creates a room (with the admin key nobody else has).
 */
export const JANUS_LIMITS = {
    /** A session with no request (keep-alive included) for this long is destroyed, handles and all (Janus's default, explicit). */
    sessionTimeoutSeconds: 60,
    /** A session whose transport (WebSocket) went away is destroyed at once instead of waiting to be reclaimed. */
    reclaimSessionTimeoutSeconds: 0,
    /**
     * Handles share this many media loops. Janus's default is a thread per handle, so a caller with a token could
     * attach thousands of handles and as many threads (100 handles: +100 threads; with loops, +0: janus-security.test.ts). Four
     * covers the platform's few concurrent calls on any Hetzner type; raise it with the CPUs if calls grow.
     */
    eventLoops: 4,
} as const;

export interface JanusSettings {
    readonly debugLevel: number;
    /** Address the HTTP, WebSocket and admin listeners bind to. */
    readonly bindAddress: string;
    readonly ports: { readonly http: number; readonly ws: number; readonly admin: number };
    /** UDP range for media: the range the host firewall opens. */
    readonly rtpPorts: { readonly from: number; readonly to: number };
    /** Omitted: Janus learns no public address by STUN (a Hetzner VPS has its public address on eth0 anyway). */
    readonly stun?: { readonly host: string; readonly port: number };
    /**
     * The host's public addresses (its primary IPv4 and IPv6), known only after deploy: Janus gathers ICE candidates on
     * these alone (`ice_enforce_list`), so it never offers the TURN address that shares eth0 (coturn lets relayed media
     * reach only the primary IPv4, docs/turn.md), a Docker bridge or a veth. No `nat_1_1_mapping`: a Hetzner server has
     * its public addresses on its interface, there is no NAT to map. Absent: every interface but ICE_IGNORE_LIST.
     */
    readonly iceAddresses?: readonly string[];
    readonly layout: JanusLayout;
    /** The plugins that load (the catalog's allow-list); every other plugin of Debian's package is disabled. */
    readonly plugins: readonly JanusPluginSpec[];
}

/** The settings of the catalog's `janus` service: ports and bind address from the catalog, STUN and log level from config. */
export function janusSettings(
    catalog: Catalog,
    cfg: { readonly logLevel: LogLevel; readonly janus: { readonly stun?: { readonly host: string; readonly port: number } } },
    layout: JanusLayout = JANUS_IMAGE_LAYOUT,
): JanusSettings {
    const service = catalog.services.find((s) => s.id === "janus") ?? catalog.services.find((s) => s.component === "janus");
    if (!service) throw new Error("catalog: no janus service");
    return janusSettingsOf(service, cfg, layout);
}

/** The settings of one Janus service of the catalog (the catalog's own, or a media cell's `janus-<cell>`). */
export function janusSettingsOf(
    service: ServiceSpec,
    cfg: { readonly logLevel: LogLevel; readonly janus: { readonly stun?: { readonly host: string; readonly port: number } } },
    layout: JanusLayout = JANUS_IMAGE_LAYOUT,
): JanusSettings {
    const port = (id: string): PortSpec => portOf(service.ports, id, "janus");
    const rtp = port("rtp");
    return {
        debugLevel: JANUS_DEBUG_LEVEL[cfg.logLevel],
        bindAddress: service.bindAddress,
        ports: { http: port("http").port, ws: port("ws").port, admin: port("admin").port },
        rtpPorts: { from: rtp.port, to: rtp.endPort },
        ...(cfg.janus.stun ? { stun: { ...cfg.janus.stun } } : {}),
        layout,
        plugins: JANUS_PLUGINS,
    };
}

/**
 * Test mode of the same rendering: only listener ports, bind address and folders change, and STUN is left out (Janus
 * exits when its STUN server cannot be resolved, and tests have no network).
 */
export function janusTestSettings(
    settings: JanusSettings,
    test: { readonly bindAddress: string; readonly ports: JanusSettings["ports"]; readonly layout: JanusLayout },
): JanusSettings {
    return { debugLevel: settings.debugLevel, rtpPorts: settings.rtpPorts, bindAddress: test.bindAddress, ports: test.ports, layout: test.layout, plugins: settings.plugins };
}

/** Every file, by name in the configs folder (`janusFileNames`). */
export function renderJanusFiles(s: JanusSettings, secrets: JanusSecrets): Record<string, string> {
    return {
        "janus.jcfg": renderJanusMain(s, secrets),
        "janus.transport.http.jcfg": renderJanusHttp(s),
        "janus.transport.websockets.jcfg": renderJanusWebsockets(s),
        ...Object.fromEntries(s.plugins.map((p) => [pluginFile(p), renderJanusPlugin(p, secrets, s.bindAddress)])),
    };
}

/**
 * A loaded plugin's config: only its `general` section (no rooms: platform-api creates them through the API with the
 * admin key). `admin_key` gates room creation, and with the plugin's locks RTP forwarding and file playback.
 */
export function renderJanusPlugin(p: JanusPluginSpec, secrets: Pick<JanusSecrets, "adminKeys">, bindAddress: string): string {
    const key = secrets.adminKeys[p.id];
    if (!key) throw new Error(`janus config: no admin key for plugin ${p.package} (generated secrets by plugin id: ${Object.keys(secrets.adminKeys).join(", ") || "none"})`);
    return jcfg([section("general", [["admin_key", key], ...Object.entries(p.settings), ...(p.plainRtp ? ([["local_ip", bindAddress]] as Entry[]) : [])])]);
}

export function renderJanusMain(s: JanusSettings, secrets: Pick<JanusSecrets, "adminSecret" | "tokenSecret">): string {
    return jcfg([
        section("general", [
            ["configs_folder", s.layout.configs],
            ["plugins_folder", s.layout.plugins],
            ["transports_folder", s.layout.transports],
            ["events_folder", s.layout.events],
            ["loggers_folder", s.layout.loggers],
            ["log_to_stdout", true],
            // Docker keeps the log; escape codes would only clutter it.
            ["debug_colors", false],
            ["debug_level", s.debugLevel],
            ["admin_secret", secrets.adminSecret],
            // Every Janus API request (session, attach, message, keep-alive) needs a token signed with this secret
            // (HMAC-SHA1 over "<expiry>,janus,<plugin>[,...]"); the attach is refused for a plugin the token does not name.
            // Only info and ping answer without one (the health check uses info). docs/security.md says why not api_secret.
            ["token_auth", true],
            ["token_auth_secret", secrets.tokenSecret],
            ["session_timeout", JANUS_LIMITS.sessionTimeoutSeconds],
            ["reclaim_session_timeout", JANUS_LIMITS.reclaimSessionTimeoutSeconds],
            ["event_loops", JANUS_LIMITS.eventLoops],
            // `info` answers without a token; it need not tell the world the versions of libnice, libsrtp and friends.
            ["hide_dependencies", true],
            ["protected_folders", PROTECTED_FOLDERS],
        ]),
        section("nat", [
            ...(s.stun ? ([["stun_server", s.stun.host], ["stun_port", s.stun.port]] as Entry[]) : []),
            ["nice_debug", false],
            ["full_trickle", true],
            ["ice_lite", false],
            ["ice_tcp", false],
            // Browsers hide their host addresses behind mDNS names; a server on the internet never shares a LAN with a
            // caller, and resolving them only delays ICE. Callers still offer srflx and relayed (TURN) candidates.
            ["ignore_mdns", true],
            // Janus matches both lists by prefix (src/ice.c, janus_ice_is_ignored): enforcing the exact public addresses
            // can at worst add an address, while ignoring the TURN address could hide a primary address it prefixes.
            // With an enforce list Janus ignores the ignore list (and warns about every entry), so only one is written.
            s.iceAddresses && s.iceAddresses.length > 0 ? ["ice_enforce_list", s.iceAddresses.join(",")] : ["ice_ignore_list", ICE_IGNORE_LIST.join(",")],
        ]),
        section("media", [
            // Janus's own syntax, always min-max (not portRangeText, which writes a one-port range as one port).
            ["rtp_port_range", `${s.rtpPorts.from}-${s.rtpPorts.to}`],
            // The reference's max_nack_queue = 1000 no longer exists; min_nack_queue (ms) is its successor.
            ["min_nack_queue", 1000],
        ]),
        // Janus 1.1.2 can only disable by file name: everything Debian ships that the catalog does not allow.
        section("plugins", [["disable", disabledJanusPlugins(s.plugins).join(",")]]),
        section("transports", [["disable", DISABLED_TRANSPORTS.join(",")]]),
        section("loggers", [["disable", DISABLED_LOGGERS.join(",")]]),
    ]);
}

export function renderJanusHttp(s: JanusSettings): string {
    return jcfg([
        section("general", [
            ["json", "indented"],
            ["base_path", "/janus"],
            ["http", true],
            ["port", s.ports.http],
            ["ip", s.bindAddress],
            ["https", false],
        ]),
        // The admin API (sessions, handles, log level at run time) answers only on the bind address and needs the secret.
        section("admin", [
            ["admin_base_path", JANUS_ADMIN_PATH],
            ["admin_http", true],
            ["admin_port", s.ports.admin],
            ["admin_ip", s.bindAddress],
            ["admin_https", false],
        ]),
        section("cors", [["allow_origin", "*"]]),
    ]);
}

export function renderJanusWebsockets(s: JanusSettings): string {
    return jcfg([
        section("general", [
            ["json", "indented"],
            ["ws", true],
            ["ws_port", s.ports.ws],
            ["ws_ip", s.bindAddress],
            ["wss", false],
            ["ws_logging", "err,warn"],
        ]),
        section("admin", [
            ["admin_ws", false],
            ["admin_wss", false],
        ]),
    ]);
}

type Value = string | number | boolean | readonly string[];
type Entry = readonly [string, Value];

function section(name: string, entries: readonly Entry[]): string {
    const lines = entries.map(([k, v]) => `\t${k} = ${value(v)}`);
    return `${name}: {\n${lines.join("\n")}\n}\n`;
}

function value(v: Value): string {
    if (typeof v === "string") return quote(v);
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    return `[\n${v.map((x) => `\t\t${quote(x)}`).join(",\n")}\n\t]`;
}

/** libconfig string: backslash and double quote escaped; control characters are never valid config values. */
function quote(s: string): string {
    if (/[\u0000-\u001f]/.test(s)) throw new Error(`janus config: value ${JSON.stringify(s)} contains a control character`);
    return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

function jcfg(sections: readonly string[]): string {
    return `# Generated by the VisualKit Pulumi program from the stack config and the service catalog; edit those, not this file.\n\n${sections.join("\n")}`;
}
