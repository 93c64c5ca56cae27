import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostRoutes } from "../../catalog";
import type { ProxyTarget } from "../../catalog/types";
import { renderCaddyfile, upstreamAddresses } from "../../render/caddyfile";
import { CaddyProcess, caddyEnv, freePort, get, proxiedUpstreams, stackOptions, StubUpstream } from "../helpers/caddy";
import { parsedStack } from "../helpers/program";

/**
 * The api route's primary and standby behind the real Caddy (Debian's 2.6.2, loopback rendering of the dev stack):
 * what a user sees while a deployment replaces one copy, then the other. Each copy is a stand-in that answers with
 * its version and can be stopped, started and made unhealthy, like a container being replaced.
 */

const { config, catalog } = parsedStack("dev");
const api = hostRoutes(catalog, "main").find((r) => r.route.id === "api")!;
const [primaryAddress, standbyAddress] = upstreamAddresses(api.service, api.route.target as ProxyTarget);
const healthPath = api.service.containers[0].health!.kind === "http" ? (api.service.containers[0].health as { path: string }).path : "";

/** A copy of the service on a fixed port: body = its version; /health answers `healthy` ? 200 : 503. */
class Copy {
    server?: Server;
    healthy = true;
    served = 0;
    constructor(
        readonly port: number,
        public version: string,
    ) {}
    async start(): Promise<void> {
        const server = createServer((req, res) => {
            // A process that is stopping (no longer this copy's server) answers what it has begun and keeps no
            // connection open for more.
            if (this.server !== server) res.setHeader("connection", "close");
            if (req.url === healthPath) {
                res.statusCode = this.healthy ? 200 : 503;
                res.end(this.healthy ? "ok" : "booting");
                return;
            }
            this.served++;
            res.end(this.version);
        });
        await new Promise<void>((ok) => server.listen(this.port, "127.0.0.1", ok));
        this.server = server;
    }
    /**
     * Like `docker stop`: new connections are refused, in-flight requests finish, and the process is gone after its
     * grace — every connection with it. `server.close()` alone is not that: Node keeps serving a keep-alive connection
     * that was busy when it was called for as long as the client keeps using it, and Caddy, under load, always does
     * (seen in CI: the stop never returned and the test ran into its timeout).
     */
    async stop(graceMs = 1000): Promise<void> {
        const s = this.server;
        this.server = undefined;
        if (!s) return;
        const closed = new Promise((ok) => s.close(ok));
        s.closeIdleConnections();
        const exit = setTimeout(() => s.closeAllConnections(), graceMs);
        await closed;
        clearTimeout(exit);
    }
}

const tmp = mkdtempSync(join(tmpdir(), "vk-caddy-standby-"));
let caddy: CaddyProcess;
let httpPort: number;
let primary: Copy;
let standby: Copy;
const others: StubUpstream[] = [];

/**
 * Requests in a bounded loop (count and time) through Caddy while `during` runs; every outcome is kept. Two workers
 * with a 20 ms pause still sample the route every ~12 ms, far finer than a replacement (seconds); four workers at
 * 10 ms kept a core busy.
 */
async function loadWhile(during: () => Promise<void>, opts = { concurrency: 2, maxRequests: 20_000, maxMs: 45_000, pauseMs: 20 }) {
    const results: { status: number; body: string; ms: number }[] = [];
    let done = false;
    const deadline = Date.now() + opts.maxMs;
    const worker = async () => {
        while (!done && results.length < opts.maxRequests && Date.now() < deadline) {
            const t0 = Date.now();
            try {
                const r = await get(httpPort, api.route.hostname, "/version");
                results.push({ status: r.status, body: r.body, ms: Date.now() - t0 });
            } catch (e) {
                results.push({ status: 0, body: String(e), ms: Date.now() - t0 });
            }
            await sleep(opts.pauseMs);
        }
    };
    const workers = Array.from({ length: opts.concurrency }, worker);
    await during();
    done = true;
    await Promise.all(workers);
    const failed = results.filter((r) => r.status !== 200);
    // The loop must have run for the whole scenario, not stopped early at one of its bounds.
    expect(results.length).toBeLessThan(opts.maxRequests);
    expect(Date.now()).toBeLessThan(deadline);
    return { results, failed, longestMs: Math.max(...results.map((r) => r.ms)), bodies: results.map((r) => r.body) };
}

const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

