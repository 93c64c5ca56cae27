import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localFacts } from "../../config/local";
import { parseConfig, type FolderFacts, type LocalFacts, type RawConfig } from "../../stack";
import { ConfigError } from "../../config/issues";
import { runProgram, stackConfig } from "../helpers/program";

/** The committed stack file, as the CLI would pass it, with overrides (undefined removes a key). */
function raw(stack: "dev" | "prod", set: Record<string, unknown> = {}, opts: { plain?: string[]; env?: Record<string, string>; local?: LocalFacts } = {}): RawConfig {
    const { project, config, secretKeys } = stackConfig(stack);
    const values: Record<string, string> = { ...config };
    const keys = new Set(secretKeys);
    for (const [k, v] of Object.entries(set)) {
        const key = k.includes(":") ? k : `visualkit:${k}`;
        if (v === undefined) delete values[key];
        else values[key] = typeof v === "string" ? v : JSON.stringify(v);
    }
    for (const k of opts.plain ?? []) keys.delete(k);
    return { project, stack, values, secretKeys: keys, env: opts.env ?? {}, local: opts.local ?? NO_FILES };
}

/** A machine where no path exists and nothing is being deployed (the committed stacks name no local path). */
const NO_FILES: LocalFacts = { folder: (path) => ({ kind: "missing", path }) };

function problems(r: RawConfig): { key: string; problem: string; fix: string }[] {
    return parseConfig(r).issues.map((i) => ({ ...i }));
}

function expectOnly(r: RawConfig, key: string, problem: RegExp, fix?: RegExp): void {
    const found = problems(r);
    expect(found.map((p) => p.key)).toEqual([key]);
    expect(found[0].problem).toMatch(problem);
    if (fix) expect(found[0].fix).toMatch(fix);
}

describe("the committed stacks", () => {
    test.each(["dev", "prod"] as const)("%s parses with no problems into a frozen config and catalog", (stack) => {
        const { config, catalog, issues } = parseConfig(raw(stack));
        expect(issues).toEqual([]);
        expect(config?.stack).toBe(stack);
        expect(catalog?.domain).toBe(stack === "prod" ? "visualkit.live" : "dev.visualkit.live");
    });
});

