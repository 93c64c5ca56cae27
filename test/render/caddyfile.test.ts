import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Catalog, ServiceSpec } from "../../catalog/types";
import { CADDY_ADMIN_SOCKET, HSTS, METRICS_SITE_COMMENT, renderCaddyfile, STREAM_CLOSE_DELAY, supports, upstreamAddress, type CaddyfileOptions } from "../../render/caddyfile";
import { caddyCli, caddyEnv, stackOptions } from "../helpers/caddy";
import { parsedStack } from "../helpers/program";

const tmp = mkdtempSync(join(tmpdir(), "vk-caddy-render-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function writeTemp(name: string, text: string): string {
    const file = join(tmp, name);
    writeFileSync(file, text);
    return file;
}

/** Site blocks by address: the comment line, the address line and the body. */
function sites(text: string): Map<string, string> {
    // The routes' sites; Caddy's metrics site (loopback, test/render/caddyfile-metrics.test.ts) is not one.
    const blocks = text.split("\n\n").filter((b) => b.startsWith("# ") && !b.startsWith("# Generated") && !b.startsWith(METRICS_SITE_COMMENT));
    return new Map(blocks.map((b) => [b.split("\n")[1].replace(/ \{$/, ""), b.trimEnd()]));
}

/** Certificate-only sites (names that are not routes: the TURN hostname) answer 404 and proxy nothing. */
const isCertificateSite = (block: string) => /^# \S+: certificate only/.test(block);
const routeSites = (text: string) => new Map([...sites(text)].filter(([, b]) => !isCertificateSite(b)));
const withoutCertificateSites = (text: string) => text.split("\n\n").filter((b) => !isCertificateSite(b)).join("\n\n").replace(/\n*$/, "\n");

const prod = parsedStack("prod");
const prodText = renderCaddyfile(prod.catalog, stackOptions(prod.config));

describe.each(["dev", "prod"])("the %s Caddyfile checked by the real Caddy", (stack) => {
    const { config, catalog } = parsedStack(stack);
    const text = renderCaddyfile(catalog, stackOptions(config));

    test("caddy validate accepts it", () => {
        const res = caddyCli(["validate", "--adapter", "caddyfile", "--config", writeTemp(`${stack}.Caddyfile`, text)], caddyEnv(tmp));
        expect({ status: res.status, stderr: res.status === 0 ? "" : res.stderr }).toEqual({ status: 0, stderr: "" });
        expect(res.stdout).toContain("Valid configuration");
    });

    test("Caddy's admin API is the unix socket only (caddy adapt: no TCP listen address, so not Caddy's localhost:2019 default)", () => {
        const res = caddyCli(["adapt", "--adapter", "caddyfile", "--config", writeTemp(`${stack}.adapt.Caddyfile`, text)], caddyEnv(tmp));
        expect(res.status).toBe(0);
        const admin = (JSON.parse(res.stdout) as { admin?: { listen?: string; disabled?: boolean } }).admin;
        expect(admin).toEqual({ listen: `unix/${CADDY_ADMIN_SOCKET}` });
    });

    test("caddy fmt leaves it unchanged", () => {
        const res = caddyCli(["fmt", writeTemp(`${stack}.fmt.Caddyfile`, text)]);
        expect(res.status).toBe(0);
        expect(res.stdout).toBe(text);
    });
});

describe("sites derived from the catalog", () => {
    test("the prod sites are the reference's, with the containers' exact bind addresses as upstreams", () => {
        const upstreams = [...routeSites(prodText)].map(([address, block]) => [address, block.match(/reverse_proxy (\S+)/)?.[1] ?? block.match(/root \* (\S+)/)?.[1]]);
        expect(upstreams).toEqual([
            ["api.visualkit.live", "127.0.0.1:3001"],
            ["ws.visualkit.live", "127.0.0.1:3002"],
            ["agent.visualkit.live", "127.0.0.1:3004"],
            ["janus.visualkit.live", "172.18.0.1:8188"],
            ["janus-api.visualkit.live", "172.18.0.1:8088"],
            ["support.visualkit.live", "127.0.0.1:3003"],
            ["cdn.visualkit.live", "/opt/widget-cdn"],
        ]);
        expect(prodText).not.toMatch(/0\.0\.0\.0|localhost/);
    });

    test("support drops X-Frame-Options on the widget's paths only; cdn serves files with CORS and a year of caching", () => {
        const all = sites(prodText);
        expect(all.get("support.visualkit.live")).toContain("@strip_x_frame_options path /widget /widget/* /hc/*");
        for (const [address, block] of all) if (address !== "support.visualkit.live") expect(block).not.toContain("X-Frame-Options");
        const cdn = all.get("cdn.visualkit.live")!;
        expect(cdn).toContain("Access-Control-Allow-Origin *");
        expect(cdn).toContain('Access-Control-Allow-Methods "GET, OPTIONS"');
        expect(cdn).toContain('header @immutable Cache-Control "public, max-age=31536000, immutable"');
        expect(cdn).toContain('header @mutable Cache-Control "public, max-age=300, must-revalidate"');
        expect(cdn).toContain("file_server");
    });

    test("global options: ACME e-mail, JSON logs with rotation; every site imports compression, HSTS and the access log", () => {
        expect(prodText).toMatch(/^\{\n\temail ops@visualkit\.live\n/m);
        expect(prodText).toContain(`\t\tStrict-Transport-Security "${HSTS}"\n\t\tX-Content-Type-Options nosniff\n\t\tReferrer-Policy strict-origin-when-cross-origin\n\t\tdefer\n`);
        expect(prodText).toMatch(/\(site\) \{\n\tencode zstd gzip\n/);
        expect(prodText).toMatch(/output file \/var\/log\/caddy\/access\.log \{\n\t+roll_size \S+\n\t+roll_keep \d+/);
        for (const [address, block] of sites(prodText)) expect({ address, imports: block.includes("\timport site\n") }).toEqual({ address, imports: true });
    });

    test("the TURN name gets a certificate-only site whose ACME issuer never uses the TLS-ALPN challenge (443 of its address is coturn's)", () => {
        expect(sites(prodText).get("turn.visualkit.live")).toBe(
            [
                "# turn: certificate only, for turn (its own address; see docs/turn.md)",
                "turn.visualkit.live {",
                "\timport site",
                "\ttls {",
                "\t\tissuer acme {",
                "\t\t\tdisable_tlsalpn_challenge",
                "\t\t}",
                "\t}",
                "\trespond 404",
                "}",
            ].join("\n"),
        );
    });

    test("a dev Caddyfile uses the dev hostnames and its log level", () => {
        const dev = parsedStack("dev");
        const text = renderCaddyfile(dev.catalog, stackOptions(dev.config));
        expect([...sites(text).keys()]).toContain("api.dev.visualkit.live");
        expect(text).toContain("level DEBUG");
    });
});

describe("table: the catalog decides which sites exist", () => {
    const extra: ServiceSpec = {
        id: "status-page",
        component: "widget-cdn",
        description: "Status page",
        host: "main",
        bindAddress: "127.0.0.1",
        containers: [],
        ports: [{ id: "http", protocol: "tcp", port: 3100, endPort: 3100, containerPort: 3100, exposure: "proxied", configKey: "visualkit:ports.status" }],
        routes: [{ id: "status", label: "status", hostname: "status.visualkit.live", target: { kind: "proxy", port: "http" }, proxied: false }],
    };
    const withServices = (services: readonly ServiceSpec[]): Catalog => ({ ...prod.catalog, services });
    const opts = stackOptions(prod.config);

    test.each([
        ["adding a service adds exactly its site", withServices([...prod.catalog.services, extra]), ["status.visualkit.live"], []],
        ["removing a service removes exactly its sites", withServices(prod.catalog.services.filter((s) => s.id !== "janus")), [], ["janus.visualkit.live", "janus-api.visualkit.live"]],
        ["a service on another host is not on this host's Caddyfile", withServices([...prod.catalog.services, { ...extra, host: "edge" }]), [], []],
    ])("%s", (_, catalog, added, removed) => {
        const before = sites(prodText);
        const after = sites(renderCaddyfile(catalog, opts));
        expect([...after.keys()].filter((k) => !before.has(k))).toEqual(added);
        expect([...before.keys()].filter((k) => !after.has(k))).toEqual(removed);
        for (const [address, block] of after) if (before.has(address)) expect(block).toBe(before.get(address));
    });

    test("an added site is a reverse proxy to its own port", () => {
        const text = renderCaddyfile(withServices([...prod.catalog.services, extra]), opts);
        expect(sites(text).get("status.visualkit.live")).toContain("reverse_proxy 127.0.0.1:3100");
    });

    test.each(["0.0.0.0", "::", "localhost"])("a service bound to %s is refused (upstreams must be exact addresses)", (bindAddress) => {
        expect(() => upstreamAddress({ ...extra, bindAddress }, { kind: "proxy", port: "http" })).toThrow(/status-page binds/);
    });
});

describe("version gating of stream_close_delay (Caddy 2.7+)", () => {
    const render = (caddyVersion: string) => renderCaddyfile(prod.catalog, { ...stackOptions(prod.config), caddyVersion });
    const withDelay = (text: string) => [...sites(text)].filter(([, b]) => b.includes("stream_close_delay")).map(([a]) => a);

    test.each([
        ["2.6.2", []],
        ["2.7.0", ["ws.visualkit.live", "janus.visualkit.live"]],
        ["2.10", ["ws.visualkit.live", "janus.visualkit.live"]],
    ])("Caddy %s: WebSocket sites with the delay: %j", (version, expected) => {
        expect(withDelay(render(version))).toEqual(expected);
    });

    test("the gate is needed: Caddy 2.6.2 rejects the 2.7 rendering", () => {
        const text = render("2.7.6");
        expect(text).toContain(`stream_close_delay ${STREAM_CLOSE_DELAY.value}`);
        const res = caddyCli(["validate", "--adapter", "caddyfile", "--config", writeTemp("v27.Caddyfile", text)], caddyEnv(tmp));
        expect(res.status).not.toBe(0);
        expect(res.stderr).toContain("stream_close_delay");
    });

    test.each([
        ["2.6.2", "2.7.0", false],
        ["2.7", "2.7.0", true],
        ["2.10.0", "2.7.0", true],
        ["3.0", "2.7.0", true],
    ])("supports(%s, %s) is %s", (version, min, expected) => {
        expect(supports(version, min)).toBe(expected);
    });
});

describe("loopback mode is the same renderer", () => {
    test("with identity remaps it differs from the production text only in the global options and the http:// scheme", () => {
        const identity = Object.fromEntries([...sites(prodText).values()].flatMap((b) => [...b.matchAll(/reverse_proxy ([^{\n]+)/g)].flatMap((m) => m[1].trim().split(" ").map((u) => [u, u]))));
        const options: CaddyfileOptions = { ...stackOptions(prod.config), loopback: { httpPort: 18080, adminSocket: "/tmp/x/admin.sock", upstreams: identity, logDir: "/var/log/caddy" } };
        const loopback = renderCaddyfile(prod.catalog, options);
        const globals = /^\{\n[\s\S]*?\n\}\n/m;
        expect(loopback.match(globals)?.[0]).toContain("admin unix//tmp/x/admin.sock");
        expect(loopback.match(globals)?.[0]).toContain("default_bind 127.0.0.1");
        // Loopback mode serves plain HTTP: it has no certificate-only sites, and no metrics site unless given a port.
        const withoutMetrics = withoutCertificateSites(prodText).replace(globals, "").replace(/\n\n# Prometheus metrics[\s\S]*?\n\}\n$/, "\n");
        expect(loopback.replace(globals, "").replace(/^http:\/\//gm, "")).toBe(withoutMetrics);
    });

    test("an upstream without a stand-in is an error, not a silently missing site", () => {
        const options: CaddyfileOptions = { ...stackOptions(prod.config), loopback: { httpPort: 18080, adminSocket: "/tmp/x/admin.sock", upstreams: {}, logDir: tmp } };
        expect(() => renderCaddyfile(prod.catalog, options)).toThrow(/no stand-in for upstream 127\.0\.0\.1:3001/);
    });
});

describe("TLS from Caddy's internal CA (caddyTls: internal)", () => {
    const { config, catalog } = parsedStack("dev");
    const acme = renderCaddyfile(catalog, stackOptions(config));
    const internal = renderCaddyfile(catalog, { ...stackOptions(config), tls: "internal" });

    test("every site gets `tls internal` and nothing else changes", () => {
        const a = routeSites(acme);
        const i = routeSites(internal);
        expect([...i.keys()]).toEqual([...a.keys()]);
        for (const [address, block] of i) expect(block).toBe(a.get(address)!.replace("\timport site\n", "\timport site\n\ttls internal\n"));
        expect(withoutCertificateSites(internal).replace(/\ttls internal\n/g, "")).toBe(withoutCertificateSites(acme));
        // The TURN name's certificate comes from the internal CA too, with no ACME issuer left.
        expect(sites(internal).get("turn.dev.visualkit.live")).toBe("# turn: certificate only, for turn (its own address; see docs/turn.md)\nturn.dev.visualkit.live {\n\timport site\n\ttls internal\n\trespond 404\n}");
    });

    test("the real Caddy accepts it and it is fmt-clean", () => {
        const file = writeTemp("internal.Caddyfile", internal);
        const res = caddyCli(["validate", "--adapter", "caddyfile", "--config", file], caddyEnv(tmp));
        expect({ status: res.status, stderr: res.status === 0 ? "" : res.stderr }).toEqual({ status: 0, stderr: "" });
        expect(caddyCli(["fmt", file]).stdout).toBe(internal);
    });

    test("the adapted config issues from the internal CA for every hostname, not from ACME", () => {
        const res = caddyCli(["adapt", "--adapter", "caddyfile", "--config", writeTemp("internal-adapt.Caddyfile", internal)], caddyEnv(tmp));
        expect(res.status).toBe(0);
        const policies = (JSON.parse(res.stdout) as { apps: { tls: { automation: { policies: { subjects: string[]; issuers: { module: string }[] }[] } } } }).apps.tls.automation.policies;
        const hostnames = [...sites(acme).keys()];
        expect(policies.flatMap((p) => p.subjects).sort()).toEqual([...hostnames].sort());
        expect(new Set(policies.flatMap((p) => p.issuers.map((x) => x.module)))).toEqual(new Set(["internal"]));
    });
});
