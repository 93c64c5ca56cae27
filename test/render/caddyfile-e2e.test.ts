import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import WebSocket from "ws";
import { hostRoutes } from "../../catalog";
import type { StaticTarget } from "../../catalog/types";
import { ACCESS_LOG, HSTS, renderCaddyfile } from "../../render/caddyfile";
import { CaddyProcess, caddyEnv, freePort, get, proxiedUpstreams, stackOptions, StubUpstream } from "../helpers/caddy";
import { parsedStack } from "../helpers/program";

/**
 * The loopback rendering of the PROD catalog, served by the real Caddy on 127.0.0.1, with a stand-in server per
 * upstream that answers with its own name. Proves routing, WebSockets, header rules and the CDN end to end.
 */

const { config, catalog } = parsedStack("prod");
const routes = hostRoutes(catalog, "main");
const byId = (id: string) => routes.find((r) => r.route.id === id)!.route;
const cdnTarget = byId("cdn").target as StaticTarget;
const upstreams = proxiedUpstreams(catalog);

const tmp = mkdtempSync(join(tmpdir(), "vk-caddy-e2e-"));
const cdnDir = join(tmp, "widget-cdn");
const widget = `/* VisualKit widget */\n${"window.visualkit = window.visualkit || {};\n".repeat(40)}`;
const stubs = new Map<string, StubUpstream>();
let caddy: CaddyProcess;
let httpPort: number;

beforeAll(async () => {
    // A release's own folder and a hashed name never change; /widget.js and /v1/widget.js move with every release.
    for (const path of ["v1/widget.js", "widget.js", "1.4.2/widget.js", "v2.0.0-beta.1/widget.js", "assets/widget.3f9a1c2bde.js", "widget.3f9a.js"]) {
        mkdirSync(dirname(join(cdnDir, path)), { recursive: true });
        writeFileSync(join(cdnDir, path), widget);
    }
    // What a wrong folder would hold: a checkout's metadata, an env file, a hidden key.
    mkdirSync(join(cdnDir, ".git"), { recursive: true });
    writeFileSync(join(cdnDir, ".git", "config"), "[remote]\n");
    writeFileSync(join(cdnDir, ".env"), "SECRET=1\n");
    writeFileSync(join(cdnDir, "v1", ".key"), "-----BEGIN OPENSSH PRIVATE KEY-----\n");
    for (const address of upstreams.keys()) stubs.set(address, await StubUpstream.start(address));
    httpPort = await freePort();
    const adminSocket = join(tmp, "admin", "caddy.sock");
    mkdirSync(join(tmp, "admin"), { mode: 0o700 });
    const text = renderCaddyfile(catalog, {
        ...stackOptions(config),
        loopback: {
            httpPort,
            adminSocket,
            upstreams: Object.fromEntries([...stubs].map(([address, stub]) => [address, stub.address])),
            staticRoots: { [cdnTarget.root]: cdnDir },
            logDir: join(tmp, "log"),
        },
    });
    writeFileSync(join(tmp, "Caddyfile"), text);
    caddy = await CaddyProcess.start(join(tmp, "Caddyfile"), caddyEnv(tmp), adminSocket, httpPort);
});

afterAll(async () => {
    await caddy?.stop();
    for (const stub of stubs.values()) await stub.stop();
    rmSync(tmp, { recursive: true, force: true });
});