// Each rule: a failing case naming the key and the fix, and a passing neighbour.
describe("validation rules", () => {
    test("missing required keys are each reported with the command that sets them", () => {
        const found = problems(raw("prod", { domain: undefined, acmeEmail: undefined, serverType: undefined }));
        expect(found.map((p) => p.key).sort()).toEqual(["visualkit:acmeEmail", "visualkit:domain", "visualkit:serverType"]);
        expect(found.find((p) => p.key === "visualkit:domain")?.fix).toMatch(/^pulumi config set visualkit:domain <value> -s prod/);
    });

    test.each([
        ["Visualkit.live", false],
        ["visualkit..live", false],
        ["-bad.visualkit.live", false],
        ["visualkit", false],
        ["staging.visualkit.live", true],
    ])("domain %s valid=%s", (domain, ok) => {
        const found = problems(raw("dev", { domain }));
        if (ok) expect(found).toEqual([]);
        else expect(found.map((p) => p.key)).toContain("visualkit:domain");
    });

    test("a domain outside the Cloudflare zone is refused", () => {
        expectOnly(raw("dev", { domain: "dev.example.com" }), "visualkit:domain", /not inside the Cloudflare zone visualkit\.live/);
    });

    test("a malformed hostname label is refused; a good override is used", () => {
        expectOnly(raw("prod", { hostnames: { api: "API_1" } }), "visualkit:hostnames.api", /not a hostname label/, /--path 'visualkit:hostnames.api' api/);
        expect(parseConfig(raw("prod", { hostnames: { api: "backend" } })).catalog?.services[0].routes[0].hostname).toBe("backend.visualkit.live");
    });

    test("two routes on one hostname are refused", () => {
        expectOnly(raw("prod", { hostnames: { ws: "api" } }), "visualkit:hostnames.ws", /api\.visualkit\.live is already used by route "api"/);
        expect(problems(raw("prod", { hostnames: { ws: "socket" } }))).toEqual([]);
    });

    test("a Pages hostname cannot collide with a VPS hostname either", () => {
        expect(problems(raw("prod", { hostnames: { app: "api" } })).map((p) => p.key)).toEqual(["visualkit:hostnames.app"]);
    });

    test.each([0, 70000, 3.5, "3001"])("port %p outside 1-65535 (or not a number) is refused", (port) => {
        expectOnly(raw("prod", { ports: { platformApi: port } }), "visualkit:ports.platformApi", /not a port between 1 and 65535/);
    });

    test("two services on one host port are refused, naming both", () => {
        const found = problems(raw("prod", { ports: { vkAgent: 3001 } }));
        expect(found).toHaveLength(1);
        expect(found[0].key).toBe("visualkit:ports.vkAgent");
        expect(found[0].problem).toMatch(/tcp 3001 \(vk-agent http\) collides with 3001 \(platform-api http\)/);
        expect(problems(raw("prod", { ports: { vkAgent: 3005 } }))).toEqual([]);
    });

    test("standby copies hold their own host ports: a port that only collides with a standby's is refused too", () => {
        const found = problems(raw("prod", { ports: { vkAgent: 3101 } }));
        expect(found).toEqual([
            expect.objectContaining({ key: "visualkit:ports.vkAgent", problem: expect.stringMatching(/tcp 3101 \(vk-agent http\) collides with 3101 \(platform-api http standby\)/) }),
        ]);
        const high = problems(raw("prod", { ports: { vkAgent: 65500 } }));
        expect(high).toEqual([expect.objectContaining({ key: "visualkit:ports.vkAgent", problem: expect.stringMatching(/standby copy of vk-agent would listen on 65600/) })]);
        expect(high[0].fix).toContain("visualkit:standbyReplicas false");
        // Without standby copies the same ports are fine.
        expect(problems(raw("prod", { ports: { vkAgent: 65500 }, standbyReplicas: false }))).toEqual([]);
    });

    test("TCP and UDP on the same number do not collide", () => {
        expect(problems(raw("prod", { ports: { vkAgentRtp: 3001 } }))).toEqual([]);
    });

    test("a port the host needs (SSH, Caddy) is refused", () => {
        expectOnly(raw("prod", { ports: { platformApi: 443 } }), "visualkit:ports.platformApi", /443, which the host uses for Caddy \(HTTPS\)/);
    });

    test.each(["203.0.113.0/33", "203.0.113.5/24", "300.1.1.1/32", "2001:db8::1/48", "example.com/32", "203.0.113.7"])("CIDR %s is refused", (cidr) => {
        expectOnly(raw("prod", { sshAllowedCidrs: [cidr] }), "visualkit:sshAllowedCidrs[0]", /CIDR|prefix|host bits/);
    });

    // In dev: prod refuses the world-wide ones unless visualkit:sshOpenToTheWorld is set (test/config/sections/ssh.test.ts).
    test.each(["203.0.113.7/32", "0.0.0.0/0", "2001:db8::/48", "::/0", "2001:db8:0:0:0:0:0:1/128"])("CIDR %s is accepted", (cidr) => {
        expect(problems(raw("dev", { sshAllowedCidrs: [cidr] }))).toEqual([]);
    });

    test("prod refuses SSH from 0.0.0.0/0 unless visualkit:sshOpenToTheWorld says it is deliberate", () => {
        expectOnly(raw("prod", { sshAllowedCidrs: ["0.0.0.0/0"] }), "visualkit:sshAllowedCidrs[0]", /whole internet in prod/);
        expect(problems(raw("prod", { sshAllowedCidrs: ["0.0.0.0/0"], sshOpenToTheWorld: "true" }))).toEqual([]);
    });

    test("an empty CIDR list is refused (it would lock everyone out)", () => {
        expectOnly(raw("prod", { sshAllowedCidrs: [] }), "visualkit:sshAllowedCidrs", /is empty/);
    });

    test.each(["ghcr.io/visualkit/api :1.0", "Ghcr.io/Visualkit/API:1", "nginx:", "nginx@sha256:123"])("image %p is not an image reference", (image) => {
        expectOnly(raw("dev", { imagePlatformApi: image }), "visualkit:imagePlatformApi", /not an image reference/);
    });

    test.each([
        "ghcr.io/visualkit/platform-api:latest",
        "ghcr.io/visualkit/platform-api",
        "ghcr.io/visualkit/platform-api:main",
        "nginx:stable",
        "nginx:edge",
        "redis:latest-alpine",
    ])("prod refuses the unpinned image %s; dev accepts it", (image) => {
        expectOnly(raw("prod", { imagePlatformApi: image }), "visualkit:imagePlatformApi", /not pinned/, /:<version>/);
        expect(problems(raw("dev", { imagePlatformApi: image }))).toEqual([]);
    });

    test.each(["redis:7.4.2-alpine", "pgvector/pgvector:0.8.0-pg16", "chatwoot/chatwoot:v4.7.0", "ghcr.io/visualkit/janus:1.1.2-debian12-20261122"])("prod accepts the version tag %s", (image) => {
        expect(problems(raw("prod", { imageRedis: image }))).toEqual([]);
    });

    test("prod accepts a digest-pinned image and a registry with a port", () => {
        const digest = `registry.example.com:5000/vk/api@sha256:${"a".repeat(64)}`;
        expect(problems(raw("prod", { imagePlatformApi: digest }))).toEqual([]);
    });

    test.each([
        ["60000-10000", /inverted/],
        ["10000-10000", /fewer than 2 ports/],
        ["10000-70000", /outside 1-65535/],
        ["ten-twenty", /not a port range/],
    ])("Janus RTP range %s is refused", (range, why) => {
        expectOnly(raw("prod", { janusRtpPorts: range }), "visualkit:janusRtpPorts", why);
    });

    test("a Janus RTP range overlapping a port on the host is refused; vk-agent's RTP port, in its container's namespace, is no collision", () => {
        const found = problems(raw("prod", { janusRtpPorts: "5000-6000", ports: { vkAgentRtp: 5005 } }));
        expect(found).toEqual([]);
        expect(problems(raw("prod", { janusRtpPorts: "1024-65535" }))).toEqual([]);
        // Janus is host-networked: its own ports still collide with a published one.
        expect(problems(raw("prod", { ports: { janusAdmin: 3001 } })).map((p) => p.problem).join()).toMatch(/collides with 3001 \(platform-api http\)/);
    });

    test("the RTP range is the one the catalog opens", () => {
        const janus = parseConfig(raw("prod", { janusRtpPorts: "20000-20999" })).catalog?.services.find((s) => s.id === "janus");
        expect(janus?.ports.find((p) => p.id === "rtp")).toMatchObject({ port: 20000, endPort: 20999, protocol: "udp", exposure: "public" });
    });

    test("an unknown Hetzner location is refused with the list of locations", () => {
        expectOnly(raw("prod", { serverLocation: "fra1" }), "visualkit:serverLocation", /one of fsn1, nbg1, hel1, ash, hil, sin/);
    });

    test.each(["ops", "ops@", "ops@localhost", "o ps@visualkit.live"])("e-mail %s is refused", (email) => {
        expectOnly(raw("prod", { acmeEmail: email }), "visualkit:acmeEmail", /not an e-mail address|no lowercase domain after the @|characters before the @/);
    });

    test("an SSH key that is not an OpenSSH public key is refused", () => {
        expectOnly(raw("prod", { sshPublicKeys: ["ssh-ed25519 notbase64!"] }), "visualkit:sshPublicKeys[0]", /not an OpenSSH public key/);
        // A private key pasted by mistake, and a blob whose type does not match the declared one.
        expectOnly(raw("prod", { sshPublicKeys: ["-----BEGIN OPENSSH PRIVATE KEY-----"] }), "visualkit:sshPublicKeys[0]", /not an OpenSSH public key/);
        const ed = "AAAAC3NzaC1lZDI1NTE5AAAAIEWtOjFYbf4ORWFI8STa7hIP6udHFvc03LP90/G8BUoe";
        expectOnly(raw("prod", { sshPublicKeys: [`ssh-rsa ${ed} x`] }), "visualkit:sshPublicKeys[0]", /not an OpenSSH public key/);
        expect(problems(raw("prod", { sshPublicKeys: [`ssh-ed25519 ${ed}`] }))).toEqual([]);
    });

    test.each([[9, false], [10, true], [10241, false]])("volume size %d GB valid=%s", (size, ok) => {
        const found = problems(raw("prod", { volumeSizeGb: String(size) }));
        if (ok) expect(found).toEqual([]);
        else expect(found.map((p) => p.key)).toEqual(["visualkit:volumeSizeGb"]);
    });

    test.each([
        ["cloudflareAccountId", "1234"],
        ["cloudflareAccountId", "0123456789ABCDEF0123456789ABCDEF"],
        ["cloudflareZoneId", "zone-visualkit"],
    ])("%s %s is not a Cloudflare id", (key, value) => {
        expectOnly(raw("prod", { [key]: value }), `visualkit:${key}`, /not a Cloudflare id/);
    });

    test.each(["hello", "v=DKIM1; k=rsa", "v=DKIM2; p=MIGf", "v=DKIM1; k=dsa; p=MIGf", "v=DKIM1; p=not base64!"])("DKIM %p is refused", (dkim) => {
        expectOnly(raw("prod", { emailDkim: dkim }), "visualkit:emailDkim", /not a DKIM record/);
    });

    test.each(["monitor", "None", ""])("DMARC policy %p is refused", (policy) => {
        expectOnly(raw("prod", { emailDmarcPolicy: policy }), "visualkit:emailDmarcPolicy", /one of none, quarantine, reject/);
    });

    test.each(["quarantine", "reject"])("DMARC policy %s is accepted", (policy) => {
        expect(parseConfig(raw("prod", { emailDmarcPolicy: policy })).config?.email?.dmarc.policy).toBe(policy);
    });

    test("an environment variable name that is not one is refused", () => {
        expectOnly(raw("prod", { platformApiEnv: { "1BAD": "x" } }), "visualkit:platformApiEnv.1BAD", /not a valid environment variable name/);
        expectOnly(raw("prod", { vkAgentEnv: { "LOG-LEVEL": "x" } }), "visualkit:vkAgentEnv.LOG-LEVEL", /not a valid environment variable name/);
        expect(parseConfig(raw("prod", { vkAgentEnv: { LOG_LEVEL: "debug", WORKERS: "2" } })).config?.env.vkAgent).toEqual({ LOG_LEVEL: "debug", WORKERS: "2" });
    });

    test("a misspelt key is reported with the key it probably meant", () => {
        expectOnly(raw("prod", { serverTyp: "cx32" }), "visualkit:serverTyp", /not a key this program reads/, /did you mean visualkit:serverType/);
    });

    test("adopt entries must name a resource of this stack and carry a Cloudflare import id; a good map is used", () => {
        expectOnly(raw("prod", { adopt: { "visualkit-dev-dns-api-a": "a/b" } }), "visualkit:adopt.visualkit-dev-dns-api-a", /not a resource of stack prod/, /npm run adopt -- prod/);
        expectOnly(raw("prod", { adopt: { "visualkit-prod-dns-api-a": "abc" } }), "visualkit:adopt.visualkit-prod-dns-api-a", /not a Cloudflare import id/);
        expect(parseConfig(raw("prod", { adopt: { "visualkit-prod-dns-api-a": "z1/r1", "visualkit-prod-redirects-ruleset": "zones/z1/rs1" } })).config?.adopt).toEqual({
            "visualkit-prod-dns-api-a": "z1/r1",
            "visualkit-prod-redirects-ruleset": "zones/z1/rs1",
        });
    });

    test("the cutover address must be an IPv4 address", () => {
        expectOnly(raw("prod", { cutoverFromIpv4: "2001:db8::1" }), "visualkit:cutoverFromIpv4", /is not an IPv4 address/, /pulumi config set visualkit:cutoverFromIpv4 178\.156\.151\.139 -s prod/);
        expect(parseConfig(raw("prod", { cutoverFromIpv4: "178.156.151.139" })).config?.cutoverFromIpv4).toBe("178.156.151.139");
        expect(parseConfig(raw("prod")).config?.cutoverFromIpv4).toBeUndefined();
    });

    test("booleans and integers must be what they claim", () => {
        const found = problems(raw("prod", { protect: "yes", volumeSizeGb: "ten" }));
        expect(found.map((p) => p.key).sort()).toEqual(["visualkit:protect", "visualkit:volumeSizeGb"]);
    });
});