beforeAll(async () => {
    expect(standbyAddress).toBeDefined();
    primary = new Copy(await freePort(), "v1");
    standby = new Copy(await freePort(), "v1");
    await primary.start();
    await standby.start();
    const upstreams: Record<string, string> = { [primaryAddress]: `127.0.0.1:${primary.port}`, [standbyAddress]: `127.0.0.1:${standby.port}` };
    for (const address of proxiedUpstreams(catalog).keys()) {
        if (upstreams[address]) continue;
        const stub = await StubUpstream.start(address);
        others.push(stub);
        upstreams[address] = stub.address;
    }
    httpPort = await freePort();
    const adminSocket = join(tmp, "admin.sock");
    writeFileSync(join(tmp, "Caddyfile"), renderCaddyfile(catalog, { ...stackOptions(config), loopback: { httpPort, adminSocket, upstreams, logDir: tmp } }));
    caddy = await CaddyProcess.start(join(tmp, "Caddyfile"), caddyEnv(tmp), adminSocket, httpPort);
});

afterAll(async () => {
    await caddy?.stop();
    await primary?.stop();
    await standby?.stop();
    for (const s of others) await s.stop();
    rmSync(tmp, { recursive: true, force: true });
});

describe("a route with a standby copy, behind the real Caddy", () => {
    test("the rendered site lists the primary first, then its standby", () => {
        expect(renderCaddyfile(catalog, stackOptions(config))).toContain(`reverse_proxy ${primaryAddress} ${standbyAddress} {`);
    });

    test("the stand-in stops like a container: what it has begun is answered, then the connection is dropped", async () => {
        const copy = new Copy(await freePort(), "vX");
        await copy.start();
        const socket = connect(copy.port, "127.0.0.1");
        let received = "";
        socket.on("data", (d: Buffer) => (received += d.toString("utf8")));
        const ended = new Promise<boolean>((ok) => {
            socket.on("end", () => ok(true));
            setTimeout(() => ok(false), 5000);
        });
        // A request under way (headers not complete) when the stop begins, on a connection the client would keep using.
        await new Promise<void>((ok) => socket.write("GET /version HTTP/1.1\r\nHost: x\r\n", () => ok()));
        await sleep(100);
        const stopped = copy.stop(60_000); // a long grace: the drop must come from the stopping copy, not the timer
        socket.write("\r\n");
        expect(await ended).toBe(true);
        expect(received).toMatch(/^connection: close$/im);
        expect(received).toMatch(/vX$/);
        await stopped;
        socket.destroy();
    });

    test("while the copies are replaced one after the other (v1 → v2), no request fails and the answers switch to v2", async () => {
        const run = await loadWhile(async () => {
            await sleep(500);
            // The standby is replaced first: it goes away, then comes back with v2 and turns healthy.
            await standby.stop();
            await sleep(1500);
            standby.version = "v2";
            await standby.start();
            await sleep(3000);
            // Then the primary: stopped, and back with v2 after its boot (unhealthy at first).
            await primary.stop();
            await sleep(2000);
            primary.version = "v2";
            primary.healthy = false;
            await primary.start();
            await sleep(3000);
            // Healthy: the loop goes on until the primary has answered again (a health interval or two).
            primary.served = 0;
            primary.healthy = true;
            const healthy = Date.now();
            while (primary.served < 20 && Date.now() - healthy < 10_000) await sleep(100);
            expect(primary.served).toBeGreaterThanOrEqual(20);
        });
        console.log(`standby rollout: ${run.results.length} requests, ${run.failed.length} failed, longest wait ${run.longestMs} ms`);
        expect(run.failed).toEqual([]);
        expect(run.bodies[0]).toBe("v1");
        expect(run.bodies[run.bodies.length - 1]).toBe("v2");
        // v1 never comes back once v2 has answered: each copy switches once.
        const firstV2 = run.bodies.indexOf("v2");
        expect(run.bodies.slice(firstV2).filter((b) => b === "v1").length).toBeLessThanOrEqual(4);
    });

    test("a copy that listens but fails its health check gets no request while the other is healthy", async () => {
        // The primary goes down (as when it is replaced), comes back listening but unhealthy, and stays so.
        await primary.stop();
        await sleep(2500);
        primary.version = "v3-broken";
        primary.healthy = false;
        primary.served = 0;
        await primary.start();
        const run = await loadWhile(() => sleep(6000));
        expect(run.failed).toEqual([]);
        expect(primary.served).toBe(0);
        expect(new Set(run.bodies)).toEqual(new Set(["v2"]));
        // Healthy again: traffic returns to the primary within a few health intervals (2 s each).
        primary.healthy = true;
        const back = Date.now();
        let body = "";
        while (Date.now() - back < 10_000 && (body = (await get(httpPort, api.route.hostname, "/version")).body) !== "v3-broken") await sleep(250);
        expect(body).toBe("v3-broken");
    });
});
