import { localFacts } from "../../config/local";
import { parseConfig } from "../../stack";
import { firewallRules } from "../../catalog/firewall";
import { CATALOG_SERVICE_IDS } from "../../catalog/placement";
import { deriveDnsRecords } from "../../catalog/dns";
import type { Catalog, ServiceSpec } from "../../catalog/types";
import { renderCaddyfile } from "../../render/caddyfile";
import { healthChecks } from "../../lib/health-checks";
import { stackConfig } from "../helpers/program";
import { THREE_HOSTS, TWO_HOSTS } from "../helpers/multihost";

/** Hosts and media cells from the stack file (config/sections/hosts.ts, catalog/placement.ts): placement and its checks. */

function parse(set: Record<string, unknown>) {
    const { project, config, secretKeys } = stackConfig("dev", { set: set as Record<string, object> });
    return parseConfig({ project, stack: "dev", values: config, secretKeys: new Set(secretKeys), env: {}, local: localFacts({}, false) });
}
const keys = (set: Record<string, unknown>) => parse(set).issues.map((i) => i.key);

describe("placement from visualkit:hosts and visualkit:mediaCells", () => {
    test("without them: one host main from the single-host keys, every service on it, no network, no cells", () => {
        const { catalog, issues } = parse({});
        expect(issues).toEqual([]);
        expect(catalog!.hosts.map((h) => [h.name, h.machine, h.privateIp])).toEqual([["main", { serverType: "cx22", location: "nbg1", volumeSizeGb: 10 }, undefined]]);
        expect(new Set(catalog!.services.map((s) => s.host))).toEqual(new Set(["main"]));
        expect(catalog!.privateNetwork).toBeUndefined();
        expect(catalog!.mediaCells).toEqual([]);
    });

    test("three hosts: the app host keeps the app, each cell's Janus and vk-agent on its own host with its own name and RTP range", () => {
        const { catalog, issues } = parse(THREE_HOSTS);
        expect(issues).toEqual([]);
        const c = catalog!;
        expect(c.hosts.map((h) => [h.name, h.machine.serverType, h.machine.volumeSizeGb, h.privateIp])).toEqual([
            ["main", "cx22", 10, "10.0.1.2"],
            ["media-a", "cx22", 10, "10.0.1.3"],
            ["media-b", "cx32", 20, "10.0.1.4"],
        ]);
        expect(c.privateNetwork).toEqual({ ipRange: "10.0.0.0/16", subnet: "10.0.1.0/24", zone: "eu-central" });
        const on = (host: string) => c.services.filter((s) => s.host === host).map((s) => s.id).sort();
        // TURN relays only to a Janus on its own host: with cells it follows the first cell unless placed.
        expect(on("main")).toEqual(["chatwoot", "platform-api", "widget-cdn"]);
        expect(on("media-a")).toEqual(["janus-a", "turn", "vk-agent-a"]);
        expect(on("media-b")).toEqual(["janus-b", "vk-agent-b"]);
        expect(c.services.find((s) => s.id === "janus-b")!.routes.map((r) => r.hostname)).toEqual(["janus-b.dev.visualkit.live"]);
        // Janus listens on its host's private address (Caddy there, platform-api over the private network).
        expect(c.services.find((s) => s.id === "janus-b")!.bindAddress).toBe("10.0.1.4");
        expect(c.mediaCells).toEqual([
            { name: "a", host: "media-a", janusUrl: "wss://janus-a.dev.visualkit.live", janusApiUrl: "http://10.0.1.3:8088/janus", rtpPorts: { from: 20000, to: 29999 }, drain: false },
            { name: "b", host: "media-b", janusUrl: "wss://janus-b.dev.visualkit.live", janusApiUrl: "http://10.0.1.4:8088/janus", rtpPorts: { from: 30000, to: 39999 }, drain: false },
        ]);
    });

    test("firewall per host: the app host opens no RTP; each cell host opens exactly its cell's range; nothing else internal", () => {
        const c = parse(THREE_HOSTS).catalog!;
        const udp = (host: string) => firewallRules(c, host, ["203.0.113.0/24"]).filter((r) => r.protocol === "udp" && r.port !== "443").map((r) => r.port);
        expect(udp("main")).toEqual([]);
        expect(udp("media-a")).toEqual(["3478", "61000-65000", "20000-29999"]);
        expect(udp("media-b")).toEqual(["30000-39999"]);
        for (const host of ["main", "media-a", "media-b"]) {
            const tcp = firewallRules(c, host, ["203.0.113.0/24"]).filter((r) => r.protocol === "tcp").map((r) => r.port);
            // Janus's HTTP/WS/admin (8088, 8188, 7088) and the apps' ports are never opened on a public interface.
            for (const internal of ["8088", "8188", "7088", "3001", "3002", "3003", "3004"]) expect(tcp).not.toContain(internal);
        }
    });

    test("the ids a host may list are exactly the catalog's services (docs/add-a-service.md step 1)", () => {
        expect([...CATALOG_SERVICE_IDS].sort()).toEqual(parse({}).catalog!.services.map((s) => s.id).sort());
    });

    test("drain: the cell stays (its host, DNS, Janus) and is marked draining", () => {
        const { catalog } = parse({ ...TWO_HOSTS, mediaCells: { a: { ...TWO_HOSTS.mediaCells.a, drain: true } } });
        expect(catalog!.mediaCells.map((c) => [c.name, c.drain])).toEqual([["a", true]]);
        expect(catalog!.services.some((s) => s.id === "janus-a")).toBe(true);
    });
});