describe("secrets", () => {
    test("every missing required secret is listed with its exact `pulumi config set --secret` command", () => {
        const r = raw("prod", { geminiApiKey: undefined, "hcloud:token": undefined, "cloudflare:apiToken": undefined, chatwootSmtpAddress: "smtp.zoho.eu" });
        const found = problems(r);
        expect(found.map((p) => p.key).sort()).toEqual(["cloudflare:apiToken", "hcloud:token", "visualkit:chatwootSmtpPassword", "visualkit:geminiApiKey"]);
        expect(found.find((p) => p.key === "visualkit:geminiApiKey")?.fix).toBe("pulumi config set --secret visualkit:geminiApiKey <value> -s prod");
        expect(found.find((p) => p.key === "hcloud:token")?.fix).toMatch(/^pulumi config set --secret hcloud:token <token> -s prod .*HCLOUD_TOKEN/);
    });

    test("a provider token from the environment is enough", () => {
        const r = raw("prod", { "hcloud:token": undefined }, { env: { HCLOUD_TOKEN: "x" } });
        expect(problems(r)).toEqual([]);
    });

    test("a secret stored in plain text is refused, with the command that encrypts it", () => {
        expectOnly(raw("prod", {}, { plain: ["visualkit:geminiApiKey"] }), "visualkit:geminiApiKey", /plain text/, /--secret visualkit:geminiApiKey/);
    });

    test("secret values never print: the config shows [secret] wherever it is stringified", () => {
        const { config } = parseConfig(raw("prod", { geminiApiKey: "AIza-real-key" }));
        expect(JSON.stringify(config)).not.toContain("AIza-real-key");
        expect(`${config?.geminiApiKey}`).toBe("[secret]");
        expect(config?.geminiApiKey.reveal()).toBe("AIza-real-key");
    });
});

