import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CONTAINER_SHARES, containerLimits, cpusString, DROPPED_CAPABILITIES, hostCapacity, MAX_MEMORY_SHARE, SECURITY_OPTS } from "../../catalog/limits";
import { parsedStack, ROOT, runProgram } from "../helpers/program";

/**
 * Container limits (catalog/limits.ts): every container the program can create has a share, the shares keep one
 * container from taking the host, and the program hands Docker the sizes of the stack's server type.
 */

const CONTAINER = "docker:index/container:Container";
const serverTypes = Object.keys((JSON.parse(readFileSync(join(ROOT, "catalog/prices.json"), "utf8")) as { serverTypes: Record<string, unknown> }).serverTypes);

test("every container of either stack has a share, with and without a separate WebSocket server", async () => {
    for (const [stack, opts] of [["dev", {}], ["prod", {}], ["prod", { set: { imageWebsocket: "ghcr.io/visualkit/platform-ws:1.0.0" } }]] as const) {
        const run = await runProgram(stack, opts);
        const names = run.ofType(CONTAINER).map((c) => String(c.rawInputs.name));
        expect(names.length).toBeGreaterThanOrEqual(9);
        for (const n of names) expect({ container: n, share: CONTAINER_SHARES[n.replace(/-standby$/, "")] !== undefined }).toEqual({ container: n, share: true });
    }
});

test.each(Object.entries(CONTAINER_SHARES))("%s: at most %#-th share of the RAM allowed, a CPU quota of at most the whole host, a pids cap", (_name, share) => {
    expect(share.memory).toBeGreaterThan(0);
    expect(share.memory).toBeLessThanOrEqual(MAX_MEMORY_SHARE);
    expect(share.cpu).toBeGreaterThan(0);
    expect(share.cpu).toBeLessThanOrEqual(1);
    expect(Number.isInteger(share.pids) && share.pids >= 64).toBe(true);
    expect(share.why.length).toBeGreaterThan(20);
});

test.each(serverTypes)("server type %s: every container's limits resolve, and any one leaking leaves at least 70%% of the RAM to the rest", (type) => {
    const host = hostCapacity(type);
    for (const name of Object.keys(CONTAINER_SHARES)) {
        const l = containerLimits(name, host);
        expect(l.memoryMb).toBeGreaterThanOrEqual(128);
        expect(l.memoryMb).toBeLessThanOrEqual(host.ramGb * 1024 * 0.3);
        expect(Number(l.cpus)).toBeLessThanOrEqual(host.vcpu);
    }
});

test("sized for the server type: the dev cx22 (4 GB, 2 vCPU) gives sidekiq half of what the prod cx32 (8 GB, 4 vCPU) gives", async () => {
    const sidekiq = async (stack: string) => (await runProgram(stack)).ofType(CONTAINER).find((c) => c.rawInputs.name === "chatwoot-sidekiq")!.rawInputs;
    const [dev, prod] = [await sidekiq("dev"), await sidekiq("prod")];
    expect(parsedStack("dev").config.server.type).toBe("cx22");
    expect(parsedStack("prod").config.server.type).toBe("cx32");
    expect({ memory: dev.memory, memorySwap: dev.memorySwap, cpus: dev.cpus }).toEqual({ memory: 1024, memorySwap: 1024, cpus: "1.0" });
    expect({ memory: prod.memory, memorySwap: prod.memorySwap, cpus: prod.cpus }).toEqual({ memory: 2048, memorySwap: 2048, cpus: "2.0" });
    expect(prod.securityOpts).toEqual([...SECURITY_OPTS]);
    expect(prod.capabilities).toEqual({ drops: [...DROPPED_CAPABILITIES] });
});

test("each long-running container gets its pids limit from the host right after it is created", async () => {
    const run = await runProgram("prod");
    for (const c of run.ofType(CONTAINER).filter((x) => x.rawInputs.attach !== true)) {
        const name = String(c.rawInputs.name);
        const step = run.resources.find((r) => r.type === "command:remote:Command" && String(r.rawInputs.create).endsWith(` ${name} >/dev/null`));
        expect({ name, create: step?.rawInputs.create }).toEqual({ name, create: `docker update --pids-limit ${CONTAINER_SHARES[name.replace(/-standby$/, "")].pids} ${name} >/dev/null` });
        expect(step!.options.dependsOn).toEqual([c.name]);
        // A replaced container is a new id: the limit is set again.
        expect(step!.rawInputs.triggers).toEqual([expect.any(String), CONTAINER_SHARES[name.replace(/-standby$/, "")].pids]);
    }
});

test("cpus is written as the provider reads NanoCPUs back (helpers.go nanoInt64ToDecimalString), so no refresh shows a change", () => {
    expect([1, 2, 0.5, 1.5, 0.25, 0.375, 6, 0.0001].map(cpusString)).toEqual(["1.0", "2.0", "0.5", "1.5", "0.25", "0.375", "6.0", "0.001"]);
});

test("dropping NET_BIND_SERVICE is safe: every port a container listens on is above 1023", () => {
    for (const stack of ["dev", "prod"]) {
        for (const s of parsedStack(stack).catalog.services) {
            const keeps = s.containers.some((c) => CONTAINER_SHARES[c.name]?.keeps?.includes("CAP_NET_BIND_SERVICE"));
            for (const p of s.ports) expect({ service: s.id, port: p.id, low: !keeps && Math.min(p.port, p.containerPort) < 1024 }).toEqual({ service: s.id, port: p.id, low: false });
        }
    }
});
