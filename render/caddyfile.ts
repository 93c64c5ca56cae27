import { hostRoutes, probesPort, publisherOf, upstreamOf } from "../catalog";
import type { Catalog, ProxyTarget, RouteSpec, ServiceName, ServiceSpec, StaticTarget } from "../catalog/types";

/**
 * The Caddyfile, rendered from the catalog: one site per route of a host. Pure (no `@pulumi/*` import) so tests
 * feed it to the real Caddy; the CaddyConfig component deploys exactly this text. The output is `caddy fmt`-clean
 * (tabs, one blank line between blocks) so the file on the server reads like a hand-written one.
 */

export interface CaddyfileOptions {
    /** Catalog host whose routes become sites (`main`). */
    readonly host: string;
    /** Account e-mail for Let's Encrypt / ZeroSSL expiry notices. */
    readonly acmeEmail: string;
    /** Caddy version on the server; directives newer than it are left out (see `supports`). */
    readonly caddyVersion: string;
    /** Level of Caddy's own log (access logs are always written). */
    readonly logLevel: "debug" | "info" | "warn";
    /**
     * Where certificates come from: `acme` (Caddy's automatic HTTPS from Let's Encrypt/ZeroSSL, which needs the
     * hostnames' public DNS) or `internal` (`tls internal` on every site: Caddy's own CA, for a test host or a
     * server checked before the DNS switch; clients must trust Caddy's root).
     * @default "acme"
     */
    readonly tls?: "acme" | "internal";
    /** Test mode: the same sites and directives, served over plain HTTP on 127.0.0.1. */
    readonly loopback?: LoopbackOptions;
}

export interface LoopbackOptions {
    /** The one HTTP port every site shares; requests are routed by their `Host` header. */
    readonly httpPort: number;
    /** Path of the admin endpoint's unix socket in the test's folder (production's is `CADDY_ADMIN_SOCKET`). */
    readonly adminSocket: string;
    /** Catalog upstream (`172.18.0.1:8188`) → stand-in (`127.0.0.1:40001`); every proxied upstream must be mapped. */
    readonly upstreams: Readonly<Record<string, string>>;
    /** Catalog static root (`/opt/widget-cdn`) → local folder. */
    readonly staticRoots?: Readonly<Record<string, string>>;
    /** Folder for the access log instead of /var/log/caddy. */
    readonly logDir: string;
    /** Port of the metrics site on 127.0.0.1; without it a loopback rendering has none (tests pick free ports). */
    readonly metricsPort?: number;
}

/**
 * Caddy's admin API (`POST /load` replaces the whole config: serve /etc, hand out the TLS keys) listens on this unix
 * socket, never on TCP: on the default localhost:2019 any process on the host's network could use it, and Janus runs
 * there (host networking) parsing untrusted media. scripts/host/install-caddyfile.sh creates its folder 0700 for the `caddy`
 * user, so only root and Caddy can open the socket; other containers do not see the host's file system at all.
 * Caddy 2.6.2 unlinks a stale socket before it listens (listeners.go), and `caddy reload` reads this address from the
 * Caddyfile, so `systemctl reload caddy` keeps working.
 */
export const CADDY_ADMIN_SOCKET = "/var/lib/caddy/admin/caddy.sock";

/**
 * Caddy's Prometheus metrics on a loopback-only site (docs/monitoring.md): not through the admin API, so they do not
 * depend on where the admin endpoint listens. The port is render/monitoring.ts's MONITORING_PORTS.caddyMetrics.
 */
export const CADDY_METRICS = { address: "127.0.0.1", port: 2021 } as const;
export const METRICS_SITE_COMMENT = "# Prometheus metrics for the host's own Prometheus (loopback only)";

/** Debian's caddy package creates this folder owned by the `caddy` user. */
export const CADDY_LOG_DIR = "/var/log/caddy";
export const ACCESS_LOG = "access.log";
/** Browsers remember HTTPS-only for a year; no `preload`, which is hard to undo. */
export const HSTS = "max-age=31536000; includeSubDomains";
/**
 * Headers every site sends, replacing what an upstream set (applied as the response is written): HSTS; no MIME
 * sniffing (a user upload or a CDN file is never run as a script because a browser guessed); no paths or query strings
 * in the Referer sent to other origins (Janus long-poll URLs carry tokens).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
    "Strict-Transport-Security": HSTS,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
};
/**
 * Caddy closes every proxied WebSocket when its config is reloaded (caddyserver/caddy#3143), which would drop live
 * calls on each deploy. 2.7 added `stream_close_delay`: old streams survive the reload for this long. Debian 12's
 * 2.6.2 lacks it, so it is rendered only when `caddyVersion` is 2.7 or newer.
 */
export const STREAM_CLOSE_DELAY = { since: "2.7.0", value: "30m" } as const;

