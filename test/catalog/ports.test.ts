import { renderCaddyfile } from "../../render/caddyfile";
import { parsedStack, runProgram } from "../helpers/program";

// visualkit:ports moves the host side of a port. The apps are not told another port, so inside the container the
// image's own port stays; everything that reaches the service from outside follows the override.
describe("a port override moves the host side only", () => {
    const set = { ports: { platformApi: 4001, vkAgent: 4004, chatwoot: 4003 } };

    test("catalog: host ports follow the override, container ports stay the images'", () => {
        const { catalog } = parsedStack("prod", { set });
        const port = (service: string, id: string) => catalog.services.find((s) => s.id === service)!.ports.find((p) => p.id === id)!;
        expect([port("platform-api", "http").port, port("platform-api", "http").containerPort]).toEqual([4001, 3001]);
        expect([port("vk-agent", "http").port, port("vk-agent", "http").containerPort]).toEqual([4004, 3004]);
        expect([port("chatwoot", "http").port, port("chatwoot", "http").containerPort]).toEqual([4003, 3000]);
    });

    test("Caddy proxies to the new host port", () => {
        const { config, catalog } = parsedStack("prod", { set });
        const text = renderCaddyfile(catalog, { host: "main", acmeEmail: config.acmeEmail, caddyVersion: config.caddyVersion, logLevel: config.logLevel });
        expect(text).toContain("reverse_proxy 127.0.0.1:4001");
        expect(text).toContain("reverse_proxy 127.0.0.1:4004");
        expect(text).not.toContain("127.0.0.1:3001");
    });

    test("containers publish host → image port, and their health checks probe the image port inside", async () => {
        const run = await runProgram("prod", { set });
        const container = (name: string) => run.ofType("docker:index/container:Container").find((c) => c.inputs.name === name)!;
        const api = container("platform-api");
        expect(api.inputs.ports).toEqual(expect.arrayContaining([expect.objectContaining({ external: 4001, internal: 3001, ip: "127.0.0.1" })]));
        expect(JSON.stringify((api.inputs.healthcheck as { tests: string[] }).tests)).toContain(":3001/health");
        const agent = container("vk-agent");
        expect(agent.inputs.ports).toEqual([expect.objectContaining({ external: 4004, internal: 3004 })]);
        expect(JSON.stringify((agent.inputs.healthcheck as { tests: string[] }).tests)).toContain(":3004/health");
    });
});

test("a port the program tells the service (vk-agent's RTP via VK_AGENT_RTP_PORT) moves on both sides", async () => {
    const run = await runProgram("prod", { set: { ports: { vkAgentRtp: 6006 } } });
    const agent = run.ofType("docker:index/container:Container").find((c) => c.inputs.name === "vk-agent")!;
    // envs is one secret list (it holds the Gemini key), so read the raw inputs.
    expect(agent.rawInputs.envs).toEqual(expect.arrayContaining(["VK_AGENT_RTP_PORT=6006"]));
});
