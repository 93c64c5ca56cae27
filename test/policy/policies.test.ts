import { evaluate, POLICIES, prodBackupsPolicy, BACKUP_COMPONENT_TYPE, type PolicyResourceView } from "../../policy/policies";
import { policyContext } from "../../policy/context";
import { runProgram, stackConfig, type RunOptions } from "../helpers/program";

/**
 * The policy pack offline: every policy against every resource the real program registers for dev and prod
 * (inputs with secrets decrypted, as CrossGuard hands them over, and the protect option), then mutated copies that
 * each break one rule and must be flagged by exactly that policy.
 */

type Stack = "dev" | "prod";

async function stackUnderPolicy(stack: Stack, opts: RunOptions = {}) {
    const run = await runProgram(stack, opts);
    const resources: PolicyResourceView[] = run.resources.map((r) => ({ type: r.type, name: r.name, props: structuredClone(r.rawInputs), opts: { protect: r.options.protect === true } }));
    const cfg = stackConfig(stack, opts);
    return { resources, ctx: policyContext({ ...cfg, stack }) };
}

const flagged = (v: { policy: string }[]) => [...new Set(v.map((x) => x.policy))].sort();

const base: Partial<Record<Stack, Awaited<ReturnType<typeof stackUnderPolicy>>>> = {};
beforeAll(async () => {
    base.dev = await stackUnderPolicy("dev");
    base.prod = await stackUnderPolicy("prod");
});

function mutated(stack: Stack, change: (find: (name: string) => PolicyResourceView) => void) {
    const { resources, ctx } = base[stack]!;
    const copy = resources.map((r) => ({ ...r, props: structuredClone(r.props), opts: { ...r.opts } }));
    change((suffix) => {
        const r = copy.find((x) => x.name.endsWith(suffix));
        if (!r) throw new Error(`no resource ending in ${suffix}`);
        return r;
    });
    return evaluate(copy, ctx);
}

describe("both rendered stacks pass every policy", () => {
    test.each(["dev", "prod"] as const)("%s: no violation, and every policy saw resources of its kind", (stack) => {
        const { resources, ctx } = base[stack]!;
        expect(resources.length).toBeGreaterThan(50);
        expect(evaluate(resources, ctx)).toEqual([]);
    });

    test("the pack holds the ten platform rules", () => {
        expect(POLICIES.map((p) => p.name)).toEqual([
            "container-ports-loopback-only",
            "container-no-udp-published",
            "prod-server-ips-volume-protected",
            "firewall-opens-only-catalog-ports",
            "prod-images-pinned",
            "no-plain-secret-env",
            "janus-admin-api-private",
            "janus-public-api-locked",
            "container-log-rotation-and-restart",
            "prod-backups-configured",
            "container-limits-and-hardening",
        ]);
    });
});

type Ports = { ip?: string; protocol: string; internal: number; external: number }[];
type Rule = { direction: string; protocol: string; port?: string; sourceIps: string[] };

