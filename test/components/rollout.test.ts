import type { RecordedResource } from "../../mocks/runtime";
import { probeArgs, readinessTarget } from "../../lib/readiness";
import { shellQuote } from "../../lib/shipped";
import { runProgram, type ProgramRun } from "../helpers/program";

/**
 * How an image change rolls out, as the mock graph of the real program shows it: which containers have a standby
 * copy, the order Pulumi replaces them in, what a failed replacement leaves behind, and the Janus call guard.
 */

const CONTAINER = "docker:index/container:Container";
const envOf = (c: RecordedResource) => (c.rawInputs.envs as string[] | undefined) ?? [];
const label = (c: RecordedResource, name: string) => (c.rawInputs.labels as { label: string; value: string }[]).find((l) => l.label === name)?.value;

describe("standby copies (dev stack)", () => {
    let run: ProgramRun;
    const byDockerName = (name: string) => run.ofType(CONTAINER).find((c) => c.rawInputs.name === name)!;
    const gateOf = (name: string) => run.ofType("command:remote:Command").find((c) => readinessTarget(String(c.rawInputs.create ?? "")) === name)!;
    beforeAll(async () => {
        run = await runProgram("dev");
    });

    test.each(["platform-api", "vk-agent", "chatwoot-rails"])("%s: the primary is replaced only after its standby (it depends on it)", (name) => {
        const primary = byDockerName(name);
        const standby = byDockerName(`${name}-standby`);
        // The primary waits for the standby's readiness gate (its health check passed), not only its creation.
        const gate = gateOf(`${name}-standby`);
        expect(primary.options.dependsOn).toContain(gate.name);
        expect(gate.options.dependsOn).toContain(standby.name);
        expect(standby.options.dependsOn).not.toContain(primary.name);
        // Same image and the same identity label, so both are one service to Caddy and to `docker ps --filter`.
        expect(standby.rawInputs.image).toBe(primary.rawInputs.image);
        expect(label(standby, "live.visualkit.container")).toBe(name);
        expect(label(primary, "live.visualkit.container")).toBe(name);
    });

    test("each copy waits for its own health check, and a copy that never turned healthy is replaced, not patched, on the next run", () => {
        const replicated = new Set(["platform-api", "platform-ws", "vk-agent", "chatwoot-rails"].flatMap((n) => [n, `${n}-standby`]));
        for (const c of run.ofType(CONTAINER).filter((x) => x.rawInputs.mustRun !== false)) {
            const dockerName = String(c.rawInputs.name);
            if (replicated.has(dockerName)) {
                // Copies with a standby wait through their readiness gate (lib/readiness.ts), re-run whenever the copy is
                // replaced (its triggers take the container's id) and running the container's own health check.
                const gate = gateOf(dockerName);
                expect([c.name, c.rawInputs.wait, gate?.propertyDependencies.triggers]).toEqual([c.name, false, [c.name]]);
                const tests = (c.rawInputs.healthcheck as { tests: string[] }).tests;
                expect(String(gate.rawInputs.create)).toContain(probeArgs(tests).map(shellQuote).join(" "));
            } else {
                expect([c.name, c.rawInputs.wait, gateOf(dockerName)]).toEqual([c.name, true, undefined]);
            }
            expect([c.name, c.options.replaceOnChanges, c.options.deleteBeforeReplace]).toEqual([c.name, ["*"], true]);
            // Docker stops a replaced container with SIGTERM and this grace before SIGKILL: requests finish, Postgres shuts down cleanly.
            expect([c.name, c.rawInputs.destroyGraceSeconds]).toEqual([c.name, 30]);
        }
    });

    test("stateful containers and workers have no standby: Postgres, Redis, Janus, sidekiq", () => {
        const names = run.ofType(CONTAINER).map((c) => String(c.rawInputs.name));
        for (const n of ["chatwoot-postgres", "chatwoot-redis", "janus-gateway", "chatwoot-sidekiq"]) {
            expect(names).toContain(n);
            expect(names).not.toContain(`${n}-standby`);
        }
    });

    test("each vk-agent copy has its own bridge address and tells Janus that one for its calls' RTP", () => {
        const address = (c: RecordedResource) => (c.rawInputs.networksAdvanced as { ipv4Address?: string }[])[0].ipv4Address;
        const rtpHost = (c: RecordedResource) => envOf(c).find((e) => e.startsWith("VK_AGENT_RTP_HOST="))?.split("=")[1];
        const primary = byDockerName("vk-agent");
        const standby = byDockerName("vk-agent-standby");
        expect([address(primary), rtpHost(primary)]).toEqual(["172.18.0.2", "172.18.0.2"]);
        expect([address(standby), rtpHost(standby)]).toEqual(["172.18.0.3", "172.18.0.3"]);
        // Both below the network's dynamic range (172.18.128.0/17), so Docker never hands them to another container.
        const without = (c: RecordedResource) => envOf(c).filter((e) => !e.startsWith("VK_AGENT_RTP_HOST="));
        expect(without(standby)).toEqual(without(primary));
    });

    test("Caddy's upstream pool for each route is exactly the primary's and the standby's published port", () => {
        const caddyfile = run.files.get("Caddyfile")!;
        const published = (name: string) => (byDockerName(name).rawInputs.ports as { external: number }[]).map((p) => p.external);
        const [apiPort, wsPort] = published("platform-api");
        const [apiStandby, wsStandby] = published("platform-api-standby");
        expect(caddyfile).toContain(`reverse_proxy 127.0.0.1:${apiPort} 127.0.0.1:${apiStandby} {`);
        expect(caddyfile).toContain(`reverse_proxy 127.0.0.1:${wsPort} 127.0.0.1:${wsStandby} {`);
        expect(caddyfile).toContain(`reverse_proxy 127.0.0.1:${published("chatwoot-rails")[0]} 127.0.0.1:${published("chatwoot-rails-standby")[0]} {`);
        expect(caddyfile).toContain(`reverse_proxy 127.0.0.1:${published("vk-agent")[0]} 127.0.0.1:${published("vk-agent-standby")[0]} {`);
    });
});

