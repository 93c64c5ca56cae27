import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import type { ServiceSpec } from "../../catalog/types";
import { isPinned, parseImageRef } from "../../config/validators";
import { PREPARE_CONTAINER, preparedExitCode } from "../../components/chatwoot";
import { DOCKER_SCOPE_STOP } from "../../render/cloud-init";
import { janusFileNames, janusSettings } from "../../render/janus";
import { fakeId } from "../../mocks/fakes";
import { MockRunError, type RecordedResource } from "../../mocks/runtime";
import { parsedStack, ROOT, runProgram, type ProgramRun } from "../helpers/program";
import { stub } from "../helpers/shell";

/**
 * The Docker services as the program registers them (mock graph of the real program, both stacks): what is
 * published, how each container is kept alive and checked, which image it runs, and what stays secret.
 */

const CONTAINER = "docker:index/container:Container";
const IMAGE = "docker:index/remoteImage:RemoteImage";
/** Secret config that exercises every secret path: platform-api secret env, SMTP, registry. */
const SECRET_CONFIG = {
    set: {
        platformApiSecretEnv: { DATABASE_URL: "postgres://u:p@db/x", JWT_SECRET: "s", STRIPE_API_KEY: "k", GITHUB_TOKEN: "t" },
        platformApiEnv: { NODE_ENV: "production", LOG_FORMAT: "json" },
        chatwootSmtpAddress: "smtp.zoho.com",
        chatwootSmtpUsername: "support@visualkit.live",
        chatwootSmtpPassword: "smtp-password",
        chatwootMailerSender: "VisualKit <support@visualkit.live>",
        registryServer: "ghcr.io",
        registryUsername: "visualkit-bot",
        registryPassword: "registry-token",
    },
    secrets: ["platformApiSecretEnv", "chatwootSmtpPassword", "registryPassword"],
};

const envOf = (c: RecordedResource): string[] => (c.rawInputs.envs as string[] | undefined) ?? [];
const env = (c: RecordedResource, name: string) => envOf(c).find((e) => e.startsWith(`${name}=`))?.slice(name.length + 1);
const isJob = (c: RecordedResource) => c.rawInputs.mustRun === false;
/** Kept in the host's journal, tagged with the container's name (journald's limits cap them; docs/monitoring.md). */
const LOG_OPTS = { tag: "{{.Name}}" };