describe("a copy that breaks one rule is flagged by exactly that policy", () => {
    const cases: [string, Stack, (find: (n: string) => PolicyResourceView) => void, string][] = [
        ["platform-api published on 0.0.0.0", "dev", (f) => void ((f("platform-api-api").props.ports as Ports)[0].ip = "0.0.0.0"), "container-ports-loopback-only"],
        ["a port published with no address (Docker binds every interface)", "prod", (f) => void delete (f("chatwoot-rails").props.ports as Ports)[0].ip, "container-ports-loopback-only"],
        ["vk-agent publishes RTP 5005/udp (the reference's mistake)", "prod", (f) => void (f("vk-agent-container").props.ports as Ports).push({ ip: "127.0.0.1", protocol: "udp", internal: 5005, external: 5005 }), "container-no-udp-published"],
        ["prod volume without Pulumi protect", "prod", (f) => void Object.assign(f("main-data").opts, { protect: false }), "prod-server-ips-volume-protected"],
        ["prod IPv4 without Hetzner delete protection", "prod", (f) => void (f("main-ipv4").props.deleteProtection = false), "prod-server-ips-volume-protected"],
        ["prod server without rebuild protection", "prod", (f) => void (f("main-server").props.rebuildProtection = false), "prod-server-ips-volume-protected"],
        ["firewall opens Postgres to the world", "dev", (f) => void (f("main-firewall").props.rules as Rule[]).push({ direction: "in", protocol: "tcp", port: "5432", sourceIps: ["0.0.0.0/0", "::/0"] }), "firewall-opens-only-catalog-ports"],
        ["firewall opens SSH to the world", "prod", (f) => void ((f("main-firewall").props.rules as Rule[]).find((r) => r.port === "22")!.sourceIps = ["0.0.0.0/0"]), "firewall-opens-only-catalog-ports"],
        ["firewall widens the Janus RTP range", "prod", (f) => void ((f("main-firewall").props.rules as Rule[]).find((r) => r.protocol === "udp" && r.port !== "443")!.port = "1024-65535"), "firewall-opens-only-catalog-ports"],
        ["prod pulls chatwoot:latest", "prod", (f) => void (f("chatwoot-image").props.name = "chatwoot/chatwoot:latest"), "prod-images-pinned"],
        ["prod pulls a branch tag", "prod", (f) => void (f("platform-api-api-image").props.name = "ghcr.io/visualkit/platform-api:main"), "prod-images-pinned"],
        ["Janus admin API on every interface", "prod", (f) => janusAdmin(f("janus-container"), (t) => t.replace(/admin_ip = "[^"]*"/, 'admin_ip = "0.0.0.0"')), "janus-admin-api-private"],
        ["Janus admin API with no address", "dev", (f) => janusAdmin(f("janus-container"), (t) => t.replace(/^\s*admin_ip = .*$/m, "")), "janus-admin-api-private"],
        ["Janus without token_auth (anonymous callers get every plugin)", "prod", (f) => janusFile(f("janus-container"), "janus.jcfg", (t) => t.replace("token_auth = true", "token_auth = false")), "janus-public-api-locked"],
        ["Janus loading the Streaming plugin (RTSP URLs into the host)", "dev", (f) => janusFile(f("janus-container"), "janus.jcfg", (t) => t.replace("libjanus_streaming.so,", "")), "janus-public-api-locked"],
        ["a loaded Janus plugin without its admin_key", "prod", (f) => janusFile(f("janus-container"), "janus.plugin.videoroom.jcfg", (t) => t.replace(/^\s*admin_key = .*$/m, "")), "janus-public-api-locked"],
        ["Redis with uncapped json-file logs", "prod", (f) => void ((f("chatwoot-redis").props.logDriver = "json-file"), delete f("chatwoot-redis").props.logOpts), "container-log-rotation-and-restart"],
        ["rails without a restart policy", "dev", (f) => void (f("chatwoot-rails").props.restart = "no"), "container-log-rotation-and-restart"],
        ["prod server without Hetzner backups", "prod", (f) => void (f("main-server").props.backups = false), "prod-backups-configured"],
        // Validation refuses a credential-named plain env var; the rule still catches one a component takes from plain config.
        ["a credential-named env var holding a plain stack-file value", "dev", (f) => void (f("platform-api-api").props.envs as string[]).push("JWT_SECRET=ops@visualkit.live"), "no-plain-secret-env"],
        // Before: no container had any of these (a leaking sidekiq could take Postgres and Janus down).
        ["sidekiq without a memory cap", "prod", (f) => void delete f("chatwoot-sidekiq").props.memory, "container-limits-and-hardening"],
        ["sidekiq's cap spilling into swap", "dev", (f) => void (f("chatwoot-sidekiq").props.memorySwap = -1), "container-limits-and-hardening"],
        ["Janus without a CPU quota", "prod", (f) => void delete f("janus-container").props.cpus, "container-limits-and-hardening"],
        ["Postgres without no-new-privileges", "dev", (f) => void (f("chatwoot-postgres").props.securityOpts = []), "container-limits-and-hardening"],
        ["vk-agent keeping NET_RAW", "prod", (f) => void ((f("vk-agent-container").props.capabilities as { drops: string[] }).drops = ["CAP_MKNOD"]), "container-limits-and-hardening"],
        ["the preparation job adding SYS_ADMIN", "prod", (f) => void ((f("chatwoot-prepare").props.capabilities as { adds?: string[] }).adds = ["CAP_SYS_ADMIN"]), "container-limits-and-hardening"],
        ["Redis without its pids limit step", "prod", (f) => void (f("chatwoot-redis-pids").props.create = "true"), "container-limits-and-hardening"],
    ];

    function janusAdmin(r: PolicyResourceView, edit: (text: string) => string) {
        const uploads = r.props.uploads as { file: string; content: string }[];
        const http = uploads.find((u) => u.file.endsWith("janus.transport.http.jcfg"));
        if (!http) throw new Error("the Janus container uploads no janus.transport.http.jcfg");
        const before = http.content;
        http.content = edit(before);
        expect(http.content).not.toBe(before);
    }

    function janusFile(r: PolicyResourceView, name: string, edit: (text: string) => string) {
        const file = (r.props.uploads as { file: string; content: string }[]).find((u) => u.file.endsWith(`/${name}`));
        if (!file) throw new Error(`the Janus container uploads no ${name}`);
        const before = file.content;
        file.content = edit(before);
        expect(file.content).not.toBe(before);
    }

    test.each(cases)("%s (%s)", (_what, stack, change, policy) => {
        const violations = mutated(stack, change);
        expect(flagged(violations)).toEqual([policy]);
        for (const v of violations) expect(v.message.length).toBeGreaterThan(40);
    });

    test("the same mistakes are allowed in dev where the rule is prod-only", () => {
        expect(mutated("dev", (f) => void Object.assign(f("main-data").opts, { protect: false }))).toEqual([]);
        expect(mutated("dev", (f) => void (f("chatwoot-image").props.name = "chatwoot/chatwoot:latest"))).toEqual([]);
    });
});

describe("mistakes made in the stack file, through the real program", () => {
    // Validation refuses it before the policy pack could see it (config/sections/env.ts): plain config is committed
    // and rendered, so waiting for the pack left the secret in rendered/. The rule itself is tested above.
    test("a secret-looking env var in plain platformApiEnv is refused by validation, naming the variable and the fix", async () => {
        await expect(stackUnderPolicy("dev", { set: { platformApiEnv: { LOG_FORMAT: "json", JWT_SECRET: "plain-text-jwt-secret" } } })).rejects.toThrow(
            /visualkit:platformApiEnv\.JWT_SECRET: is named like a credential[\s\S]*--secret --path 'visualkit:platformApiSecretEnv\.JWT_SECRET'/,
        );
    });

    test("the same variable set as a secret passes", async () => {
        const { resources, ctx } = await stackUnderPolicy("dev", { set: { platformApiSecretEnv: { JWT_SECRET: "encrypted-jwt-secret" } }, secrets: ["platformApiSecretEnv"] });
        expect(evaluate(resources, ctx)).toEqual([]);
    });

    test("prod with visualkit:protect false: the protection rule flags server, both IPs and the volume", async () => {
        const { resources, ctx } = await stackUnderPolicy("prod", { set: { protect: false } });
        const v = evaluate(resources, ctx);
        expect(flagged(v)).toEqual(["prod-server-ips-volume-protected"]);
        expect(v.map((x) => x.message.split(" ")[0]).sort()).toEqual(["visualkit-prod-main-data", "visualkit-prod-main-ipv4", "visualkit-prod-main-ipv6", "visualkit-prod-main-server"]);
    });

    test("an SSH CIDR typed into the stack file is allowed; the firewall follows it", async () => {
        const { resources, ctx } = await stackUnderPolicy("prod", { set: { sshAllowedCidrs: ["198.51.100.7/32"] } });
        expect(evaluate(resources, ctx)).toEqual([]);
    });
});

describe("backups in prod", () => {
    const withComponent = [prodBackupsPolicy(true)];
    const withoutComponent = (resources: readonly PolicyResourceView[]) => resources.filter((r) => r.type !== BACKUP_COMPONENT_TYPE);
    test("the rendered prod stack takes restic backups and passes; dev (backups off) is not asked to", () => {
        expect(base.prod!.resources.some((r) => r.type === BACKUP_COMPONENT_TYPE)).toBe(true);
        expect(evaluate(base.prod!.resources, base.prod!.ctx, withComponent)).toEqual([]);
        expect(evaluate(withoutComponent(base.dev!.resources), { ...base.dev!.ctx, backupRepository: "" }, withComponent)).toEqual([]);
    });
    test(`prod without a ${BACKUP_COMPONENT_TYPE}, or with backups turned off, is flagged`, () => {
        expect(flagged(evaluate(withoutComponent(base.prod!.resources), base.prod!.ctx, withComponent))).toEqual(["prod-backups-configured"]);
        expect(flagged(evaluate(base.prod!.resources, { ...base.prod!.ctx, backupRepository: "" }, withComponent))).toEqual(["prod-backups-configured"]);
    });
    test("prod whose server key can delete its backups (visualkit:backupAppendOnly false) is flagged", () => {
        const found = evaluate(base.prod!.resources, { ...base.prod!.ctx, backupAppendOnly: false }, withComponent);
        expect(found.map((f) => f.policy)).toEqual(["prod-backups-configured"]);
        expect(found[0].message).toContain("set visualkit:backupAppendOnly true in Pulumi.prod.yaml");
    });
});