test("visualkit:standbyReplicas false: one container per service, and plain single-upstream sites", async () => {
    const run = await runProgram("dev", { set: { standbyReplicas: false } });
    expect(run.ofType(CONTAINER).filter((c) => String(c.rawInputs.name).endsWith("-standby"))).toEqual([]);
    const caddyfile = run.files.get("Caddyfile")!;
    expect(caddyfile).toContain("reverse_proxy 127.0.0.1:3001\n");
    expect(caddyfile).not.toContain("lb_policy");
});

describe("the Janus call guard", () => {
    const guardOf = (run: ProgramRun) => run.ofType("command:remote:Command").find((c) => c.name.endsWith("-janus-call-guard"))!;

    test("runs before the Janus container is replaced, with the admin secret on stdin only", async () => {
        const run = await runProgram("prod");
        const guard = guardOf(run);
        const janus = run.ofType(CONTAINER).find((c) => c.rawInputs.name === "janus-gateway")!;
        expect(janus.options.dependsOn).toContain(guard.name);
        expect(guard.options.dependsOn).toEqual(["visualkit-prod-main-ready"]);
        expect(String(guard.rawInputs.create)).toMatch(/^python3 -c '[\s\S]+' 'http:\/\/172\.18\.0\.1:7088\/admin' '--container=janus-gateway'$/);
        expect(guard.secretInputs).toContain("stdin");
        expect(guard.inputs.stdin).toBe("[secret]");
    });

    test("re-runs whenever Janus would be replaced (new image, new config), and only then", async () => {
        const base = guardOf(await runProgram("prod")).rawInputs.triggers;
        const sameAgain = guardOf(await runProgram("prod")).rawInputs.triggers;
        const newImage = guardOf(await runProgram("prod", { set: { imageJanus: "ghcr.io/visualkit/janus:1.1.2-debian12-20261201" } })).rawInputs.triggers;
        const newConfig = guardOf(await runProgram("prod", { set: { janusRtpPorts: "20000-40000" } })).rawInputs.triggers;
        const otherService = guardOf(await runProgram("prod", { set: { imageVkAgent: "ghcr.io/visualkit/vk-agent:1.4.1" } })).rawInputs.triggers;
        expect(sameAgain).toEqual(base);
        expect(newImage).not.toEqual(base);
        expect(newConfig).not.toEqual(base);
        expect(otherService).toEqual(base);
    });

    test("visualkit:janusForceRestart true lets it go ahead (--force)", async () => {
        const run = await runProgram("prod", { set: { janusForceRestart: true } });
        expect(String(guardOf(run).rawInputs.create)).toMatch(/ --force$/);
    });
});
