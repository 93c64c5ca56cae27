/**
 * prober/worker.js in the real Workers runtime: workerd from npm (the binary Cloudflare publishes as
 * @cloudflare/workerd-linux-64), run here with the Worker's own module, its bindings as the Prober component sets them,
 * and outbound requests allowed to 127.0.0.1 only, trusting a test CA. The routes are stand-ins: up, down (502), slow
 * (past the timeout), an expired certificate, a WebSocket upgrade; the alert goes to a local sink. The cron event is
 * delivered the way Cloudflare's scheduler does, as a `scheduled` event (through a harness Worker's service binding:
 * Fetcher.scheduled(), behind workerd's `service_binding_extra_handlers` flag).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttp, type IncomingMessage, type Server } from "node:http";
import { createServer as createHttps } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { createServer as createNet } from "node:net";
import { join } from "node:path";
import { ROOT } from "../helpers/program";
import { certDate, makeTestCa } from "../helpers/tls-certs";

const WORKERD = join(ROOT, "node_modules/@cloudflare/workerd-linux-64/bin/workerd");
const DAY = 86400_000;
let dir: string;
const servers: Server[] = [];
let workerd: ChildProcess | undefined;
let workerdLog = "";
let harness = "";
const posts: { headers: IncomingMessage["headers"]; body: string }[] = [];
let sinkStatus = 200;

const listen = (s: Server) =>
    new Promise<number>((resolve) => {
        servers.push(s);
        s.listen(0, "127.0.0.1", () => resolve((s.address() as AddressInfo).port));
    });
const freePort = () =>
    new Promise<number>((resolve) => {
        const s = createNet().listen(0, "127.0.0.1", () => {
            const p = (s.address() as AddressInfo).port;
            s.close(() => resolve(p));
        });
    });
/** A capnp text literal. */
const lit = (s: string) => JSON.stringify(s);

beforeAll(async () => {
    dir = mkdtempSync("/tmp/vk-prober-");
    const ca = makeTestCa(join(dir, "ca"));
    const now = new Date();
    const good = ca.leaf("good", certDate(new Date(now.getTime() - DAY)), certDate(new Date(now.getTime() + 60 * DAY)), "IP:127.0.0.1");
    const expired = ca.leaf("expired", certDate(new Date(now.getTime() - 90 * DAY)), certDate(new Date(now.getTime() - DAY)), "IP:127.0.0.1");

    const routes = createHttps(good, (req, res) => {
        if (req.url === "/down") res.writeHead(502).end("bad gateway");
        else if (req.url === "/slow") setTimeout(() => res.writeHead(200).end("late"), 3000).unref();
        else res.writeHead(200).end("ok");
    });
    // A WebSocket handshake answered by hand: 101 with the accept key and the subprotocol Janus insists on.
    routes.on("upgrade", (req: IncomingMessage, socket: Socket) => {
        const accept = createHash("sha1").update(`${req.headers["sec-websocket-key"]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
        const proto = req.headers["sec-websocket-protocol"] === "janus-protocol" ? "Sec-WebSocket-Protocol: janus-protocol\r\n" : "";
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${proto}\r\n`);
        socket.on("error", () => undefined);
        setTimeout(() => socket.destroy(), 500).unref();
    });
    const routesPort = await listen(routes);
    const expiredPort = await listen(createHttps(expired, (_req, res) => res.writeHead(200).end("ok")));
    const sinkPort = await listen(
        createHttp((req, res) => {
            let body = "";
            req.on("data", (c) => (body += c));
            req.on("end", () => {
                posts.push({ headers: req.headers, body });
                res.writeHead(sinkStatus).end();
            });
        }),
    );

    const r = (path: string) => `https://127.0.0.1:${routesPort}${path}`;
    const failing = [
        { name: "api", url: r("/health"), kind: "http", expectStatus: 200 },
        { name: "janus", url: `wss://127.0.0.1:${routesPort}/`, kind: "websocket", expectStatus: 101, subprotocol: "janus-protocol" },
        { name: "agent", url: r("/down"), kind: "http", expectStatus: 200 },
        { name: "support", url: r("/slow"), kind: "http", expectStatus: 200 },
        { name: "cdn", url: `https://127.0.0.1:${expiredPort}/`, kind: "http", expectStatus: 200 },
    ];
    const healthy = failing.slice(0, 2);
    copyFileSync(join(ROOT, "prober/worker.js"), join(dir, "worker.js"));
    writeFileSync(join(dir, "ca.pem"), ca.caPem);
    writeFileSync(
        join(dir, "harness.js"),
        // Delivers a cron event to the prober named by the path and answers with the event's outcome.
        'export default { async fetch(req, env) { const p = env[new URL(req.url).pathname.slice(1)]; return Response.json(await p.scheduled({ cron: "*/5 * * * *" })); } };\n',
    );
    const prober = (checks: unknown[]) =>
        `(modules = [(name = "worker.js", esModule = embed "worker.js")], compatibilityDate = "2024-09-23", globalOutbound = "internet", bindings = [` +
        `(name = "CHECKS", text = ${lit(JSON.stringify(checks))}), (name = "STACK", text = "test"), (name = "TIMEOUT_MS", text = "1000"), ` +
        `(name = "ALERT_WEBHOOK_URL", text = ${lit(`http://127.0.0.1:${sinkPort}/hook`)})])`;
    const port = await freePort();
    harness = `http://127.0.0.1:${port}`;
    writeFileSync(
        join(dir, "config.capnp"),
        [
            'using Workerd = import "/workerd/workerd.capnp";',
            "const config :Workerd.Config = (",
            "  services = [",
            '    (name = "harness", worker = (modules = [(name = "harness.js", esModule = embed "harness.js")], compatibilityDate = "2024-09-23",',
            '      compatibilityFlags = ["service_binding_extra_handlers"], bindings = [(name = "failing", service = "failing"), (name = "healthy", service = "healthy")])),',
            `    (name = "failing", worker = ${prober(failing)}),`,
            `    (name = "healthy", worker = ${prober(healthy)}),`,
            // Loopback only, and only the test CA: the certificate checks are the runtime's own.
            '    (name = "internet", network = (allow = ["local"], tlsOptions = (trustedCertificates = [embed "ca.pem"]))),',
            "  ],",
            `  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "harness")],`,
            ");",
            "",
        ].join("\n"),
    );
    workerd = spawn(WORKERD, ["serve", join(dir, "config.capnp"), "--experimental"], { stdio: ["ignore", "pipe", "pipe"] });
    workerd.stdout!.on("data", (d) => (workerdLog += d));
    workerd.stderr!.on("data", (d) => (workerdLog += d));
    for (let i = 0; i < 100; i++) {
        if (await fetch(harness).then(() => true, () => false)) return;
        if (workerd.exitCode !== null) break;
        await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`workerd did not start:\n${workerdLog}`);
}, 60_000);

