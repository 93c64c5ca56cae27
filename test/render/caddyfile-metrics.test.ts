/**
 * Caddy's metrics site as rendered, in the real Caddy (Debian's 2.6.2): a route's requests show up on the loopback
 * metrics site with the labels the CaddyUpstreamErrors rule reads (server, code), without the admin API.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CaddyProcess, caddyEnv, freePort, get, proxiedUpstreams, stackOptions } from "../helpers/caddy";
import { parsedStack } from "../helpers/program";
import { renderCaddyfile } from "../../render/caddyfile";

const { config, catalog } = parsedStack("dev");
let dir: string;
let caddy: CaddyProcess | undefined;
const stubs: Server[] = [];

afterAll(async () => {
    await caddy?.stop();
    for (const s of stubs) s.closeAllConnections(), s.close();
    rmSync(dir, { recursive: true, force: true });
});

test("a 502 from an upstream is counted on the loopback metrics site with its server and code", async () => {
    dir = mkdtempSync("/tmp/vk-caddy-metrics-");
    const [httpPort, metricsPort] = [await freePort(), await freePort()];
    const adminSocket = join(dir, "admin.sock");
    const upstreams: Record<string, string> = {};
    for (const a of proxiedUpstreams(catalog).keys()) {
        // Healthy for Caddy's active checks, 502 for the request under test.
        const stub = createServer((req, res) => res.writeHead(req.url === "/fail" ? 502 : 200).end());
        stubs.push(stub);
        await new Promise<void>((ok) => stub.listen(0, "127.0.0.1", ok));
        upstreams[a] = `127.0.0.1:${(stub.address() as AddressInfo).port}`;
    }
    const text = renderCaddyfile(catalog, { ...stackOptions(config), loopback: { httpPort, adminSocket, metricsPort, upstreams, logDir: dir } });
    writeFileSync(join(dir, "Caddyfile"), text);
    caddy = await CaddyProcess.start(join(dir, "Caddyfile"), caddyEnv(dir), adminSocket, httpPort);
    const api = catalog.services.flatMap((s) => s.routes).find((r) => r.id === "api")!;
    expect((await get(httpPort, api.hostname, "/fail")).status).toBe(502);
    const metrics = (await get(metricsPort, `127.0.0.1:${metricsPort}`, "/metrics")).body;
    expect(metrics).toMatch(/^caddy_http_request_duration_seconds_count\{code="502",handler="[a-z_]+",method="GET",server="srv\d+"\} [1-9]/m);
}, 60_000);