function openWebSocket(host: string, protocols: string[]): Promise<{ protocol: string; message: { upstream: string; protocol: string } }> {
    return new Promise((ok, fail) => {
        const socket = new WebSocket(`ws://127.0.0.1:${httpPort}/`, protocols, { headers: { host } });
        socket.on("message", (data) => {
            ok({ protocol: socket.protocol, message: JSON.parse(String(data)) });
            socket.close();
        });
        socket.on("error", fail);
        socket.on("unexpected-response", (_, res) => fail(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    });
}

describe("the prod catalog behind the real Caddy (loopback)", () => {
    test("the stand-ins cover every proxied upstream of the catalog (janus on the bridge gateway included)", () => {
        expect([...upstreams.keys()].sort()).toEqual([
            "127.0.0.1:3001", "127.0.0.1:3002", "127.0.0.1:3003", "127.0.0.1:3004",
            // the standby copies of platform-api (API and WebSocket), Chatwoot rails and vk-agent
            "127.0.0.1:3101", "127.0.0.1:3102", "127.0.0.1:3103", "127.0.0.1:3104",
            "172.18.0.1:8088", "172.18.0.1:8188",
        ]);
    });

    test.each(routes.filter((r) => r.route.target.kind === "proxy").map((r) => [r.route.hostname, r.route.id] as const))(
        "Host %s reaches its own upstream",
        async (hostname, id) => {
            const [address] = [...upstreams].find(([, ids]) => ids.includes(id))!;
            const res = await get(httpPort, hostname, "/some/path?x=1");
            expect(res.status).toBe(200);
            expect(JSON.parse(res.body)).toEqual({ upstream: address, host: hostname, path: "/some/path?x=1" });
            expect(res.headers["strict-transport-security"]).toBe(HSTS);
        },
    );

    test("a WebSocket upgrade through the ws site reaches the WebSocket server", async () => {
        const { message } = await openWebSocket(byId("ws").hostname, []);
        expect(message.upstream).toBe("127.0.0.1:3002");
    });

    test("a WebSocket upgrade through the janus site keeps the janus-protocol subprotocol both ways", async () => {
        const { protocol, message } = await openWebSocket(byId("janus").hostname, ["janus-protocol"]);
        expect(message).toEqual({ upstream: "172.18.0.1:8188", protocol: "janus-protocol" });
        expect(protocol).toBe("janus-protocol");
    });

    test("janus-api passes at most 64 KB of a request body to Janus (Janus buffers bodies unbounded, before auth)", async () => {
        const janusHttp = stubs.get("172.18.0.1:8088")!;
        const post = (size: number) => get(httpPort, byId("janusApi").hostname, "/janus", { method: "POST", body: "x".repeat(size) });
        const small = await post(60 * 1024);
        expect(small.status).toBe(200);
        expect(small.headers["x-upstream"]).toBe("172.18.0.1:8088");
        expect(janusHttp.largestBody).toBe(60 * 1024);
        // Caddy 2.6.2 aborts the proxied request at the limit and answers 502 (later versions 413), or resets the
        // connection while the client is still sending.
        const big = await post(4 * 1024 * 1024).catch((e: NodeJS.ErrnoException) => ({ status: e.code ?? String(e), headers: {} as Record<string, string> }));
        expect([413, 502, "ECONNRESET", "EPIPE"]).toContain(big.status);
        expect(big.headers["x-upstream"]).toBeUndefined();
        expect(janusHttp.largestBody).toBeLessThanOrEqual(64 * 1024);
    });

    test.each(["/widget?website_token=abc", "/widget/", "/hc/visualkit/articles/1?show_plain_layout=true"])(
        "support: the widget's %s may be framed (no X-Frame-Options although the upstream sends one)",
        async (path) => {
            const direct = await get(stubs.get("127.0.0.1:3003")!.port, "support.visualkit.live", path);
            expect(direct.headers["x-frame-options"]).toBe("SAMEORIGIN");
            const res = await get(httpPort, byId("support").hostname, path);
            expect(res.headers["x-upstream"]).toBe("127.0.0.1:3003");
            expect(res.headers["x-frame-options"]).toBeUndefined();
        },
    );

    test.each(["/", "/app/login", "/app/accounts/1/dashboard", "/widgets", "/api/v1/widget/config"])(
        "support: the agent dashboard and everything else keeps X-Frame-Options (%s cannot be framed)",
        async (path) => {
            const res = await get(httpPort, byId("support").hostname, path);
            expect(res.headers["x-upstream"]).toBe("127.0.0.1:3003");
            expect(res.headers["x-frame-options"]).toBe("SAMEORIGIN");
        },
    );

    test.each(routes.map((r) => [r.route.hostname, r.route.id === "cdn" ? "/v1/widget.js" : "/"] as const))(
        "%s sends nosniff, strict-origin-when-cross-origin and HSTS, one value each (the upstream's own are replaced)",
        async (hostname, path) => {
            const res = await get(httpPort, hostname, path);
            expect(res.status).toBe(200);
            expect(res.headers["x-content-type-options"]).toBe("nosniff");
            expect(res.headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");
            expect(res.headers["strict-transport-security"]).toBe(HSTS);
        },
    );

    test("other sites pass the upstream's X-Frame-Options through untouched", async () => {
        const res = await get(httpPort, byId("api").hostname);
        expect(res.headers["x-frame-options"]).toBe("SAMEORIGIN");
    });

    test("cdn serves the widget file with the CORS, Cache-Control and HSTS headers", async () => {
        const res = await get(httpPort, byId("cdn").hostname, "/v1/widget.js");
        expect(res.status).toBe(200);
        expect(res.body).toBe(widget);
        expect(res.headers["access-control-allow-origin"]).toBe("*");
        expect(res.headers["access-control-allow-methods"]).toBe("GET, OPTIONS");
        expect(res.headers["cache-control"]).toBe("public, max-age=300, must-revalidate");
        expect(res.headers["strict-transport-security"]).toBe(HSTS);
        expect(res.headers["x-upstream"]).toBeUndefined();
    });

    // Before: Caddy's file_server served every file of the root, dotfiles included (/.git/config, /.env: 200).
    test.each(["/.env", "/.git/config", "/v1/.key", "/%2Eenv", "/v1/%2ekey", "/.git/"])("cdn never serves a dotfile: %s is 404", async (path) => {
        const res = await get(httpPort, byId("cdn").hostname, path);
        expect(res.status).toBe(404);
        expect(res.body).not.toMatch(/SECRET|PRIVATE KEY|remote/);
    });

    test.each([
        ["/widget.js", "public, max-age=300, must-revalidate"],
        ["/v1/widget.js", "public, max-age=300, must-revalidate"],
        ["/widget.3f9a.js", "public, max-age=300, must-revalidate"],
        ["/1.4.2/widget.js", "public, max-age=31536000, immutable"],
        ["/v2.0.0-beta.1/widget.js", "public, max-age=31536000, immutable"],
        ["/assets/widget.3f9a1c2bde.js", "public, max-age=31536000, immutable"],
    ])("cdn %s: Cache-Control %s (immutable only for names whose bytes never change)", async (path, cacheControl) => {
        const res = await get(httpPort, byId("cdn").hostname, path);
        expect(res.status).toBe(200);
        expect(res.headers["cache-control"]).toBe(cacheControl);
        expect(res.headers["access-control-allow-origin"]).toBe("*");
    });

    test("cdn answers a CORS preflight with 204 and the CORS headers", async () => {
        const res = await get(httpPort, byId("cdn").hostname, "/v1/widget.js", {
            method: "OPTIONS",
            headers: { origin: "https://customer.example", "access-control-request-method": "GET" },
        });
        expect(res.status).toBe(204);
        expect(res.headers["access-control-allow-origin"]).toBe("*");
        expect(res.headers["access-control-allow-methods"]).toBe("GET, OPTIONS");
    });

    test("responses are compressed for clients that accept it", async () => {
        const res = await new Promise<{ encoding?: string; body: Buffer }>((ok, fail) => {
            const req = require("node:http").request(
                { host: "127.0.0.1", port: httpPort, path: "/v1/widget.js", headers: { host: byId("cdn").hostname, "accept-encoding": "gzip" }, agent: false },
                (r: import("node:http").IncomingMessage) => {
                    const chunks: Buffer[] = [];
                    r.on("data", (c: Buffer) => chunks.push(c));
                    r.on("end", () => ok({ encoding: r.headers["content-encoding"], body: Buffer.concat(chunks) }));
                },
            );
            req.on("error", fail);
            req.end();
        });
        expect(res.encoding).toBe("gzip");
        expect(gunzipSync(res.body).toString("utf8")).toBe(widget);
    });

    test("an unknown Host gets no upstream's content", async () => {
        const res = await get(httpPort, "unknown.visualkit.live", "/v1/widget.js");
        expect(res.headers["x-upstream"]).toBeUndefined();
        expect(res.body).not.toContain("upstream");
        expect(res.body).not.toContain("VisualKit widget");
    });

    test("every request lands in the JSON access log with its host", async () => {
        await get(httpPort, byId("agent").hostname, "/logged");
        const lines = () =>
            readFileSync(join(tmp, "log", ACCESS_LOG), "utf8")
                .trim()
                .split("\n")
                .map((l) => JSON.parse(l) as { request: { host: string; uri: string } });
        const entry = lines().find((l) => l.request.uri === "/logged");
        expect(entry?.request.host).toBe(byId("agent").hostname);
    });
});
