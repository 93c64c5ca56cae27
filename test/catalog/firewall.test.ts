import { buildCatalog } from "../../catalog";
import { MAIN_HOST } from "../../catalog/defaults";
import { DEFAULT_HOSTNAMES, DEFAULT_PORTS } from "../../catalog/input";
import { ANYWHERE, firewallRules, type FirewallRuleSpec } from "../../catalog/firewall";
import type { Catalog, ServiceSpec } from "../../catalog/types";

const SSH = ["203.0.113.0/24", "2001:db8::/32"];

function catalog(rtp = { from: 10000, to: 60000 }, ports: Partial<typeof DEFAULT_PORTS> = {}): Catalog {
    return buildCatalog({
        domain: "visualkit.live",
        zone: "visualkit.live",
        ports: { ...DEFAULT_PORTS, ...ports },
        hostnames: DEFAULT_HOSTNAMES,
        janus: { rtpPorts: rtp },
        images: { platformApi: "a", vkAgent: "b", janus: "c", chatwoot: "d", postgres: "e", redis: "f" },
        pages: { enabled: false, projectSuffix: "", appsDir: "apps" },
        standbyReplicas: true,
    });
}

/** A catalog with one more service, as a later change would add it. */
function withService(base: Catalog, service: Partial<ServiceSpec> & Pick<ServiceSpec, "id" | "ports">): Catalog {
    const full: ServiceSpec = { description: "added", component: "widget-cdn", host: MAIN_HOST, bindAddress: "127.0.0.1", containers: [], routes: [], ...service };
    return { ...base, services: [...base.services, full] };
}

const row = (r: FirewallRuleSpec) => `${r.protocol} ${r.port ?? "-"} from ${r.sourceIps.join(",")}`;
const anywhere = ANYWHERE.join(",");

describe("firewallRules", () => {
    test("the platform: SSH from the configured CIDRs, ICMP, Caddy, the Janus RTP range and TURN from anywhere — nothing else", () => {
        expect(firewallRules(catalog(), MAIN_HOST, SSH).map(row)).toEqual([
            `tcp 22 from ${SSH.join(",")}`,
            `icmp - from ${anywhere}`,
            `tcp 80 from ${anywhere}`,
            `tcp 443 from ${anywhere}`,
            `udp 443 from ${anywhere}`,
            `udp 10000-60000 from ${anywhere}`,
            // TURN (docs/turn.md): STUN/TURN over UDP and TCP, TLS on 5349 (and on 443 of its own address, open above),
            // and the relay range, disjoint from Janus's.
            `udp 3478 from ${anywhere}`,
            `tcp 3478 from ${anywhere}`,
            `tcp 5349 from ${anywhere}`,
            `udp 61000-65000 from ${anywhere}`,
        ]);
    });

    test("TCP 443 of the TURN address is opened by the TURN service itself when the host serves no Caddy route", () => {
        const c = catalog();
        const noRoutes = { ...c, services: c.services.map((s) => ({ ...s, routes: [] })) };
        expect(firewallRules(noRoutes, MAIN_HOST, SSH).filter((r) => r.port === "443").map(row)).toEqual([`tcp 443 from ${anywhere}`]);
    });

    test("no proxied or internal service port is opened (vk-agent RTP 5005/udp, 3001-3004, Janus 8088/8188/7088)", () => {
        const c = catalog();
        const opened = new Set(firewallRules(c, MAIN_HOST, SSH).map((r) => `${r.protocol} ${r.port}`));
        const closed = c.services.flatMap((s) => s.ports.filter((p) => p.exposure !== "public").map((p) => `${p.protocol} ${p.port}`));
        expect(closed).toEqual(expect.arrayContaining(["udp 5005", "tcp 3001", "tcp 8188", "tcp 7088"]));
        for (const port of closed) expect({ port, opened: opened.has(port) }).toEqual({ port, opened: false });
    });

    test.each([
        ["a single address", ["198.51.100.7/32"]],
        ["IPv6 only", ["2001:db8:abcd::/48"]],
        ["three ranges, order kept", ["192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32"]],
    ])("SSH sources are exactly the configured CIDRs: %s", (_label, cidrs) => {
        const ssh = firewallRules(catalog(), MAIN_HOST, cidrs).filter((r) => r.port === "22");
        expect(ssh).toEqual([expect.objectContaining({ protocol: "tcp", sourceIps: cidrs })]);
    });

    test.each([
        [{ from: 20000, to: 20999 }, "20000-20999"],
        [{ from: 40000, to: 40001 }, "40000-40001"],
    ])("the Janus range follows visualkit:janusRtpPorts (%o)", (rtp, expected) => {
        const udp = firewallRules(catalog(rtp), MAIN_HOST, SSH).filter((r) => r.protocol === "udp" && r.description.startsWith("janus"));
        expect(udp.map(row)).toEqual([`udp ${expected} from ${anywhere}`]);
    });

    test("a service added to the catalog with a public UDP range opens exactly that range, and its other ports stay closed", () => {
        const base = catalog();
        const added = withService(base, {
            id: "turn",
            ports: [
                { id: "relay", protocol: "udp", port: 49152, endPort: 49200, containerPort: 49152, exposure: "public", configKey: "visualkit:turnPorts" },
                { id: "admin", protocol: "tcp", port: 9000, endPort: 9000, containerPort: 9000, exposure: "internal", configKey: "visualkit:turnAdmin" },
            ],
        });
        const before = firewallRules(base, MAIN_HOST, SSH).map(row);
        const after = firewallRules(added, MAIN_HOST, SSH).map(row);
        expect(after.filter((r) => !before.includes(r))).toEqual([`udp 49152-49200 from ${anywhere}`]);
        expect(before.filter((r) => !after.includes(r))).toEqual([]);
    });

    test("a public single TCP port is opened as that one port", () => {
        const added = withService(catalog(), {
            id: "smtp-relay",
            ports: [{ id: "smtp", protocol: "tcp", port: 2525, endPort: 2525, containerPort: 25, exposure: "public", configKey: "visualkit:smtpPort" }],
        });
        expect(firewallRules(added, MAIN_HOST, SSH).map(row)).toContain(`tcp 2525 from ${anywhere}`);
    });

    test("services on another host open nothing here; a host without routes gets no HTTP/HTTPS rules", () => {
        const base = catalog();
        const media = withService({ ...base, hosts: [...base.hosts, { ...base.hosts[0], name: "media" }] }, {
            id: "media-relay",
            host: "media",
            ports: [{ id: "rtp", protocol: "udp", port: 30000, endPort: 30999, containerPort: 30000, exposure: "public", configKey: "visualkit:mediaPorts" }],
        });
        expect(firewallRules(media, MAIN_HOST, SSH).map(row)).toEqual(firewallRules(base, MAIN_HOST, SSH).map(row));
        expect(firewallRules(media, "media", SSH).map(row)).toEqual([`tcp 22 from ${SSH.join(",")}`, `icmp - from ${anywhere}`, `udp 30000-30999 from ${anywhere}`]);
    });

    test("every rule says what it is for", () => {
        for (const r of firewallRules(catalog(), MAIN_HOST, SSH)) expect(r.description.length).toBeGreaterThan(3);
        expect(firewallRules(catalog(), MAIN_HOST, SSH).find((r) => r.protocol === "udp" && r.port !== "443")?.description).toContain("visualkit:janusRtpPorts");
    });
});
