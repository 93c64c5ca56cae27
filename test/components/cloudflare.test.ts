import * as pulumi from "@pulumi/pulumi";
import { deriveDnsRecords, type DnsRecordSpec } from "../../catalog/dns";
import { CloudflareDns } from "../../components/cloudflare-dns";
import type { MockRunResult } from "../../mocks/runtime";
import { hostRoutes } from "../../catalog";
import { parsedStack, runComponents, runProgram, type ProgramRun, type RunOptions } from "../helpers/program";

const ZONE_INVOKE = "cloudflare:index/getZone:getZone";
const RECORD = "cloudflare:index/dnsRecord:DnsRecord";

function prodRecords(): DnsRecordSpec[] {
    const { config, catalog } = parsedStack("prod");
    return deriveDnsRecords(catalog, { zone: config.cloudflare.zone, project: config.project, stack: "prod", email: config.email });
}

/** Runs one CloudflareDns under the mocks, with a fake host (documentation addresses) in place of HetznerHost. */
async function runDns(opts: { zoneId?: string; hosts?: string[]; records?: DnsRecordSpec[] } = {}): Promise<MockRunResult> {
    const records = opts.records ?? prodRecords();
    return runComponents(async () => {
        const hosts = Object.fromEntries((opts.hosts ?? ["main"]).map((h) => [h, { ipv4: pulumi.output("203.0.113.10"), ipv6: pulumi.output("2001:db8::1"), turnIpv4: pulumi.output("198.51.100.20") }]));
        const pagesSubdomains = Object.fromEntries(
            records.flatMap((r) => (r.content.kind === "pagesSubdomain" ? [[r.content.project, pulumi.output(`${r.content.project}-x1.pages.dev`)]] : [])),
        );
        const dns = new CloudflareDns("dns", { zone: "visualkit.live", zoneId: opts.zoneId, records, hosts, pagesSubdomains });
        return { zoneId: dns.zoneId, records: dns.records };
    });
}

describe("CloudflareDns (constructed directly, fake host)", () => {
    test("looks the zone up by name and puts every record in it, fully qualified, automatic TTL", async () => {
        const run = await runDns();
        const lookups = run.invokes.filter((i) => i.token === ZONE_INVOKE);
        expect(lookups.map((i) => i.inputs)).toEqual([{ filter: { name: "visualkit.live" } }]);
        const zoneId = run.outputs.zoneId;
        expect(zoneId).toMatch(/^[0-9a-f]{32}$/);
        const recs = run.resources.filter((r) => r.type === RECORD);
        expect(recs).toHaveLength(prodRecords().length);
        for (const r of recs) {
            expect(r.inputs.zoneId).toBe(zoneId);
            expect(r.inputs.ttl).toBe(1);
            expect(String(r.inputs.name)).toMatch(/(^|\.)visualkit\.live$/);
            expect(r.parent).toBe("dns");
        }
    });

    test("resolves host addresses and Pages subdomains into record content", async () => {
        const run = await runDns();
        const byName = (name: string, type: string) => run.resources.find((r) => r.type === RECORD && r.inputs.name === name && r.inputs.type === type)?.inputs;
        expect(byName("janus-api.visualkit.live", "A")).toMatchObject({ content: "203.0.113.10", proxied: false });
        expect(byName("janus-api.visualkit.live", "AAAA")).toMatchObject({ content: "2001:db8::1", proxied: false });
        expect(byName("visualkit.live", "CNAME")).toMatchObject({ content: "visualkit-landing-x1.pages.dev", proxied: true });
        const mx = run.resources.filter((r) => r.type === RECORD && r.inputs.type === "MX").map((r) => [r.inputs.content, r.inputs.priority]);
        expect(mx).toEqual([
            ["mx.zoho.com", 10],
            ["mx2.zoho.com", 20],
            ["mx3.zoho.com", 50],
        ]);
    });

    test("the records output lists each record with its resolved content", async () => {
        const run = await runDns();
        const out = run.outputs.records as { name: string; type: string; content: string; proxied: boolean; priority?: number }[];
        expect(out).toContainEqual({ name: "api.visualkit.live", type: "A", content: "203.0.113.10", proxied: false });
        expect(out).toContainEqual({ name: "visualkit.live", type: "MX", content: "mx.zoho.com", proxied: false, priority: 10 });
        expect(out).toHaveLength(prodRecords().length);
    });

    test("a configured zone id skips the lookup", async () => {
        const run = await runDns({ zoneId: "0123456789abcdef0123456789abcdef" });
        expect(run.invokes.filter((i) => i.token === ZONE_INVOKE)).toEqual([]);
        expect(new Set(run.resources.filter((r) => r.type === RECORD).map((r) => r.inputs.zoneId))).toEqual(new Set(["0123456789abcdef0123456789abcdef"]));
    });

    test("a record on a host nobody created fails with the host named", async () => {
        await expect(runDns({ hosts: ["edge"] })).rejects.toThrow(/points at host "main", which has no HostHandle/);
    });
});