afterAll(async () => {
    const w = workerd;
    if (w && w.exitCode === null) await new Promise((done) => (w.once("exit", done), w.kill()));
    for (const s of servers) s.closeAllConnections?.(), s.close();
    rmSync(dir, { recursive: true, force: true });
});

async function cron(prober: "failing" | "healthy") {
    posts.length = 0;
    const res = await fetch(`${harness}/${prober}`);
    return (await res.json()) as { outcome: string };
}

test("workerd is the genuine runtime at the pinned version", async () => {
    const { execFileSync } = await import("node:child_process");
    expect(execFileSync(WORKERD, ["--version"], { encoding: "utf8" })).toMatch(/^workerd 2026-11-23/);
});

test("a cron run with routes down, slow and on an expired certificate posts one alert naming each, and why", async () => {
    expect(await cron("failing")).toEqual({ outcome: "ok", noRetry: false });
    expect(posts).toHaveLength(1);
    expect(posts[0].headers["content-type"]).toBe("application/json");
    const msg = JSON.parse(posts[0].body);
    expect(msg).toMatchObject({ source: "visualkit-prober", stack: "test", status: "firing", checked: 5 });
    const why = Object.fromEntries(msg.failing.map((f: { name: string; reason: string }) => [f.name, f.reason]));
    expect(Object.keys(why).sort()).toEqual(["agent", "cdn", "support"]);
    expect(why.agent).toBe("status 502, expected 200");
    expect(why.support).toBe("timeout after 1000 ms");
    expect(why.cdn).toMatch(/^TLS\/network error: .*certificate expired/);
    expect(msg.text).toMatch(/^\[test\] 3 of 5 public routes failing: /);
}, 30_000);

test("a cron run with every route up (an HTTP check and a WebSocket upgrade with its subprotocol) posts nothing", async () => {
    expect(await cron("healthy")).toEqual({ outcome: "ok", noRetry: false });
    expect(posts).toEqual([]);
}, 30_000);

test("a webhook that refuses the alert fails the cron run, so Cloudflare's logs show it", async () => {
    sinkStatus = 500;
    try {
        expect(await cron("failing")).toMatchObject({ outcome: "exception" });
        expect(posts).toHaveLength(1);
    } finally {
        sinkStatus = 200;
    }
}, 30_000);
