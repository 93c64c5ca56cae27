import { sha256 } from "../../lib/artifacts";
import type { HealthCheck } from "../../lib/health-checks";
import { stackOutputs, type StackOutputs } from "../../lib/outputs";
import { parseHealthChecks } from "../../scripts/smoke/input";
import { parsedStack, runProgram, type ProgramRun } from "../helpers/program";

/** The outputs contract as the real program returns it under mocks. */
const outputsOf = (run: ProgramRun) => run.outputs as unknown as StackOutputs;

describe.each(["dev", "prod"] as const)("stack outputs of %s", (stack) => {
    let run: ProgramRun;
    let out: StackOutputs;
    beforeAll(async () => {
        run = await runProgram(stack);
        out = outputsOf(run);
    });

    test("the host: name, IPv4, IPv6 and an ssh command; `host` is the catalog's first host in `hosts`", () => {
        expect(Object.keys(out.hosts)).toEqual(["main"]);
        expect(out.host).toEqual(out.hosts.main);
        expect(out.host.ssh).toBe(`ssh root@${out.host.ipv4}`);
        expect(out.host.name).toBe(`visualkit-${stack}-main`);
    });

    test("endpoints: one URL per public hostname, wss:// exactly for the WebSocket routes", () => {
        const domain = stack === "prod" ? "visualkit.live" : "dev.visualkit.live";
        expect(out.endpoints).toEqual({
            api: `https://api.${domain}`,
            ws: `wss://ws.${domain}`,
            agent: `https://agent.${domain}`,
            janus: `wss://janus.${domain}`,
            janusApi: `https://janus-api.${domain}`,
            support: `https://support.${domain}`,
            cdn: `https://cdn.${domain}`,
            landing: `https://${domain}`,
            dashboard: `https://app.${domain}`,
            meeting: `https://meet.${domain}`,
            // The www redirect lives in the stack that owns the zone; dev is a subdomain of prod's zone.
            ...(stack === "prod" ? { www: `https://www.${domain}` } : {}),
        });
    });

    test("every endpoint has its DNS records: A + AAAA to the host for VPS routes, a proxied CNAME to pages.dev for Pages", () => {
        const records = (host: string) => out.dnsRecords.filter((r) => r.name === host).map((r) => `${r.type} ${r.content}${r.proxied ? " proxied" : ""}`);
        const pagesDev = Object.fromEntries(out.pagesProjects.map((p) => [p.url, new URL(p.pagesDevUrl).hostname]));
        for (const url of Object.values(out.endpoints)) {
            const host = new URL(url).hostname;
            const expected = pagesDev[`https://${host}`]
                ? [`CNAME ${pagesDev[`https://${host}`]} proxied`]
                : host.startsWith("www.")
                  ? [expect.stringMatching(/^AAAA .* proxied$/)]
                  : [`A ${out.host.ipv4}`, `AAAA ${out.host.ipv6}`];
            expect({ host, records: records(host).filter((r) => /^(A|AAAA|CNAME) /.test(r)) }).toEqual({ host, records: expected });
        }
        expect(out.pagesProjects.map((p) => p.url).sort()).toEqual([out.endpoints.landing, out.endpoints.dashboard, out.endpoints.meeting].sort());
    });

    test("healthChecks: the catalog's route checks, Janus with its subprotocol; the smoke checker accepts them", () => {
        const domain = out.domain;
        expect(out.healthChecks).toEqual<HealthCheck[]>([
            { name: "api", url: `https://api.${domain}/health`, kind: "http", expectStatus: 200 },
            { name: "ws", url: `wss://ws.${domain}/`, kind: "websocket", expectStatus: 101 },
            { name: "agent", url: `https://agent.${domain}/health`, kind: "http", expectStatus: 200 },
            { name: "janus", url: `wss://janus.${domain}/`, kind: "websocket", expectStatus: 101, subprotocol: "janus-protocol" },
            { name: "janusApi", url: `https://janus-api.${domain}/janus/info`, kind: "http", expectStatus: 200 },
            { name: "support", url: `https://support.${domain}/api`, kind: "http", expectStatus: 200 },
        ]);
        expect(parseHealthChecks(JSON.stringify(run.outputs), "outputs")).toEqual(out.healthChecks);
    });

    test("files: the SHA-256 of every generated file, equal to the rendered text", () => {
        expect(Object.keys(out.files).sort()).toEqual([...run.files.keys()].sort());
        expect(Object.keys(out.files)).toEqual(expect.arrayContaining(["cloud-init.yaml", "architecture.md"]));
        for (const [path, text] of run.files) expect({ path, hash: out.files[path] }).toEqual({ path, hash: sha256(text) });
    });

    test("no secret in the outputs", () => {
        expect(JSON.stringify(run.outputs)).not.toContain("[secret]");
        expect(run.rawOutputs).toEqual(run.outputs);
    });
});

describe("the outputs follow the config", () => {
    test("a renamed hostname renames its endpoint and health check; no Pages means no Pages endpoints", async () => {
        const out = outputsOf(await runProgram("prod", { set: { hostnames: { api: "backend" }, pagesEnabled: false } }));
        expect(out.endpoints.api).toBe("https://backend.visualkit.live");
        expect(out.healthChecks.find((c) => c.name === "api")?.url).toBe("https://backend.visualkit.live/health");
        expect(Object.keys(out.endpoints)).not.toEqual(expect.arrayContaining(["landing"]));
        expect(out.endpoints).not.toHaveProperty("dashboard");
        expect(out.pagesProjects).toEqual([]);
    });
});

describe("stackOutputs", () => {
    test("refuses to build outputs without a host component for a catalog host", () => {
        const { catalog } = parsedStack("dev");
        expect(() => stackOutputs({ stack: "dev", environment: "dev", catalog, hosts: {} })).toThrow("no host component for catalog host(s) main");
    });
});
