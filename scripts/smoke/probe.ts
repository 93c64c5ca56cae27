import { createHash, randomBytes } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import type { Socket } from "node:net";
import { connect as tlsConnect, rootCertificates, type TLSSocket } from "node:tls";
import type { HealthCheck } from "../../lib/health-checks";

/**
 * One request to one health-check URL: a plain GET, or a WebSocket opening handshake (RFC 6455 §4) done with
 * node's own http/https so the checker has no runtime dependency. Certificates are always verified; `ca` only
 * adds trusted roots (tests trust their own CA instead of switching verification off).
 */

export interface ProbeOptions {
    readonly timeoutMs: number;
    /** Extra trusted CA certificates (PEM), added to Node's bundled roots. */
    readonly ca?: readonly string[];
    /**
     * Connect here instead of where DNS points (a new server before the DNS switch, a test VM); the TLS server
     * name, the certificate check and the Host header stay the URL's hostname. No port: the URL's port.
     */
    readonly address?: { readonly host: string; readonly port?: number };
}

/** `203.0.113.7`, `203.0.113.7:8443`, `[2001:db8::1]:443` or `2001:db8::1` → host and optional port. */
export function parseAddress(text: string): { host: string; port?: number } {
    const m = text.match(/^\[([^\]]+)\](?::(\d+))?$/) ?? text.match(/^([^:\s]+)(?::(\d+))?$/) ?? text.match(/^([0-9a-fA-F:]+)()$/);
    const port = m?.[2] ? Number(m[2]) : undefined;
    if (!m || !m[1] || (port !== undefined && (port < 1 || port > 65535))) {
        throw new Error(`--address must be HOST or HOST:PORT (IPv6 in brackets with a port), got ${text}`);
    }
    return port === undefined ? { host: m[1] } : { host: m[1], port };
}

export interface Reply {
    readonly status: number;
    /** The connection switched protocols (the server answered the upgrade with 101). */
    readonly upgraded: boolean;
    readonly headers: http.IncomingHttpHeaders;
    /** notAfter of the server certificate (ms since epoch), for https/wss. */
    readonly certValidTo?: number;
    /** The Sec-WebSocket-Key sent, to verify the server's Sec-WebSocket-Accept. */
    readonly wsKey?: string;
}

export class TimeoutError extends Error {
    constructor(ms: number) {
        super(`timed out after ${ms} ms`);
        this.name = "TimeoutError";
    }
}

const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The Sec-WebSocket-Accept a server must return for a key (RFC 6455 §4.2.2). */
export function websocketAccept(key: string): string {
    return createHash("sha1").update(key + WS_GUID).digest("base64");
}

export function isSecure(url: URL): boolean {
    return url.protocol === "https:" || url.protocol === "wss:";
}

function certValidTo(socket: Socket): number | undefined {
    const cert = (socket as Partial<TLSSocket>).getPeerCertificate?.();
    return cert?.valid_to ? Date.parse(cert.valid_to) : undefined;
}

/** Closes an upgraded connection politely: a masked close frame with status 1000, then FIN. */
function closeWebSocket(socket: Socket): void {
    const mask = randomBytes(4);
    const payload = Buffer.from([0x03, 0xe8]).map((b, i) => b ^ mask[i % 4]);
    socket.on("error", () => undefined);
    socket.resume();
    socket.end(Buffer.concat([Buffer.from([0x88, 0x80 | payload.length]), mask, payload]));
    socket.unref();
}

export function probe(check: HealthCheck, opts: ProbeOptions): Promise<Reply> {
    const url = new URL(check.url);
    const secure = isSecure(url);
    const wsKey = check.kind === "websocket" ? randomBytes(16).toString("base64") : undefined;
    const headers: http.OutgoingHttpHeaders = { "User-Agent": "visualkit-smoke", Accept: "*/*" };
    if (wsKey) {
        Object.assign(headers, { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": wsKey });
        if (check.subprotocol) headers["Sec-WebSocket-Protocol"] = check.subprotocol;
    }
    const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const urlPort = url.port || (secure ? 443 : 80);
    if (opts.address) headers.Host = url.host;
    const options: https.RequestOptions = {
        method: "GET",
        hostname: opts.address?.host ?? hostname,
        port: opts.address?.port ?? urlPort,
        // SNI and the certificate's name check follow the URL, wherever the connection goes.
        ...(secure && opts.address ? { servername: hostname } : {}),
        path: `${url.pathname}${url.search}`,
        headers,
        // A fresh connection per check, so every https check sees the certificate handshake.
        agent: false,
        ...(secure && opts.ca?.length ? { ca: [...rootCertificates, ...opts.ca] } : {}),
    };
    return new Promise<Reply>((resolve, reject) => {
        const req = (secure ? https : http).request(options);
        const timer = setTimeout(() => req.destroy(new TimeoutError(opts.timeoutMs)), opts.timeoutMs);
        const settle = (f: () => void) => {
            clearTimeout(timer);
            f();
        };
        req.on("response", (res) => {
            const reply = { status: res.statusCode ?? 0, upgraded: false, headers: res.headers, certValidTo: certValidTo(res.socket), wsKey };
            res.destroy();
            settle(() => resolve(reply));
        });
        req.on("upgrade", (res, socket) => {
            const reply = { status: res.statusCode ?? 0, upgraded: true, headers: res.headers, certValidTo: certValidTo(socket), wsKey };
            closeWebSocket(socket);
            settle(() => resolve(reply));
        });
        req.on("error", (err) => settle(() => reject(err)));
        req.end();
    });
}

/**
 * A TLS handshake only, for a public hostname with no health check (Pages sites, the www redirect, …): the
 * certificate is verified like every other and its notAfter returned. No request is sent.
 */
export function probeCertificate(rawUrl: string, opts: ProbeOptions): Promise<number | undefined> {
    const url = new URL(rawUrl);
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    return new Promise((resolve, reject) => {
        const socket = tlsConnect({
            // --address: connect there; SNI and the name check stay the URL's, as for every other check.
            host: opts.address?.host ?? host,
            port: opts.address?.port ?? Number(url.port || 443),
            // SNI takes names only; an address (the tests' 127.0.0.1) is verified against the certificate's IP SAN.
            ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }),
            ...(opts.ca?.length ? { ca: [...rootCertificates, ...opts.ca] } : {}),
        });
        const timer = setTimeout(() => socket.destroy(new TimeoutError(opts.timeoutMs)), opts.timeoutMs);
        socket.once("secureConnect", () => {
            clearTimeout(timer);
            const validTo = certValidTo(socket);
            socket.end();
            resolve(validTo);
        });
        socket.once("error", (err) => {
            clearTimeout(timer);
            reject(err);
        });
    });
}
