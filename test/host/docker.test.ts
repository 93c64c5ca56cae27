import { execFileSync } from "node:child_process";
import { containerRequest, durationNs, networkRequest } from "./lib/docker";
import { dependencyOrder, imageReferences, renderPlan, type Plan } from "./lib/plan";

/**
 * The real-host tier's translation of the Docker provider's inputs, checked on the dev render without a VM (the
 * tier itself runs it against a real engine). Fast, so it runs in `npm test`.
 */

let plan: Plan;
beforeAll(async () => {
    plan = await renderPlan("dev", { janusStunServer: "" });
});

const container = (name: string) => {
    const r = plan.ofType("docker:index/container:Container").find((c) => c.rawInputs.name === name);
    if (!r) throw new Error(`no container ${name}`);
    const refs = imageReferences(plan);
    return containerRequest(r.rawInputs, (id) => refs.get(id) ?? id, () => Buffer.from(""));
};

test("ports keep their bind address, a fixed address lands on its network, health-check durations are nanoseconds", () => {
    const agent = container("vk-agent");
    const host = agent.body.HostConfig as Record<string, unknown>;
    expect(host.PortBindings).toEqual({ "3004/tcp": [{ HostIp: "127.0.0.1", HostPort: "3004" }] });
    expect(host.NetworkMode).toBe("visualkit");
    expect(agent.body.NetworkingConfig).toEqual({ EndpointsConfig: { visualkit: { IPAMConfig: { IPv4Address: "172.18.0.2", IPv6Address: undefined } } } });
    expect(agent.body.Healthcheck).toMatchObject({ Interval: 30e9, Timeout: 10e9, StartPeriod: 30e9, Retries: 3 });
    expect(agent.body.Image).toBe("ghcr.io/visualkit/vk-agent:main");
    // A copy with a standby waits through its readiness gate (a remote command the tier replays), not the provider's wait.
    expect(agent.waitHealthySeconds).toBeUndefined();
    expect(container("chatwoot-postgres").waitHealthySeconds).toBe(160);
});

test("Janus runs on the host network with its configs uploaded as the provider uploads them (mode and owner)", () => {
    const janus = container("janus-gateway");
    expect((janus.body.HostConfig as Record<string, unknown>).NetworkMode).toBe("host");
    const listing = execFileSync("tar", ["-tv", "--numeric-owner", "-f", "-"], { input: janus.archive }).toString();
    expect(listing).toMatch(/^-r-------- 10001\/0 .* etc\/janus\/janus\.jcfg$/m);
    expect(listing).toMatch(/^-r--r--r-- 10001\/0 .* etc\/janus\/janus\.transport\.http\.jcfg$/m);
});

test("a one-shot container runs to its exit instead of waiting for health; volumes are binds on the data disk", () => {
    const prepare = container("chatwoot-prepare");
    expect(prepare.runToExit).toBe(true);
    expect(prepare.waitHealthySeconds).toBeUndefined();
    expect((prepare.body.HostConfig as Record<string, unknown>).Binds).toEqual(["/mnt/data/chatwoot/storage:/app/storage"]);
    expect(prepare.body.Cmd).toEqual(["bundle", "exec", "rails", "db:chatwoot_prepare"]);
});

test("networks keep subnet, range and gateway", () => {
    const net = plan.ofType("docker:index/network:Network").find((n) => n.rawInputs.name === "visualkit")!;
    expect(networkRequest(net.rawInputs).body.IPAM).toEqual({ Driver: "default", Config: [{ Subnet: "172.18.0.0/16", IPRange: "172.18.128.0/17", Gateway: "172.18.0.1" }] });
});

test("a provider field without a translation fails, naming it", () => {
    const r = plan.ofType("docker:index/container:Container")[0];
    expect(() => containerRequest({ ...r.rawInputs, privileged: true }, (x) => x, () => Buffer.from(""))).toThrow(/no translation for provider input\(s\) privileged/);
    expect(() => durationNs("30 seconds")).toThrow(/not a duration/);
});

test("dependency order: networks before their containers, Chatwoot's data stores before prepare, prepare before rails", () => {
    const order = dependencyOrder(plan, (r) => r.type === "docker:index/container:Container" || r.type === "docker:index/network:Network").map((r) => String(r.rawInputs.name));
    const at = (n: string) => order.indexOf(n);
    expect(at("visualkit")).toBeLessThan(at("vk-agent"));
    expect(at("visualkit")).toBeLessThan(at("visualkit-chatwoot"));
    expect(at("visualkit-chatwoot")).toBeLessThan(at("chatwoot-postgres"));
    expect(Math.max(at("chatwoot-postgres"), at("chatwoot-redis"))).toBeLessThan(at("chatwoot-prepare"));
    expect(at("chatwoot-prepare")).toBeLessThan(at("chatwoot-rails"));
    expect(at("visualkit")).toBeLessThan(at("janus-gateway"));
});
