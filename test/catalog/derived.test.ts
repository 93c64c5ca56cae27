import { buildCatalog, containerPortOf, healthPort, httpsUrl, probesPort, portRangeText, routeScheme, routeUrl } from "../../catalog";
import { DEFAULT_HOSTNAMES, DEFAULT_PORTS } from "../../catalog/input";
import type { ContainerHealth, PortSpec, RouteSpec } from "../../catalog/types";

/** The derived values of catalog/derived.ts, one table each, then what the built catalog reads from them. */

const portSpec = (id: string, port: number, endPort: number, containerPort = port): PortSpec => ({
    id,
    protocol: "tcp",
    port,
    endPort,
    containerPort,
    exposure: "proxied",
    configKey: `visualkit:ports.${id}`,
});

describe("portRangeText", () => {
    test.each([
        [443, 443, "443"],
        [10000, 60000, "10000-60000"],
        [20000, 20001, "20000-20001"],
    ])("%i..%i reads %s", (port, endPort, text) => {
        expect(portRangeText({ port, endPort })).toBe(text);
    });
});

describe("containerPortOf", () => {
    test.each([
        ["Chatwoot's rails keeps the image's 3000 whatever the host port", 4003, "chatwoot" as const, 3000],
        ["platform-api keeps 3001 when the host side moves", 4001, "platformApi" as const, 3001],
        ["vk-agent's RTP port (told to the service) follows the host port", 6006, "vkAgentRtp" as const, 6006],
        ["a host-networked Janus port is the host port", 9088, "janusHttp" as const, 9088],
        ["a range's first port is itself", 20000, undefined, 20000],
    ])("%s", (_why, hostPort, portId, inside) => {
        expect(containerPortOf(hostPort, portId)).toBe(inside);
    });
});

describe("healthPort and probesPort", () => {
    const ports = [portSpec("http", 4003, 4003, 3000), portSpec("ws", 8188, 8188)];

    test.each([
        ["http", 3000],
        ["ws", 8188],
    ])("a check on port %s probes %i, the container side", (id, probed) => {
        expect(healthPort(ports, id)).toBe(probed);
    });

    test("a check naming a port the service does not have is refused", () => {
        expect(() => healthPort(ports, "admin")).toThrow("unknown port admin");
    });

    test.each<[string, boolean, ContainerHealth]>([
        ["an HTTP check on the container side", true, { kind: "http", port: 3000, path: "/api" }],
        ["a TCP check on the container side", true, { kind: "tcp", port: 3000 }],
        ["a check on the host side only", false, { kind: "http", port: 4003, path: "/api" }],
        ["a command check", false, { kind: "command", test: ["CMD-SHELL", "true"] }],
    ])("%s probes the http port: %s", (_why, probes, health) => {
        expect(probesPort(health, ports[0])).toBe(probes);
    });
});

describe("routeScheme, routeUrl and httpsUrl", () => {
    const route = (target: RouteSpec["target"]): RouteSpec => ({ id: "r", label: "r", hostname: "r.visualkit.live", target, proxied: false });
    test.each<[string, string, RouteSpec["target"]]>([
        ["a plain proxy", "https://r.visualkit.live", { kind: "proxy", port: "http" }],
        ["a WebSocket proxy", "wss://r.visualkit.live", { kind: "proxy", port: "ws", websocket: {} }],
        ["a WebSocket proxy with a subprotocol", "wss://r.visualkit.live", { kind: "proxy", port: "ws", websocket: { subprotocol: "janus-protocol" } }],
        ["static files", "https://r.visualkit.live", { kind: "static", root: "/opt/widget-cdn", headers: {} }],
    ])("%s is served at %s", (_why, url, target) => {
        expect(routeUrl(route(target))).toBe(url);
        expect(routeScheme(route(target))).toBe(url.split(":")[0]);
    });

    test("a Pages site or redirect hostname is https", () => {
        expect(httpsUrl("visualkit.live")).toBe("https://visualkit.live");
    });
});

describe("the built catalog reads them", () => {
    const catalog = buildCatalog({
        domain: "visualkit.live",
        zone: "visualkit.live",
        ports: { ...DEFAULT_PORTS, chatwoot: 4003, janusHttp: 9088 },
        hostnames: DEFAULT_HOSTNAMES,
        janus: { rtpPorts: { from: 20000, to: 20999 } },
        images: { platformApi: "a", websocket: "w", vkAgent: "b", janus: "c", chatwoot: "d", postgres: "e", redis: "f" },
        pages: { enabled: true, projectSuffix: "", appsDir: "apps" },
        standbyReplicas: true,
    });

    test("every HTTP or TCP health check probes the container side of a port its container publishes (Janus: its own http port)", () => {
        const probed = catalog.services.flatMap((s) =>
            s.containers.flatMap((c) => (c.health && c.health.kind !== "command" ? [`${c.name} ${s.ports.filter((p) => probesPort(c.health!, p)).map((p) => p.id).join(",")} ${c.health.port}`] : [])),
        );
        expect(probed).toEqual(["platform-api http 3001", "platform-ws ws 3002", "vk-agent http 3004", "janus-gateway http 9088", "chatwoot-rails http 3000"]);
    });

    test("the Pages build variables carry each route's own scheme", () => {
        const meeting = catalog.pages.find((p) => p.id === "meeting")!;
        expect(meeting.buildEnv).toEqual({
            VITE_API_URL: "https://api.visualkit.live",
            VITE_WS_URL: "wss://ws.visualkit.live",
            VITE_JANUS_URL: "wss://janus.visualkit.live",
            VITE_AGENT_URL: "https://agent.visualkit.live",
        });
        expect(catalog.pages.find((p) => p.id === "landing")!.buildEnv).toEqual({ VITE_APP_URL: "https://app.visualkit.live" });
    });
});