describe("placement problems name the key and the fix, all in one run, never a throw", () => {
    test("an unknown service placed", () => {
        const issues = parse({ hosts: { main: { services: ["platform-api", "billing"] } } }).issues;
        expect(issues.map((i) => i.key)).toEqual(["visualkit:hosts.main.services[1]"]);
        expect(issues[0].problem).toMatch(/"billing" is not a service of the catalog \(known: platform-api, vk-agent, janus/);
    });

    test("a service placed twice", () => {
        expect(keys({ hosts: { main: { services: ["chatwoot"] }, other: { services: ["chatwoot"] } } })).toEqual(["visualkit:hosts.other.services[0]"]);
    });

    test("a media cell with no host, on an undeclared host, or on a host that already has a cell", () => {
        expect(keys({ ...TWO_HOSTS, mediaCells: { a: { rtpPorts: "20000-29999" } } })).toEqual(["visualkit:mediaCells.a.host"]);
        const undeclared = parse({ ...TWO_HOSTS, mediaCells: { a: { host: "media-z", rtpPorts: "20000-29999" } } }).issues;
        expect(undeclared.map((i) => i.key)).toEqual(["visualkit:mediaCells.a.host"]);
        expect(undeclared[0].fix).toMatch(/visualkit:hosts\.media-z/);
        expect(keys({ ...TWO_HOSTS, mediaCells: { a: { host: "media-a", rtpPorts: "20000-29999" }, b: { host: "media-a", rtpPorts: "30000-39999" } } })).toEqual(["visualkit:mediaCells.b.host"]);
    });

    test("overlapping RTP ranges of two cells", () => {
        const issues = parse({ ...THREE_HOSTS, mediaCells: { ...THREE_HOSTS.mediaCells, b: { host: "media-b", rtpPorts: "29000-39999" } } }).issues;
        expect(issues.map((i) => i.key)).toEqual(["visualkit:mediaCells.b.rtpPorts"]);
        expect(issues[0].problem).toMatch(/overlaps cell "a" \(20000-29999\)/);
        expect(issues[0].fix).toMatch(/30000-/);
    });

    test("janus or vk-agent placed by hand beside cells; janus and vk-agent apart without cells", () => {
        expect(keys({ ...TWO_HOSTS, hosts: { ...TWO_HOSTS.hosts, main: { services: ["platform-api", "janus"] } } })).toEqual(["visualkit:hosts.main.services[1]"]);
        expect(keys({ hosts: { main: {}, media: { services: ["janus"] } } })).toEqual(["visualkit:hosts"]);
    });

    test("TURN placed where no Janus runs (it relays only to its own host's Janus)", () => {
        const issues = parse({ ...TWO_HOSTS, hosts: { ...TWO_HOSTS.hosts, main: { services: ["platform-api", "turn"] } } }).issues;
        expect(issues.map((i) => i.key)).toEqual(["visualkit:hosts.main.services[1]"]);
        expect(issues[0].fix).toMatch(/media-a/);
        expect(keys({ hosts: { main: {}, relay: { services: ["turn"] } } })).toEqual(["visualkit:hosts.relay.services[0]"]);
        expect(keys({ ...TWO_HOSTS, hosts: { ...TWO_HOSTS.hosts, "media-a": { services: ["turn"] } } })).toEqual([]);
    });

    test("a cell's name taken by a route label is reported on the cell's key", () => {
        expect(keys({ ...TWO_HOSTS, hostnames: { support: "janus-a" } })).toContain("visualkit:mediaCells.a");
    });

    test("hosts in two network zones; a private address outside the subnet or taken twice", () => {
        expect(keys({ ...TWO_HOSTS, hosts: { ...TWO_HOSTS.hosts, "media-a": { location: "ash" } } })).toEqual(["visualkit:hosts"]);
        expect(keys({ ...TWO_HOSTS, hosts: { ...TWO_HOSTS.hosts, "media-a": { privateIp: "10.0.2.5" } } })).toEqual(["visualkit:hosts.media-a.privateIp"]);
        expect(keys({ ...TWO_HOSTS, hosts: { ...TWO_HOSTS.hosts, "media-a": { privateIp: "10.0.1.2" } } })).toEqual(["visualkit:hosts.media-a.privateIp"]);
    });

    test("shapes: a bad host name, an unknown field, a bad type or location, a bad range, a drain that is not a boolean", () => {
        expect(keys({ hosts: { Main: {} } })).toEqual(["visualkit:hosts.Main"]);
        expect(keys({ hosts: { main: { size: 3 } } })).toEqual(["visualkit:hosts.main.size"]);
        expect(keys({ hosts: { main: { location: "mars" } } })).toEqual(["visualkit:hosts.main.location"]);
        expect(keys({ hosts: { main: { volumeSizeGb: 5 } } })).toEqual(["visualkit:hosts.main.volumeSizeGb"]);
        expect(keys({ ...TWO_HOSTS, mediaCells: { a: { host: "media-a", rtpPorts: "30000" } } })).toEqual(["visualkit:mediaCells.a.rtpPorts"]);
        expect(keys({ ...TWO_HOSTS, mediaCells: { a: { host: "media-a", rtpPorts: "20000-29999", drain: "yes" } } })).toEqual(["visualkit:mediaCells.a.drain"]);
    });
});

describe("docs/add-a-service.md: a new catalog entry is placed, named, proxied and checked with no program change", () => {
    test("a status page placed on media-b by visualkit:hosts gets its DNS records, a Caddy site on media-b only, a health check, no firewall opening", () => {
        const base = parse(THREE_HOSTS).catalog!;
        const status: ServiceSpec = {
            id: "status-page",
            component: "widget-cdn",
            description: "Public status page",
            host: "media-b",
            bindAddress: "127.0.0.1",
            containers: [{ name: "status-page", image: "platformApi", publishes: ["http"], health: { kind: "http", port: 3005, path: "/health" } }],
            ports: [{ id: "http", protocol: "tcp", port: 3005, endPort: 3005, containerPort: 3005, exposure: "proxied", configKey: "visualkit:ports.statusPage" }],
            routes: [{ id: "status", label: "status", hostname: "status.dev.visualkit.live", target: { kind: "proxy", port: "http" }, proxied: false, check: { kind: "http", path: "/health", expectStatus: 200 } }],
        };
        const catalog: Catalog = { ...base, services: [...base.services, status] };
        const records = deriveDnsRecords(catalog, { zone: "visualkit.live", project: "visualkit", stack: "dev" });
        expect(records.filter((r) => r.hostname === "status.dev.visualkit.live").map((r) => [r.type, r.content])).toEqual([
            ["A", { kind: "hostAddress", host: "media-b", family: "ipv4" }],
            ["AAAA", { kind: "hostAddress", host: "media-b", family: "ipv6" }],
        ]);
        const opts = { acmeEmail: "ops@visualkit.live", caddyVersion: "2.6.2", logLevel: "info" as const };
        expect(renderCaddyfile(catalog, { ...opts, host: "media-b" })).toContain("127.0.0.1:3005");
        expect(renderCaddyfile(catalog, { ...opts, host: "main" })).not.toContain("status.dev.visualkit.live");
        expect(firewallRules(catalog, "media-b", ["203.0.113.0/24"])).toEqual(firewallRules(base, "media-b", ["203.0.113.0/24"]));
        expect(healthChecks(catalog).map((c) => c.url)).toContain("https://status.dev.visualkit.live/health");
    });
});