const PROJECT = "cloudflare:index/pagesProject:PagesProject";
const DOMAIN = "cloudflare:index/pagesDomain:PagesDomain";
const RULESET = "cloudflare:index/ruleset:Ruleset";
const SETTING = "cloudflare:index/zoneSetting:ZoneSetting";

/** What the catalog, Pages and e-mail config require, written independently of catalog/dns.ts. */
function required(stack: "dev" | "prod", set: RunOptions["set"] = {}): string[] {
    const { config, catalog } = parsedStack(stack, { set });
    const rows = [
        ...hostRoutes(catalog).flatMap(({ route }) => [`${route.hostname} A ${route.proxied}`, `${route.hostname} AAAA ${route.proxied}`]),
        // Names that are not routes (TURN): one DNS-only A record at the host's TURN address.
        ...catalog.services.flatMap((s) => (s.names ?? []).map((n) => `${n.hostname} A false`)),
        ...catalog.pages.map((p) => `${p.hostname} CNAME true`),
        ...(catalog.domain === config.cloudflare.zone ? catalog.redirects.map((r) => `${r.hostname} AAAA true`) : []),
        ...(config.email?.mx ?? []).map(() => `${catalog.domain} MX false`),
        ...(config.email?.spf ? [`${catalog.domain} TXT false`] : []),
        ...(config.email?.dkim ? [`${config.email.dkim.selector}._domainkey.${catalog.domain} TXT false`] : []),
        ...(config.email ? [`_dmarc.${catalog.domain} TXT false`] : []),
    ];
    return rows.sort();
}

const recordRows = (run: ProgramRun) => run.ofType(RECORD).map((r) => `${r.inputs.name} ${r.inputs.type} ${r.inputs.proxied}`).sort();