describe("reporting", () => {
    test("all problems are collected and reported at once", () => {
        const r = raw("prod", { domain: "BAD", serverLocation: "mars", acmeEmail: "x", sshAllowedCidrs: ["1.2.3.4/40"], imageRedis: "redis", geminiApiKey: undefined });
        const err = new ConfigError("prod", parseConfig(r).issues);
        for (const key of ["domain", "serverLocation", "acmeEmail", "sshAllowedCidrs[0]", "imageRedis", "geminiApiKey"]) {
            expect(err.message).toContain(`visualkit:${key}:`);
        }
        expect(err.message).toMatch(/^Invalid configuration for stack "prod" \(6 problems\)/);
    });

    test("the program fails before registering any resource when config is invalid", async () => {
        const registered: string[] = [];
        await expect(
            runProgram("dev", { set: { domain: "not a domain", serverLocation: "moon" }, state: (type) => void (type !== "pulumi:pulumi:Stack" && registered.push(type)) }),
        ).rejects.toThrow(/visualkit:domain[\s\S]*visualkit:serverLocation/);
        expect(registered).toEqual([]);
    });
});

describe("rules learnt from the components", () => {
    test("a variable the program derives for vk-agent cannot be set in vkAgentEnv", () => {
        expectOnly(raw("prod", { vkAgentEnv: { VK_AGENT_RTP_HOST: "10.0.0.1" } }), "visualkit:vkAgentEnv.VK_AGENT_RTP_HOST", /set by the program/);
        expectOnly(raw("prod", { vkAgentEnv: { GEMINI_API_KEY: "x" } }), "visualkit:vkAgentEnv.GEMINI_API_KEY", /set by the program/);
    });

    test("Janus ports below 1024 are refused (the image runs unprivileged); 1024 and above are fine", () => {
        expectOnly(raw("prod", { ports: { janusHttp: 880 } }), "visualkit:ports.janusHttp", /below 1024; Janus runs as an unprivileged user/);
        expect(problems(raw("prod", { janusRtpPorts: "1000-2000" })).map((p) => p.key)).toEqual(["visualkit:janusRtpPorts"]);
        expect(problems(raw("prod", { ports: { janusHttp: 1088 } }))).toEqual([]);
    });

    test("e-mail below the zone apex cannot share its name with the landing site's CNAME", () => {
        expectOnly(raw("dev", { emailMx: ["10 mx.zoho.com"] }), "visualkit:emailMx", /beside the CNAME of the Pages site "landing"/);
        expect(problems(raw("dev", { emailMx: ["10 mx.zoho.com"], pagesEnabled: "false" }))).toEqual([]);
        expect(problems(raw("prod"))).toEqual([]);
    });
});

