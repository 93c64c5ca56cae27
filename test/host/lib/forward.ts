import { request, createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * The native host's two links to this machine, both run by the test in its own process and closed by it:
 *   - TCP forwards from 127.0.0.1 to the machine's address (its sshd and Caddy), so every phase, `npm run smoke` and
 *     the operator scripts reach it at 127.0.0.1:<port> exactly as they reach the VM's forwarded ports;
 *   - an HTTP proxy on the host end of the machine's veth for apt, that forwards only to the hosts of the machine's
 *     own apt sources (Debian's archive) and refuses everything else. This is the machine's only way out: it has no
 *     route, no DNS and no NAT, like the VM whose user-mode network reaches only Debian's archive here.
 */

/** A listening TCP forward <listen address, 127.0.0.1 by default>:<port> → target:targetPort. */
export class TcpForward {
    private constructor(
        private readonly server: Server,
        private readonly sockets: Set<Socket>,
        readonly port: number,
    ) {}

    /** `listenHost`: another address of this machine, e.g. the host end of a machine's veth (lib/extra-host.ts). */
    static async open(targetHost: string, targetPort: number, listenHost = "127.0.0.1"): Promise<TcpForward> {
        const sockets = new Set<Socket>();
        const server = createServer((client) => {
            const upstream = connect(targetPort, targetHost);
            for (const s of [client, upstream]) {
                sockets.add(s);
                s.on("close", () => sockets.delete(s));
                s.on("error", () => undefined);
            }
            client.pipe(upstream).pipe(client);
            client.on("close", () => upstream.destroy());
            upstream.on("close", () => client.destroy());
        });
        await new Promise<void>((resolve, reject) => {
            server.once("error", reject);
            server.listen(0, listenHost, () => resolve());
        });
        return new TcpForward(server, sockets, (server.address() as { port: number }).port);
    }

    async close(): Promise<void> {
        for (const s of this.sockets) s.destroy();
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }
}

/** The hosts named by `deb` lines of an apt sources.list (what apt needs to reach). */
export function aptSourceHosts(sourcesList: string): string[] {
    const hosts = sourcesList
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => /^deb(-src)?\s/.test(l))
        .flatMap((l) => l.split(/\s+/).filter((w) => /^https?:\/\//.test(w)))
        .map((u) => new URL(u).hostname);
    return [...new Set(hosts)];
}

/** A plain-HTTP forward proxy that serves `GET http://<allowed host>/…` only (apt's Acquire::http::Proxy). */
export class ArchiveProxy {
    /** Requests refused (host not allowed), for the log. */
    readonly refused: string[] = [];
    private server?: HttpServer;

    constructor(readonly allowed: readonly string[]) {}

    /** Whether the proxy forwards a request for this absolute URL. */
    allows(url: string): boolean {
        try {
            const u = new URL(url);
            return u.protocol === "http:" && (u.port === "" || u.port === "80") && this.allowed.includes(u.hostname);
        } catch {
            return false;
        }
    }

    async listen(address: string): Promise<number> {
        await this.close();
        const server = createHttpServer((req, res) => {
            const url = req.url ?? "";
            if (req.method !== "GET" && req.method !== "HEAD") return this.refuse(res, `${req.method} ${url}`);
            if (!this.allows(url)) return this.refuse(res, url);
            const upstream = request(url, { method: req.method, headers: { ...req.headers, host: new URL(url).host } }, (up) => {
                res.writeHead(up.statusCode ?? 502, up.headers);
                up.pipe(res);
            });
            upstream.setTimeout(120_000, () => upstream.destroy(new Error("upstream timeout")));
            upstream.on("error", (e) => {
                if (!res.headersSent) res.writeHead(502);
                res.end(String(e.message));
            });
            upstream.end();
        });
        // CONNECT (https, anything else) is never tunnelled.
        server.on("connect", (req, socket: Socket) => {
            this.refused.push(`CONNECT ${req.url}`);
            socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
        });
        this.server = server;
        return new Promise((resolve, reject) => {
            server.once("error", reject);
            server.listen(0, address, () => resolve((server.address() as { port: number }).port));
        });
    }

    private refuse(res: import("node:http").ServerResponse, what: string): void {
        this.refused.push(what);
        res.writeHead(403, { "content-type": "text/plain" });
        res.end("the host tier's machine reaches only its apt sources\n");
    }

    async close(): Promise<void> {
        const server = this.server;
        this.server = undefined;
        if (!server) return;
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
    }
}