describe.each(["prod", "dev"] as const)("program (%s stack)", (stack) => {
    let run: ProgramRun;
    beforeAll(async () => {
        run = await runProgram(stack);
    });

    test("the DNS records are exactly what catalog, Pages and e-mail config require", () => {
        expect(recordRows(run)).toEqual(required(stack));
    });

    test("no name has two records of one type (MX aside, one per mail host)", () => {
        const slots = run.ofType(RECORD).map((r) => `${r.inputs.name} ${r.inputs.type}${r.inputs.type === "MX" ? ` ${r.inputs.content}` : ""}`);
        expect(new Set(slots).size).toBe(slots.length);
    });

    test("every VPS hostname has an A and an AAAA record to its host's addresses, proxied only if the catalog says so", () => {
        const { catalog } = parsedStack(stack);
        const host = (run.outputs.hosts as Record<string, { ipv4: string; ipv6: string }>).main;
        for (const { route } of hostRoutes(catalog)) {
            const mine = run.ofType(RECORD).filter((r) => r.inputs.name === route.hostname);
            expect(mine.map((r) => [r.inputs.type, r.inputs.content, r.inputs.proxied])).toEqual([
                ["A", host.ipv4, route.proxied],
                ["AAAA", host.ipv6, route.proxied],
            ]);
        }
    });

    test("every site address in the deployed Caddyfile has an A and an AAAA record; the TURN name's certificate site an A only", () => {
        const caddyfile = run.files.get("Caddyfile") ?? "";
        const sites = [...caddyfile.matchAll(/^([a-z0-9][a-z0-9.-]*) \{$/gm)].map((m) => m[1]);
        const { catalog } = parsedStack(stack);
        const names = catalog.services.flatMap((s) => (s.names ?? []).map((n) => n.hostname));
        expect(sites.sort()).toEqual([...hostRoutes(catalog).map(({ route }) => route.hostname), ...names].sort());
        for (const site of sites) {
            expect(run.ofType(RECORD).filter((r) => r.inputs.name === site).map((r) => r.inputs.type).sort()).toEqual(names.includes(site) ? ["A"] : ["A", "AAAA"]);
        }
    });

    test("every Pages custom domain has a proxied CNAME to its project's pages.dev name", () => {
        const domains = run.ofType(DOMAIN);
        expect(domains.length).toBe(3);
        for (const d of domains) {
            const cname = run.ofType(RECORD).filter((r) => r.inputs.name === d.inputs.name && r.inputs.type === "CNAME");
            expect(cname.map((r) => [r.inputs.content, r.inputs.proxied])).toEqual([[`${d.inputs.projectName}.pages.dev`, true]]);
        }
    });

    test("every record comment names the project and this stack", () => {
        for (const r of run.ofType(RECORD)) expect(r.inputs.comment).toMatch(new RegExp(`^Managed by Pulumi visualkit/${stack}: `));
    });

    test("Pages projects build apps/<name> from the configured repository with the catalog's URLs baked in", () => {
        const { config, catalog } = parsedStack(stack);
        expect(run.ofType(PROJECT).map((p) => p.inputs.name).sort()).toEqual(catalog.pages.map((p) => p.project).sort());
        for (const site of catalog.pages) {
            const p = run.ofType(PROJECT).find((x) => x.inputs.name === site.project)!;
            expect(p.inputs).toMatchObject({
                accountId: config.cloudflare.accountId,
                productionBranch: config.pages.productionBranch,
                buildConfig: { buildCommand: "pnpm build", destinationDir: "dist", rootDir: `apps/${site.id}` },
                source: { type: "github", config: { owner: "visualkit", repoName: "visualkit", productionBranch: config.pages.productionBranch } },
            });
            const env = Object.fromEntries(Object.entries(site.buildEnv).map(([k, value]) => [k, { type: "plain_text", value }]));
            expect(p.inputs.deploymentConfigs).toEqual({ production: { envVars: env }, preview: { envVars: env } });
        }
    });

    test("outputs list every DNS record and every Pages project with its pages.dev URL and custom domain", () => {
        const out = run.outputs.dnsRecords as { name: string; type: string; content: string; proxied: boolean }[];
        expect(out.map((r) => `${r.name} ${r.type} ${r.proxied}`).sort()).toEqual(recordRows(run));
        expect(out.every((r) => typeof r.content === "string" && r.content.length > 0)).toBe(true);
        const { catalog } = parsedStack(stack);
        expect(run.outputs.pagesProjects).toEqual(catalog.pages.map((p) => ({ site: p.id, name: p.project, url: `https://${p.hostname}`, pagesDevUrl: `https://${p.project}.pages.dev` })));
    });
});

describe("zone-wide resources", () => {
    let prod: ProgramRun;
    let dev: ProgramRun;
    beforeAll(async () => {
        [prod, dev] = [await runProgram("prod"), await runProgram("dev")];
    });

    test("prod owns the zone: one dynamic-redirect ruleset whose only rule sends www (and nothing else) to the apex", () => {
        const run = prod;
        const [ruleset, ...more] = run.ofType(RULESET);
        expect(more).toEqual([]);
        expect(ruleset.inputs).toMatchObject({ kind: "zone", phase: "http_request_dynamic_redirect" });
        const rules = ruleset.inputs.rules as { expression: string; action: string; enabled: boolean; actionParameters: { fromValue: Record<string, unknown> } }[];
        expect(rules).toHaveLength(1);
        const hosts = ["www.visualkit.live", "visualkit.live", "app.visualkit.live", "api.visualkit.live", "www.dev.visualkit.live"];
        expect(hosts.filter((h) => exactHost(rules[0].expression) === h)).toEqual(["www.visualkit.live"]);
        expect(rules[0]).toMatchObject({ action: "redirect", enabled: true });
        expect(rules[0].actionParameters.fromValue).toEqual({
            statusCode: 301,
            preserveQueryString: true,
            targetUrl: { expression: 'concat("https://visualkit.live", http.request.uri.path)' },
        });
    });

    test("prod sets SSL Full (strict), Always Use HTTPS and TLS 1.2 on the zone its records live in", () => {
        const run = prod;
        const settings = Object.fromEntries(run.ofType(SETTING).map((s) => [s.inputs.settingId, s.inputs.value]));
        expect(settings).toEqual({ ssl: "strict", always_use_https: "on", min_tls_version: "1.2" });
        const zoneIds = new Set([...run.ofType(SETTING), ...run.ofType(RULESET), ...run.ofType(RECORD)].map((r) => r.inputs.zoneId));
        expect(zoneIds.size).toBe(1);
    });

    test("dev shares the zone and creates no zone-wide resource: no ruleset, no zone setting, no www record", () => {
        const run = dev;
        expect(run.ofType(RULESET)).toEqual([]);
        expect(run.ofType(SETTING)).toEqual([]);
        expect(run.ofType(RECORD).filter((r) => String(r.inputs.name).startsWith("www."))).toEqual([]);
        expect(run.ofType(RECORD).every((r) => String(r.inputs.name).endsWith("dev.visualkit.live"))).toBe(true);
    });
});

describe("switches", () => {
    test.each(["dev", "prod"] as const)("pagesEnabled=false in %s removes projects, domains and their CNAMEs, nothing else", async (stack) => {
        const on = await runProgram(stack);
        const off = await runProgram(stack, { set: { pagesEnabled: false } });
        expect(off.ofType(PROJECT)).toEqual([]);
        expect(off.ofType(DOMAIN)).toEqual([]);
        expect(recordRows(off)).toEqual(recordRows(on).filter((r) => !r.includes(" CNAME ")));
        expect(off.outputs.pagesProjects).toEqual([]);
    });

    test("a configured zone id is used as is, with no lookup", async () => {
        const run = await runProgram("prod", { set: { cloudflareZoneId: "0123456789abcdef0123456789abcdef" } });
        expect(run.invokes.filter((i) => i.token === ZONE_INVOKE)).toEqual([]);
        expect(new Set(run.ofType(RECORD).map((r) => r.inputs.zoneId))).toEqual(new Set(["0123456789abcdef0123456789abcdef"]));
    });
});

/** The host an expression compares against, when it is exactly one `http.host eq` test; anything else fails. */
function exactHost(expression: string): string {
    const m = /^\(http\.host eq "([^"]+)"\)$/.exec(expression);
    if (!m) throw new Error(`redirect expression is not a single exact host match: ${expression}`);
    return m[1];
}