describe("what config names on this machine is checked with everything else", () => {
    const secret = (r: RawConfig, key: string): RawConfig => ({ ...r, secretKeys: new Set([...r.secretKeys, `visualkit:${key}`]) });
    const folder = (facts: Partial<Extract<FolderFacts, { kind: "folder" }>>): LocalFacts => ({
        folder: (path) => ({ kind: "folder", path: `/work/${path}`, files: 2, broken: [], linkedFolders: [], ...facts }),
    });

    test.each<[string, LocalFacts, RegExp]>([
        ["that does not exist", NO_FILES, /widget\/dist does not exist/],
        ["a file", { folder: (path) => ({ kind: "file", path }) }, /widget\/dist is a file, not a folder/],
        ["an empty folder", folder({ files: 0 }), /holds no files; a sync would empty the CDN/],
        ["a folder with a dangling link", folder({ broken: ["latest.js"] }), /links that point nowhere: latest\.js/],
        ["a folder with a link to a folder", folder({ linkedFolders: ["v2"] }), /links to folders, which the upload cannot copy: v2/],
    ])("a widgetCdnSourceDir %s is refused with the fix", (_what, local, problem) => {
        expectOnly(raw("prod", { widgetCdnSourceDir: "widget/dist" }, { local }), "visualkit:widgetCdnSourceDir", problem, /built widget files|remove the links|replace each link/);
    });

    test("a folder with files is accepted as written", () => {
        const { config, issues } = parseConfig(raw("prod", { widgetCdnSourceDir: "widget/dist" }, { local: folder({}) }));
        expect(issues).toEqual([]);
        expect(config?.widgetCdnSourceDir).toBe("widget/dist");
    });

    test("the real file system: a missing path, a file, an empty folder, a dangling link and a link to a folder are each reported", () => {
        const dir = mkdtempSync(join(tmpdir(), "widget-facts-"));
        try {
            mkdirSync(join(dir, "empty"));
            writeFileSync(join(dir, "file.js"), "x");
            mkdirSync(join(dir, "linked"));
            writeFileSync(join(dir, "linked", "sdk.js"), "x");
            symlinkSync(join(dir, "gone.js"), join(dir, "linked", "latest.js"));
            mkdirSync(join(dir, "with-dir-link"));
            writeFileSync(join(dir, "with-dir-link", "sdk.js"), "x");
            symlinkSync(join(dir, "linked"), join(dir, "with-dir-link", "v1"));
            const local = localFacts({}, false);
            const problem = (path: string) => problems(raw("prod", { widgetCdnSourceDir: path }, { local })).map((p) => p.problem);
            expect(problem(join(dir, "nothing"))).toEqual([`${join(dir, "nothing")} does not exist`]);
            expect(problem(join(dir, "file.js"))).toEqual([`${join(dir, "file.js")} is a file, not a folder`]);
            expect(problem(join(dir, "empty"))).toEqual([expect.stringMatching(/holds no files/)]);
            expect(problem(join(dir, "linked"))).toEqual([expect.stringMatching(/links that point nowhere: latest\.js$/)]);
            expect(problem(join(dir, "with-dir-link"))).toEqual([expect.stringMatching(/links to folders, which the upload cannot copy: v1$/)]);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    // Before: any folder became the public CDN — the project folder itself (`.`, with .git), or a folder of keys.
    test("the real file system: a checkout (like the project folder, `.`), a folder holding one, and a folder with key-like files are refused", () => {
        const dir = mkdtempSync(join(tmpdir(), "widget-secrets-"));
        try {
            const built = (name: string) => {
                mkdirSync(join(dir, name), { recursive: true });
                writeFileSync(join(dir, name, "sdk.js"), "x");
                return join(dir, name);
            };
            // The project folder as `.`: its sources and its .git.
            mkdirSync(join(built("with-git"), ".git"));
            writeFileSync(join(dir, "with-git", ".git", "config"), "[remote \"origin\"]\n");
            writeFileSync(join(built("worktree"), ".git"), "gitdir: /elsewhere/.git/worktrees/w\n");
            mkdirSync(join(built("nested-hg"), "vendor", "lib", ".hg"), { recursive: true });
            writeFileSync(join(built("ssh-keys"), "id_ed25519"), "x");
            writeFileSync(join(built("pem"), "server.pem"), "x");
            writeFileSync(join(built("dotenv"), ".env"), "DATABASE_URL=x");
            writeFileSync(join(built("renamed-key"), "notes.txt"), "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbg==\n-----END OPENSSH PRIVATE KEY-----\n");
            writeFileSync(join(built("fine"), "widget.css"), "body{}");
            writeFileSync(join(dir, "fine", ".DS_Store"), "x");
            const local = localFacts({}, false);
            const problem = (path: string) => problems(raw("prod", { widgetCdnSourceDir: path }, { local })).map((p) => p.problem);
            expect(problem(join(dir, "with-git"))).toEqual([expect.stringMatching(/is or holds a version-control checkout \(\.git\)/)]);
            expect(problem(join(dir, "worktree"))).toEqual([expect.stringMatching(/version-control checkout \(\.git\)/)]);
            expect(problem(join(dir, "nested-hg"))).toEqual([expect.stringMatching(/version-control checkout \(vendor\/lib\/\.hg\)/)]);
            expect(problem(join(dir, "ssh-keys"))).toEqual([expect.stringMatching(/look like keys or credentials \(id_ed25519\)/)]);
            expect(problem(join(dir, "pem"))).toEqual([expect.stringMatching(/\(server\.pem\)/)]);
            expect(problem(join(dir, "dotenv"))).toEqual([expect.stringMatching(/\(\.env\)/)]);
            expect(problem(join(dir, "renamed-key"))).toEqual([expect.stringMatching(/\(notes\.txt\)/)]);
            // A dotfile is not served (Caddy hides it, the sync drops it), so a .DS_Store is no reason to refuse.
            expect(problem(join(dir, "fine"))).toEqual([]);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    test("a name in both platformApiEnv and platformApiSecretEnv is refused (the container would get it twice)", () => {
        const r = secret(raw("prod", { platformApiEnv: { DATABASE_URL: "a" }, platformApiSecretEnv: { DATABASE_URL: "b" } }), "platformApiSecretEnv");
        expectOnly(r, "visualkit:platformApiSecretEnv.DATABASE_URL", /also set in visualkit:platformApiEnv/, /remove visualkit:platformApiEnv\.DATABASE_URL/);
    });

    const agent = (state: "running" | "unset" | "stale"): LocalFacts => ({ ...NO_FILES, sshAgent: { state, socket: state === "unset" ? undefined : "/tmp/ssh-x/agent.1" } });
    const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbg==\n-----END OPENSSH PRIVATE KEY-----\n";

    test("deploying without a key and without an ssh-agent is refused before any SSH step would retry for minutes", () => {
        expectOnly(raw("dev", {}, { local: agent("unset") }), "visualkit:sshPrivateKey", /no ssh-agent is running/, /ssh-add/);
        expect(problems(raw("dev", {}, { local: agent("running") }))).toEqual([]);
        const withKey = secret(raw("dev", { sshPrivateKey: key }, { local: agent("unset") }), "sshPrivateKey");
        expect(problems(withKey)).toEqual([]);
    });

    test("an SSH_AUTH_SOCK that names no socket is refused even with a key (the provider fails on it)", () => {
        const r = secret(raw("dev", { sshPrivateKey: key }, { local: agent("stale") }), "sshPrivateKey");
        expectOnly(r, "SSH_AUTH_SOCK", /\/tmp\/ssh-x\/agent\.1, which is not a socket/, /ssh-agent|unset SSH_AUTH_SOCK/);
    });

    test("a deploy reads the agent from SSH_AUTH_SOCK; previews and the offline render check none (no SSH there)", async () => {
        expect(localFacts({ SSH_AUTH_SOCK: "/nonexistent/agent.sock" }, false).sshAgent).toBeUndefined();
        expect(localFacts({}, true).sshAgent).toEqual({ state: "unset", socket: undefined });
        expect(localFacts({ SSH_AUTH_SOCK: "/nonexistent/agent.sock" }, true).sshAgent?.state).toBe("stale");
        const dir = mkdtempSync(join(tmpdir(), "agent-"));
        const socket = join(dir, "agent.sock");
        const server = createServer();
        try {
            await new Promise<void>((done) => server.listen(socket, done));
            expect(localFacts({ SSH_AUTH_SOCK: socket }, true).sshAgent).toEqual({ state: "running", socket });
        } finally {
            await new Promise((done) => server.close(done));
            rmSync(dir, { recursive: true, force: true });
        }
    });

    test("a stack with several problems, a bad widgetCdnSourceDir among them, lists all of them and registers nothing", async () => {
        const dir = mkdtempSync(join(tmpdir(), "widget-facts-"));
        const registered: string[] = [];
        try {
            writeFileSync(join(dir, "sdk.js"), "x");
            const run = runProgram("prod", {
                set: { widgetCdnSourceDir: join(dir, "sdk.js"), serverLocation: "moon", platformApiEnv: { DATABASE_URL: "a" }, platformApiSecretEnv: { DATABASE_URL: "b" } },
                secrets: ["platformApiSecretEnv"],
                state: (type) => void (type !== "pulumi:pulumi:Stack" && registered.push(type)),
            });
            const error = (await run.then(() => undefined, (e: unknown) => e)) as ConfigError;
            expect(error).toBeInstanceOf(ConfigError);
            expect(error.issues.map((i) => i.key).sort()).toEqual(["visualkit:platformApiSecretEnv.DATABASE_URL", "visualkit:serverLocation", "visualkit:widgetCdnSourceDir"]);
            expect(error.message).toContain(`visualkit:widgetCdnSourceDir: ${join(dir, "sdk.js")} is a file, not a folder`);
            // One config report, not a component's stack trace.
            expect(error.message).not.toMatch(/\bat \w+ \(/);
            expect(registered).toEqual([]);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