describe.each(["dev", "prod"])("%s Docker services", (stack) => {
    let run: ProgramRun;
    const { config, catalog } = parsedStack(stack, SECRET_CONFIG);
    const service = (id: string): ServiceSpec => catalog.services.find((s) => s.id === id)!;
    const containerNamed = (name: string) => run.ofType(CONTAINER).find((c) => c.rawInputs.name === name)!;

    beforeAll(async () => {
        run = await runProgram(stack, SECRET_CONFIG);
    });

    test("every catalog container exists once (and its standby copy once), plus the database preparation job", () => {
        const names = run.ofType(CONTAINER).map((c) => c.rawInputs.name).sort();
        const expected = catalog.services.flatMap((s) => s.containers.flatMap((c) => [c.name, ...(c.standby ? [c.standby.name] : [])]));
        expect(names).toEqual([...expected, "chatwoot-prepare"].sort());
        expect(names.filter((n) => String(n).endsWith("-standby")).sort()).toEqual(["chatwoot-rails-standby", "platform-api-standby", "vk-agent-standby"]);
    });

    test("published ports: exactly the catalog's, TCP on 127.0.0.1 only; no UDP anywhere", () => {
        for (const s of catalog.services) {
            for (const c of s.containers) {
                const expected = c.publishes.map((id) => {
                    const p = s.ports.find((x) => x.id === id)!;
                    return { external: p.port, internal: p.containerPort, ip: "127.0.0.1", protocol: "tcp" };
                });
                expect(containerNamed(c.name).rawInputs.ports ?? []).toEqual(expected);
                if (c.standby) {
                    const standbyPorts = c.publishes.map((id) => ({ ...expected.find((e) => e.internal === s.ports.find((x) => x.id === id)!.containerPort)!, external: s.ports.find((x) => x.id === id)!.standbyPort }));
                    expect(containerNamed(c.standby.name).rawInputs.ports).toEqual(standbyPorts);
                }
            }
        }
        const all = run.ofType(CONTAINER).flatMap((c) => (c.rawInputs.ports as { ip: string; protocol: string }[] | undefined) ?? []);
        expect(all.length).toBeGreaterThan(0);
        for (const p of all) expect(p).toMatchObject({ ip: "127.0.0.1", protocol: "tcp" });
    });

    test("every service container: unless-stopped, logs to journald, a health check, and a deploy that waits for it", () => {
        const services = run.ofType(CONTAINER).filter((c) => !isJob(c));
        expect(services).toHaveLength(10);
        for (const c of services) {
            const i = c.rawInputs as Record<string, any>;
            expect([c.name, i.restart, i.logDriver, i.logOpts]).toEqual([c.name, "unless-stopped", "journald", LOG_OPTS]);
            expect(i.healthcheck).toMatchObject({ interval: "30s", timeout: "10s", retries: 3 });
            expect(i.healthcheck.tests[0]).toMatch(/^CMD(-SHELL)?$/);
            // Copies with a standby wait through their readiness gate instead (test/components/rollout.test.ts).
            if (!String(i.name).match(/^(platform-api|platform-ws|vk-agent|chatwoot-rails)(-standby)?$/)) {
                expect(i.wait).toBe(true);
                expect(i.waitTimeout).toBeGreaterThanOrEqual(30 * 4);
            } else expect(i.wait).toBe(false);
            // Fixed names and ports: the old container must be gone before its replacement starts.
            expect(c.options.deleteBeforeReplace).toBe(true);
        }
    });

    test("the Docker daemon's default log cap (cloud-init) is the one every container of the program has", () => {
        const userData = parse(run.files.get("cloud-init.yaml")!) as { write_files: { path: string; content: string }[] };
        const daemon = JSON.parse(userData.write_files.find((f) => f.path === "/etc/docker/daemon.json")!.content) as Record<string, unknown>;
        expect([daemon["log-driver"], daemon["log-opts"]]).toEqual(["journald", LOG_OPTS]);
        const containers = run.ofType(CONTAINER);
        expect(containers.length).toBeGreaterThan(0);
        for (const c of containers) expect([c.rawInputs.name, c.rawInputs.logDriver, c.rawInputs.logOpts]).toEqual([c.rawInputs.name, daemon["log-driver"], daemon["log-opts"]]);
    });

    test("health checks come from the catalog (platform-api /health, Chatwoot /api, pg_isready, redis PING)", () => {
        const test = (name: string) => (containerNamed(name).rawInputs.healthcheck as { tests: string[] }).tests.join(" ");
        expect(test("platform-api")).toContain(`http://127.0.0.1:${config.ports.platformApi}/health`);
        expect(test("vk-agent")).toContain(`http://127.0.0.1:${config.ports.vkAgent}/health`);
        expect(test("janus-gateway")).toContain(`http://172.18.0.1:${config.ports.janusHttp}/janus/info`);
        expect(test("chatwoot-rails")).toContain("http://127.0.0.1:3000/api");
        expect(test("chatwoot-postgres")).toContain("pg_isready");
        expect(test("chatwoot-redis")).toMatch(/ping.*PONG/);
        expect(test("chatwoot-sidekiq")).toContain("sidekiq");
    });

    test("every container runs the image pulled for its configured reference; prod's are pinned", () => {
        const byId = new Map(run.ofType(IMAGE).map((i) => [`sha256:${createHash("sha256").update(String(i.rawInputs.name)).digest("hex")}`, String(i.rawInputs.name)]));
        const images = config.images as Record<string, string>;
        for (const s of catalog.services) {
            for (const c of s.containers) {
                const ref = byId.get(String(containerNamed(c.name).rawInputs.image));
                expect([c.name, ref]).toEqual([c.name, images[c.image]]);
                if (stack === "prod") expect([c.name, isPinned(parseImageRef(ref!)!)]).toEqual([c.name, true]);
            }
        }
        expect(byId.get(String(containerNamed("chatwoot-prepare").rawInputs.image))).toBe(config.images.chatwoot);
    });

    test("every env entry holding a password, key, token or secret is a Pulumi secret", () => {
        const sensitive = /^[A-Z0-9_]*(PASSWORD|SECRET|KEY|TOKEN|DATABASE_URL)[A-Z0-9_]*=/;
        let checked = 0;
        for (const c of run.ofType(CONTAINER)) {
            const entries = envOf(c);
            if (!entries.some((e) => sensitive.test(e))) continue;
            checked += entries.filter((e) => sensitive.test(e)).length;
            // The mock runtime sees a list with a secret element as one secret; per entry it is checked in lib/containers' test.
            expect([c.name, c.inputs.envs]).toEqual([c.name, "[secret]"]);
        }
        expect(checked).toBeGreaterThanOrEqual(4 + 2 + 4 * 3 + 2);
        const rendered = JSON.stringify(run.resources.map((r) => r.inputs));
        for (const value of ["smtp-password", "registry-token", "postgres://u:p@db/x"]) expect(rendered).not.toContain(value);
    });

    test("vk-agent: Janus URL and RTP address derived from the network and the catalog; RTP not published", () => {
        const agent = containerNamed("vk-agent");
        const net = catalog.hosts[0].network;
        const janusWs = service("janus").ports.find((p) => p.id === "ws")!.port;
        expect(env(agent, "VK_AGENT_JANUS_WS_URL")).toBe(`ws://${net.gateway}:${janusWs}`);
        expect(service("janus").bindAddress).toBe(net.gateway);
        expect(env(agent, "VK_AGENT_RTP_HOST")).toBe(service("vk-agent").networkAddress);
        expect(env(agent, "VK_AGENT_RTP_PORT")).toBe(String(config.ports.vkAgentRtp));
        expect(agent.rawInputs.networksAdvanced).toEqual([{ name: net.name, ipv4Address: service("vk-agent").networkAddress }]);
        expect(JSON.stringify(agent.rawInputs.ports)).not.toContain(String(config.ports.vkAgentRtp));
        expect(env(agent, "GEMINI_API_KEY")).toBeDefined();
    });

    test("the platform network has the catalog's fixed subnet and gateway; fixed addresses lie outside the dynamic range", () => {
        const [network] = run.ofType("docker:index/network:Network").filter((n) => n.rawInputs.name === catalog.hosts[0].network.name);
        const net = catalog.hosts[0].network;
        expect(network.rawInputs.ipamConfigs).toEqual([{ subnet: net.subnet, gateway: net.gateway, ipRange: net.ipRange }]);
        expect(service("vk-agent").networkAddress!.startsWith("172.18.")).toBe(true);
        expect(Number(service("vk-agent").networkAddress!.split(".")[2])).toBeLessThan(128);
    });

    test("Janus: host networking, nothing published, the uploaded configs are the published files", () => {
        const janus = containerNamed("janus-gateway");
        expect(janus.rawInputs.networkMode).toBe("host");
        expect(janus.rawInputs.ports).toBeUndefined();
        const uploads = janus.rawInputs.uploads as { file: string; content: string; permissions: string }[];
        expect(uploads.map((u) => u.file)).toEqual(janusFileNames(janusSettings(catalog, config)).map((f) => `/etc/janus/${f}`));
        for (const u of uploads) expect(u.content).toBe(run.files.get(`janus/${u.file.split("/").pop()}`));
        // Every file holding a secret (token secret, admin secret, plugin admin keys) is readable by Janus's user only.
        const perms = Object.fromEntries(uploads.map((u) => [u.file.split("/").pop(), u.permissions]));
        expect(perms).toEqual({
            "janus.jcfg": "0400",
            "janus.transport.http.jcfg": "0444",
            "janus.transport.websockets.jcfg": "0444",
            "janus.plugin.audiobridge.jcfg": "0400",
            "janus.plugin.videoroom.jcfg": "0400",
        });
        expect(janus.secretInputs).toContain("uploads");
    });

    test("Janus starts after the platform network exists: it binds the network's gateway address", () => {
        const [network] = run.ofType("docker:index/network:Network").filter((n) => n.rawInputs.name === catalog.hosts[0].network.name);
        expect(service("janus").bindAddress).toBe(catalog.hosts[0].network.gateway);
        expect(containerNamed("janus-gateway").options.dependsOn).toContain(network.name);
    });

    test("Chatwoot: db:chatwoot_prepare runs after Postgres and Redis and before rails and sidekiq, once per image", () => {
        const prepare = containerNamed("chatwoot-prepare");
        expect(prepare.rawInputs).toMatchObject({ command: ["bundle", "exec", "rails", "db:chatwoot_prepare"], attach: true, mustRun: false, restart: "no", logOpts: LOG_OPTS });
        expect(prepare.options.dependsOn.sort()).toEqual([containerNamed("chatwoot-postgres").name, containerNamed("chatwoot-redis").name].sort());
        // Through the gate (a dependsOn edge, never a property dependency: see test/sequence for why).
        const gate = run.ofType("command:local:Command").find((c) => c.name.endsWith("-chatwoot-migrated"))!;
        expect(gate.propertyDependencies.environment).toEqual([prepare.name]);
        for (const name of ["chatwoot-rails", "chatwoot-rails-standby", "chatwoot-sidekiq"]) {
            expect(containerNamed(name).options.dependsOn).toEqual(expect.arrayContaining([gate.name, prepare.name]));
            expect(containerNamed(name).rawInputs.image).toBe(prepare.rawInputs.image);
            expect(Object.values(containerNamed(name).propertyDependencies).flat()).not.toContain(prepare.name);
        }
    });

    test("Chatwoot: URL from the catalog, data on the volume, generated and configured secrets, only rails published", () => {
        const rails = containerNamed("chatwoot-rails");
        const support = service("chatwoot").routes[0].hostname;
        expect(env(rails, "FRONTEND_URL")).toBe(`https://${support}`);
        expect(env(rails, "POSTGRES_HOST")).toBe("chatwoot-postgres");
        expect(env(rails, "REDIS_URL")).toBe("redis://chatwoot-redis:6379");
        expect(env(rails, "SMTP_ADDRESS")).toBe("smtp.zoho.com");
        for (const k of ["SECRET_KEY_BASE", "POSTGRES_PASSWORD", "REDIS_PASSWORD", "SMTP_PASSWORD"]) expect(env(rails, k)).toBeDefined();
        const volumes = (name: string) => (containerNamed(name).rawInputs.volumes as { hostPath: string; containerPath: string }[]).map((v) => `${v.hostPath}:${v.containerPath}`);
        // Point-in-time recovery (catalog/pitr.ts): the data folder at the host's path (PGDATA), the WAL spool, the socket.
        expect(volumes("chatwoot-postgres")).toEqual(["/mnt/data/postgres:/mnt/data/postgres", "/mnt/data/postgres-wal-spool:/mnt/data/postgres-wal-spool", "/mnt/data/postgres-socket:/var/run/postgresql"]);
        const postgres = containerNamed("chatwoot-postgres");
        expect(env(postgres, "PGDATA")).toBe("/mnt/data/postgres");
        const pgCommand = postgres.rawInputs.command as string[];
        expect(pgCommand[0]).toBe("postgres");
        expect(pgCommand.filter((_, i) => pgCommand[i - 1] === "-c").map((kv) => kv.split("=")[0])).toEqual(["archive_mode", "archive_command", "archive_timeout", "wal_level"]);
        expect(pgCommand).toContain("archive_timeout=60");
        expect(volumes("chatwoot-redis")).toEqual(["/mnt/data/redis:/data"]);
        expect(volumes("chatwoot-rails")).toEqual(["/mnt/data/chatwoot/storage:/app/storage"]);
        const redisConf = (containerNamed("chatwoot-redis").rawInputs.uploads as { content: string }[])[0].content;
        expect(redisConf).toMatch(/^requirepass "\S+"$/m);
        const published = run.ofType(CONTAINER).filter((c) => String(c.rawInputs.name).startsWith("chatwoot") && ((c.rawInputs.ports as unknown[] | undefined) ?? []).length > 0);
        expect(published.map((c) => [c.rawInputs.name, c.rawInputs.ports]).sort()).toEqual([
            ["chatwoot-rails", [{ external: 3003, internal: 3000, ip: "127.0.0.1", protocol: "tcp" }]],
            ["chatwoot-rails-standby", [{ external: 3103, internal: 3000, ip: "127.0.0.1", protocol: "tcp" }]],
        ]);
        // Rails listens on the catalog's container port, the one Docker publishes and the health check probes.
        const http = service("chatwoot").ports.find((p) => p.id === "http")!;
        const command = rails.rawInputs.command as string[];
        expect(command[command.indexOf("-p") + 1]).toBe(String(http.containerPort));
        expect((rails.rawInputs.healthcheck as { tests: string[] }).tests.join(" ")).toContain(`:${http.containerPort}/api`);
    });

    test("the Docker provider reaches the host over SSH after it is ready, with the registry login as a secret", () => {
        const [provider] = run.ofType("pulumi:providers:docker");
        expect(provider.rawInputs.host).toMatch(/^ssh:\/\/root@203\.0\.113\.\d+$/);
        expect(provider.options.dependsOn).toEqual(["visualkit-" + stack + "-main-ready"]);
        expect(provider.secretInputs).toContain("registryAuth");
        expect(JSON.stringify(provider.rawInputs.registryAuth)).toContain("registry-token");
        for (const r of run.resources.filter((x) => x.type.startsWith("docker:index/"))) expect(r.parent).not.toBeNull();
    });

    test("servers bootstrapped before the containers' scope drop-in get the same file from a remote step", () => {
        const userData = parse(readFileSync(join(ROOT, "rendered", stack, "cloud-init.yaml"), "utf8")) as { write_files: { path: string; content: string }[] };
        const step = run.named(`visualkit-${stack}-main-docker-scope-stop`);
        expect(step.rawInputs.stdin).toBe(userData.write_files.find((f) => f.path === DOCKER_SCOPE_STOP.path)?.content);
        expect(step.options.dependsOn).toEqual([`visualkit-${stack}-main-ready`]);
        // The step's command as the remote shell runs it (under a test root, systemctl stubbed): the bootstrap's file.
        const dir = mkdtempSync(join(tmpdir(), "scope-stop-"));
        try {
            stub(join(dir, "bin"), "systemctl", "true");
            const r = spawnSync("sh", ["-c", String(step.rawInputs.create)], { input: String(step.rawInputs.stdin), encoding: "utf8", env: { PATH: `${join(dir, "bin")}:${process.env.PATH}`, VISUALKIT_ROOT: dir } });
            expect([r.status, r.stdout]).toEqual([0, `${DOCKER_SCOPE_STOP.path} installed; systemd reloaded\n`]);
            expect(readFileSync(join(dir, DOCKER_SCOPE_STOP.path), "utf8")).toBe(DOCKER_SCOPE_STOP.content);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

test("a rebuilt server (new server id behind the same IPs) gets every image, network, container and remote step again", async () => {
    // Any folder of the project without keys (test/ holds key fixtures, which the CDN check refuses).
    const run = await runProgram("prod", { set: { widgetCdnSourceDir: "images" } });
    const [server] = run.ofType("hcloud:index/server:Server");
    const serverId = fakeId(server.type, server.name);
    // One signal, the host's instance (lib/host.ts): a remote step triggered by something that only follows the
    // machine (a readiness step's id, a container's id) would be a second one.
    const tied = run.resources.filter((r) => r.type.startsWith("docker:index/") || r.type.startsWith("command:remote:"));
    expect(tied.filter((r) => r.type.startsWith("command:remote:")).length).toBeGreaterThanOrEqual(3 + 8 + 6);
    expect(tied.length).toBeGreaterThanOrEqual(8 + 6 + 2 + 3 + 8 + 6);
    // A container's pids step and readiness gate (lib/readiness.ts) follow their container (a new container, for any
    // reason, needs its limit again and its gate passed again), which carries the instance itself.
    const containerIds = new Set(run.ofType("docker:index/container:Container").map((c) => fakeId(c.type, c.name)));
    for (const r of tied) {
        // Labels of containers and networks, triggers of images and remote steps: each replaces the resource on change.
        const identity = JSON.stringify(r.rawInputs.labels ?? r.rawInputs.triggers);
        const follows = (r.name.endsWith("-pids") || r.name.endsWith("-ready")) && [...containerIds].some((id) => identity.includes(`"${id}"`));
        expect([r.name, follows ? `"${serverId}"` : identity]).toEqual([r.name, expect.stringContaining(`"${serverId}"`)]);
    }
});

test("a Janus config change replaces the Janus container and touches no other Docker resource", async () => {
    const docker = (run: ProgramRun) => new Map(run.resources.filter((r) => r.type.startsWith("docker:") || r.type.startsWith("pulumi:providers:docker")).map((r) => [r.name, JSON.stringify(r.rawInputs)]));
    const before = docker(await runProgram("prod"));
    const after = docker(await runProgram("prod", { set: { janusStunServer: "stun.example.net:3478", logLevel: "debug" } }));
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    const changed = [...after.keys()].filter((k) => after.get(k) !== before.get(k));
    // uploads are part of the container's identity: the provider replaces it, and only it.
    expect(changed).toEqual(["visualkit-prod-janus-container"]);
});

test("a separate WebSocket image adds platform-ws for the WS port; platform-api keeps only the API", async () => {
    const run = await runProgram("prod", { set: { imageWebsocket: "ghcr.io/visualkit/ws:1.0.0" } });
    const named = (n: string) => run.ofType(CONTAINER).find((c) => c.rawInputs.name === n)!;
    expect((named("platform-api").rawInputs.ports as { external: number }[]).map((p) => p.external)).toEqual([3001]);
    expect((named("platform-ws").rawInputs.ports as { external: number }[]).map((p) => p.external)).toEqual([3002]);
    expect((named("platform-ws").rawInputs.healthcheck as { tests: string[] }).tests[1]).toContain("127.0.0.1 3002");
});

test("a failed db:chatwoot_prepare stops the deployment before rails and sidekiq, naming the container and the retry command", () => {
    // Rails and sidekiq wait for the gate that runs this check (see the ordering test above).
    const urn = "urn:pulumi:prod::visualkit::pulumi:pulumi:Stack$visualkit:docker:Chatwoot$docker:index/container:Container::visualkit-prod-chatwoot-prepare";
    expect(preparedExitCode(0, urn)).toBe(0);
    expect(() => preparedExitCode(1, urn)).toThrow(/chatwoot-prepare .*exited with code 1.*docker logs chatwoot-prepare/);
    expect(() => preparedExitCode(undefined, urn)).toThrow(/exited with code undefined/);
    // The failed run stays in the state and is retried only on a new image or env: the message gives the command.
    expect(() => preparedExitCode(1, urn)).toThrow(`pulumi up --replace '${urn}'`);
});

test("in the program, a failed db:chatwoot_prepare registers neither rails nor sidekiq and the error gives the retry command", async () => {
    const failed = runProgram("prod", { exitCodes: { [PREPARE_CONTAINER]: 1 } });
    const error = (await failed.then(() => undefined, (e: unknown) => e)) as MockRunError;
    expect(error).toBeInstanceOf(MockRunError);
    const containers = error.resources.filter((r) => r.type === CONTAINER).map((r) => r.name);
    // Postgres, Redis and the job ran; rails and sidekiq (which would replace the running ones) were never sent.
    expect(containers).toEqual(expect.arrayContaining(["visualkit-prod-chatwoot-postgres", "visualkit-prod-chatwoot-redis", "visualkit-prod-chatwoot-prepare"]));
    expect(containers.filter((n) => /chatwoot-(rails|sidekiq)$/.test(n))).toEqual([]);
    expect(error.message).toMatch(/chatwoot-prepare .*exited with code 1/);
    // The job's own URN (its type and name), so `--replace` re-runs exactly it.
    expect(error.message).toMatch(/pulumi up --replace 'urn:pulumi:prod::visualkit::[^']*docker:index\/container:Container::visualkit-prod-chatwoot-prepare'/);
    // The neighbour: the same program with a successful job registers both.
    const ok = await runProgram("prod");
    expect(ok.ofType(CONTAINER).map((r) => r.name)).toEqual(expect.arrayContaining(["visualkit-prod-chatwoot-rails", "visualkit-prod-chatwoot-sidekiq"]));
});

test("vkAgentEnv may not override what the program derives", async () => {
    await expect(runProgram("prod", { set: { vkAgentEnv: { VK_AGENT_RTP_HOST: "10.0.0.1" } } })).rejects.toThrow(/visualkit:vkAgentEnv\.VK_AGENT_RTP_HOST: is set by the program/);
});
