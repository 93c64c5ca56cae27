import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { hostRoutes } from "../../catalog";
import type { Catalog } from "../../catalog/types";
import type { PlatformConfig } from "../../config/types";
import { upstreamAddresses, type CaddyfileOptions } from "../../render/caddyfile";

/**
 * Drives the real Caddy (Debian's 2.6.2) from tests: stand-in upstreams, a Caddy process on
 * 127.0.0.1 and plain HTTP requests with a chosen Host header. Nothing here skips: a missing caddy fails.
 */

/** The renderer options the component uses for a stack's config. */
export function stackOptions(config: PlatformConfig): CaddyfileOptions {
    return { host: "main", acmeEmail: config.acmeEmail, caddyVersion: config.caddyVersion, logLevel: config.logLevel };
}

/** Every distinct proxied upstream (`address:port`, standby copies included) of a host, with the route ids behind it. */
export function proxiedUpstreams(catalog: Catalog, host = "main"): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const { service, route } of hostRoutes(catalog, host)) {
        if (route.target.kind !== "proxy") continue;
        for (const address of upstreamAddresses(service, route.target)) out.set(address, [...(out.get(address) ?? []), route.id]);
    }
    return out;
}

export async function freePort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const { port } = server.address() as AddressInfo;
    await new Promise((ok) => server.close(ok));
    return port;
}

/** Polls until `check` resolves truthy; fails with the last error after `attempts` tries. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, attempts = 100): Promise<T> {
    let last: unknown;
    for (let i = 0; i < attempts; i++) {
        try {
            const v = await check();
            if (v) return v;
        } catch (e) {
            last = e;
        }
        await new Promise((ok) => setTimeout(ok, 100));
    }
    throw new Error(`timed out waiting for ${what}: ${String(last)}`);
}

export interface Reply {
    readonly status: number;
    readonly headers: IncomingHttpHeaders;
    readonly body: string;
}

/** One HTTP request to 127.0.0.1:port with the given Host header (fetch cannot set Host). */
export function get(port: number, host: string, path = "/", opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
    return new Promise((ok, fail) => {
        const req = request({ host: "127.0.0.1", port, path, method: opts.method ?? "GET", headers: { host, ...opts.headers }, agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        });
        req.on("error", fail);
        req.end(opts.body);
    });
}

/**
 * A request to Caddy's admin API on its unix socket. Caddy wants an empty Host header there (caddy's
 * cmd/commandfuncs.go, AdminAPIRequest), which is what `caddy reload --address unix/...` sends too.
 */
export function adminGet(socketPath: string, path: string): Promise<Reply> {
    return new Promise((ok, fail) => {
        const req = request({ socketPath, path, method: "GET", setHost: false, headers: { Host: "" }, agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        });
        req.on("error", fail);
        req.end();
    });
}

/** The TCP ports a process listens on (`ss -ltnpH`), to prove Caddy keeps no TCP admin listener. */
export function tcpListenPorts(pid: number): number[] {
    const res = spawnSync("ss", ["-ltnpH"], { encoding: "utf8" });
    if (res.error) throw new Error(`ss could not run (iproute2): ${res.error.message}`);
    return res.stdout
        .split("\n")
        .filter((l) => l.includes(`pid=${pid},`))
        .map((l) => Number(l.trim().split(/\s+/)[3].split(":").pop()))
        .sort((a, b) => a - b);
}

/** A stand-in upstream: answers every request and WebSocket with its name, and sends X-Frame-Options like Chatwoot. */
export class StubUpstream {
    private constructor(
        readonly name: string,
        readonly server: Server,
        readonly port: number,
    ) {}

    /** The most request-body bytes this stand-in received in one request. */
    largestBody = 0;

    static async start(name: string): Promise<StubUpstream> {
        let stub: StubUpstream;
        const server = createServer((req, res) => {
            res.setHeader("Content-Type", "application/json");
            res.setHeader("X-Frame-Options", "SAMEORIGIN");
            // A weaker policy than the platform's, which Caddy must replace (not add a second value).
            res.setHeader("Referrer-Policy", "unsafe-url");
            res.setHeader("X-Upstream", name);
            // Answer once the whole body has arrived; remember the most body bytes any request delivered.
            let bytes = 0;
            req.on("data", (c: Buffer) => {
                bytes += c.length;
                stub.largestBody = Math.max(stub.largestBody, bytes);
            });
            req.on("end", () => res.end(JSON.stringify({ upstream: name, host: req.headers.host, path: req.url })));
        });
        const wss = new WebSocketServer({ server, handleProtocols: (offered) => [...offered][0] ?? false });
        wss.on("connection", (socket) => socket.send(JSON.stringify({ upstream: name, protocol: socket.protocol })));
        await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
        stub = new StubUpstream(name, server, (server.address() as AddressInfo).port);
        return stub;
    }

    get address(): string {
        return `127.0.0.1:${this.port}`;
    }

    async stop(): Promise<void> {
        this.server.closeAllConnections();
        await new Promise((ok) => this.server.close(ok));
    }
}

/** A running `caddy run`; its combined output is kept for failure messages. */
export class CaddyProcess {
    output = "";
    private exited = false;

    private constructor(readonly proc: ChildProcess) {
        proc.stdout?.on("data", (d: Buffer) => (this.output += d.toString()));
        proc.stderr?.on("data", (d: Buffer) => (this.output += d.toString()));
        proc.on("exit", () => (this.exited = true));
    }

    /**
     * Starts Caddy on a Caddyfile and waits until the admin endpoint and the HTTP port answer. `admin` is the socket
     * path the rendered file sets, or a TCP port on 127.0.0.1 (a Caddy before its first rendered file).
     */
    static async start(configPath: string, env: NodeJS.ProcessEnv, admin: string | number, httpPort: number): Promise<CaddyProcess> {
        const caddy = new CaddyProcess(spawn("caddy", ["run", "--config", configPath, "--adapter", "caddyfile"], { env, stdio: ["ignore", "pipe", "pipe"] }));
        const spawnError = new Promise<never>((_, fail) => caddy.proc.on("error", (e) => fail(new Error(`caddy could not start (is it installed?): ${e.message}`))));
        const ready = waitFor("caddy to listen", async () => {
            if (caddy.exited) throw new Error(`caddy exited:\n${caddy.output}`);
            const reply = typeof admin === "number" ? await get(admin, `127.0.0.1:${admin}`, "/config/") : await adminGet(admin, "/config/");
            await get(httpPort, "readiness.invalid");
            return reply.status === 200;
        });
        await Promise.race([ready, spawnError]);
        return caddy;
    }

    async stop(): Promise<void> {
        if (this.exited) return;
        const done = new Promise((ok) => this.proc.on("exit", ok));
        this.proc.kill("SIGTERM");
        await done;
    }
}

/** Environment that keeps Caddy's data and autosave inside the test's temp dir. */
export function caddyEnv(dir: string): NodeJS.ProcessEnv {
    return { ...process.env, HOME: dir, XDG_DATA_HOME: `${dir}/data`, XDG_CONFIG_HOME: `${dir}/config` };
}

/** `caddy <args>` to completion; throws when the binary is missing so tests fail instead of skipping. */
export function caddyCli(args: string[], env: NodeJS.ProcessEnv = process.env): { status: number; stdout: string; stderr: string } {
    const res = spawnSync("caddy", args, { env, encoding: "utf8" });
    if (res.error) throw new Error(`caddy could not run (is it installed?): ${res.error.message}`);
    return { status: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}