test("addressRecords: the A/AAAA records of the given names on the given host only, never CNAMEs, e-mail or other hosts", async () => {
    const comment = "test";
    const edge: DnsRecordSpec[] = (["ipv4", "ipv6"] as const).map((family) => ({
        key: `media-${family}`,
        name: "media",
        hostname: "media.visualkit.live",
        type: family === "ipv4" ? "A" : "AAAA",
        content: { kind: "hostAddress", host: "edge", family },
        proxied: false,
        comment,
        source: { configKey: "visualkit:hostnames.media", owner: `route "media"` },
    }));
    const records = [...prodRecords(), ...edge];
    const asked = ["api.visualkit.live", "media.visualkit.live", "app.visualkit.live", "visualkit.live", "www.visualkit.live"];
    const run = await runComponents(async () => {
        const hosts = Object.fromEntries(["main", "edge"].map((h) => [h, { ipv4: pulumi.output("203.0.113.10"), ipv6: pulumi.output("2001:db8::1"), turnIpv4: pulumi.output("198.51.100.20") }]));
        const pagesSubdomains = Object.fromEntries(records.flatMap((r) => (r.content.kind === "pagesSubdomain" ? [[r.content.project, pulumi.output("x.pages.dev")]] : [])));
        const dns = new CloudflareDns("dns", { zone: "visualkit.live", records, hosts, pagesSubdomains });
        const urns = (host: string) => pulumi.all(dns.addressRecords(host, asked).map((r) => r.urn));
        return { main: urns("main"), edge: urns("edge"), none: urns("nowhere") };
    });
    const names = (key: string) => (run.outputs[key] as string[]).map((u) => u.split("::").pop()).sort();
    expect(names("main")).toEqual(["dns-api-a", "dns-api-aaaa"]);
    expect(names("edge")).toEqual(["dns-media-ipv4", "dns-media-ipv6"]);
    expect(names("none")).toEqual([]);
});