/** True when `version` (2.6.2, 2.7) is at least `min`. */
export function supports(version: string, min: string): boolean {
    const parse = (v: string) => v.split(".").map((x) => Number.parseInt(x, 10) || 0);
    const [a, b] = [parse(version), parse(min)];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
        if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
    }
    return true;
}

/** A Caddyfile token: bare when it can be, double-quoted otherwise. */
export function token(value: string): string {
    return /^[^\s"{}#\\]+$/.test(value) ? value : `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

function block(head: string, body: readonly string[]): string[] {
    return [head === "" ? "{" : `${head} {`, ...body.map((l) => (l === "" ? "" : `\t${l}`)), "}"];
}

/** `address:port` of a proxy route's upstream: the address the service binds, never a wildcard. */
export function upstreamAddress(service: ServiceSpec, target: ProxyTarget): string {
    return upstreamAddresses(service, target)[0];
}

/** Every upstream of a proxy route: the primary's `address:port`, then its standby copy's when it has one. */
export function upstreamAddresses(service: ServiceSpec, target: ProxyTarget): string[] {
    const address = service.bindAddress;
    if (["", "0.0.0.0", "::", "[::]", "localhost"].includes(address)) {
        throw new Error(`caddy: service ${service.id} binds "${address}"; upstreams must be the exact loopback or bridge address it listens on`);
    }
    const host = address.includes(":") ? `[${address}]` : address;
    const port = upstreamOf(service, target);
    return [port.port, ...(port.standbyPort === undefined ? [] : [port.standbyPort])].map((p) => `${host}:${p}`);
}

/**
 * How Caddy spreads a route over a primary and its standby (docs/deploys.md): always the first
 * healthy one (the primary), each request retried on the other for up to `tryDuration` when a connection fails (the
 * copy being replaced is stopped), a failed copy skipped for `failDuration`, and — where the container's health check
 * is an HTTP path on this very port — an active check every `healthInterval`, so a copy that listens but is not
 * healthy gets no request. Only directives Caddy 2.6.2 knows.
 */
export const UPSTREAM_POOL = { tryDuration: "30s", tryInterval: "250ms", failDuration: "10s", healthInterval: "2s", healthTimeout: "2s" } as const;

function poolDirectives(service: ServiceSpec, target: ProxyTarget): string[] {
    const port = upstreamOf(service, target);
    const health = publisherOf(service, port.id)?.health;
    const p = UPSTREAM_POOL;
    return [
        "lb_policy first",
        `lb_try_duration ${p.tryDuration}`,
        `lb_try_interval ${p.tryInterval}`,
        `fail_duration ${p.failDuration}`,
        ...(health?.kind === "http" && probesPort(health, port)
            ? [`health_uri ${token(health.path)}`, `health_interval ${p.healthInterval}`, `health_timeout ${p.healthTimeout}`]
            : []),
    ];
}

function globalOptions(opts: CaddyfileOptions): string[] {
    const lo = opts.loopback;
    return block("", [
        `email ${token(opts.acmeEmail)}`,
        `admin ${token(`unix/${lo ? lo.adminSocket : CADDY_ADMIN_SOCKET}`)}`,
        ...(lo ? [`http_port ${lo.httpPort}`, "default_bind 127.0.0.1"] : []),
        ...block("log", ["format json", `level ${opts.logLevel.toUpperCase()}`]),
        // Per-server request metrics (count, status code, duration); 2.6 added the option.
        ...block("servers", ["metrics"]),
    ]);
}

function metricsSite(opts: CaddyfileOptions): string[] {
    const port = opts.loopback ? opts.loopback.metricsPort : CADDY_METRICS.port;
    if (port === undefined) return [];
    // Plain HTTP on loopback: Prometheus on the host scrapes it; the firewall opens nothing for it.
    return [METRICS_SITE_COMMENT, ...block(`http://${CADDY_METRICS.address}:${port}`, ["bind 127.0.0.1", "metrics /metrics"])];
}

/** What every site shares: compression, the security headers and a rotated JSON access log (one file for all sites). */
function siteSnippet(opts: CaddyfileOptions): string[] {
    const file = `${opts.loopback?.logDir ?? CADDY_LOG_DIR}/${ACCESS_LOG}`;
    return block("(site)", [
        "encode zstd gzip",
        // `defer`: set as the response is written, so they replace an upstream's own instead of doubling it.
        ...block("header", [...Object.entries(SECURITY_HEADERS).map(([k, v]) => `${k} ${token(v)}`), "defer"]),
        ...block("log", [...block(`output file ${token(file)}`, ["roll_size 100MiB", "roll_keep 10", "roll_keep_for 30d"]), "format json"]),
    ]);
}

function proxyBody(service: ServiceSpec, target: ProxyTarget, opts: CaddyfileOptions): string[] {
    const addresses = upstreamAddresses(service, target);
    const upstreams = addresses.map((address) => {
        const upstream = opts.loopback ? opts.loopback.upstreams[address] : address;
        if (!upstream) throw new Error(`caddy loopback: no stand-in for upstream ${address} (service ${service.id})`);
        return upstream;
    });
    const inner = [
        ...(addresses.length > 1 ? poolDirectives(service, target) : []),
        ...(target.websocket && supports(opts.caddyVersion, STREAM_CLOSE_DELAY.since) ? [`stream_close_delay ${STREAM_CLOSE_DELAY.value}`] : []),
    ];
    const head = `reverse_proxy ${upstreams.join(" ")}`;
    // A path-scoped removal: a named matcher per header, and a deferred delete, so it applies to what the upstream sent.
    const removals = (target.removeResponseHeaders ?? []).flatMap(({ header, paths }) => {
        const matcher = `@strip_${header.toLowerCase().replace(/[^a-z0-9]+/g, "_")}`;
        return [`${matcher} path ${paths.map(token).join(" ")}`, ...block(`header ${matcher}`, [`-${header}`, "defer"])];
    });
    const limit = target.maxRequestBody ? block("request_body", [`max_size ${token(target.maxRequestBody)}`]) : [];
    return [...limit, ...removals, ...(inner.length === 0 ? [head] : block(head, inner))];
}

function staticBody(target: StaticTarget, opts: CaddyfileOptions): string[] {
    const root = opts.loopback?.staticRoots?.[target.root] ?? target.root;
    const headers = Object.entries(target.headers).map(([k, v]) => `${k} ${token(v)}`);
    return [
        `root * ${token(root)}`,
        ...(headers.length > 0 ? block("header", headers) : []),
        // Two matchers that exclude each other, so the order Caddy sorts two `header` directives in cannot matter.
        ...(target.cacheControl
            ? [
                  `@immutable path_regexp ${token(target.cacheControl.immutablePath)}`,
                  `header @immutable Cache-Control ${token(target.cacheControl.immutable)}`,
                  `@mutable not path_regexp ${token(target.cacheControl.immutablePath)}`,
                  `header @mutable Cache-Control ${token(target.cacheControl.mutable)}`,
              ]
            : []),
        // file_server answers OPTIONS with 405, which fails a CORS preflight; answer it with the headers above.
        "@preflight method OPTIONS",
        "respond @preflight 204",
        // Never a dotfile (.git, .env, .htpasswd) at any depth: `hide` with no path separator matches every path
        // component, and the file server answers 404 as if the file did not exist (checked with Caddy 2.6.2).
        ...block("file_server", ["hide .*"]),
    ];
}

function site(service: ServiceSpec, route: RouteSpec, opts: CaddyfileOptions): string[] {
    const address = opts.loopback ? `http://${route.hostname}` : route.hostname;
    const body = route.target.kind === "proxy" ? proxyBody(service, route.target, opts) : staticBody(route.target, opts);
    const tls = opts.tls === "internal" && !opts.loopback ? ["tls internal"] : [];
    return [`# ${route.id}: ${service.description}`, ...block(address, ["import site", ...tls, ...body])];
}

/**
 * A certificate-only site for a name that is not a route (the TURN hostname, docs/turn.md): Caddy obtains and renews
 * its certificate, which install-coturn.sh's sync copies to coturn. The name points at the TURN address, whose TCP 443
 * is coturn's, so the ACME TLS-ALPN challenge could never reach Caddy there; the HTTP challenge does (Caddy's wildcard
 * :80 answers every address). Nothing is served: a request that gets here is answered 404.
 */
function certificateSite(service: ServiceSpec, name: ServiceName, opts: CaddyfileOptions): string[] {
    const tls = opts.tls === "internal" ? ["tls internal"] : block("tls", block("issuer acme", ["disable_tlsalpn_challenge"]));
    return [`# ${name.id}: certificate only, for ${service.id} (its own address; see docs/turn.md)`, ...block(name.hostname, ["import site", ...tls, "respond 404"])];
}

/** The whole Caddyfile for one host. Same catalog and options, same bytes. */
export function renderCaddyfile(catalog: Catalog, opts: CaddyfileOptions): string {
    const sections = [
        [
            "# Generated by the VisualKit Pulumi program from the service catalog.",
            "# Edits made on the server are replaced by the next deployment.",
            ...globalOptions(opts),
        ],
        siteSnippet(opts),
        ...hostRoutes(catalog, opts.host).map(({ service, route }) => site(service, route, opts)),
        metricsSite(opts),
        ...(opts.loopback ? [] : catalog.services.filter((s) => s.host === opts.host).flatMap((s) => (s.names ?? []).map((n) => certificateSite(s, n, opts)))),
    ].filter((s) => s.length > 0);
    return sections.map((s) => s.join("\n")).join("\n\n") + "\n";
}
