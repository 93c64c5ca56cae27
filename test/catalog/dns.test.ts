import { deriveDnsRecords, dmarcValue, redirectRules, relativeName, txtContent, type DnsRecordSpec } from "../../catalog/dns";
import type { Catalog } from "../../catalog/types";
import { parsedStack, type RunOptions } from "../helpers/program";

function records(stack: "dev" | "prod", set: RunOptions["set"] = {}): DnsRecordSpec[] {
    const { config, catalog } = parsedStack(stack, { set });
    return deriveDnsRecords(catalog, { zone: config.cloudflare.zone, project: config.project, stack, email: config.email });
}

const row = (r: DnsRecordSpec) => `${r.name} ${r.type} ${r.proxied ? "proxied" : "dns-only"}`;
const content = (r: DnsRecordSpec) => (r.content.kind === "literal" ? r.content.value : r.content.kind === "hostAddress" ? `<${r.content.host} ${r.content.family}>` : `<${r.content.project}.pages.dev>`);

describe("prod record set", () => {
    test("is exactly the reference's table plus janus-api and turn, with www as a redirect record and the e-mail records", () => {
        const rs = records("prod");
        expect(rs.map((r) => `${row(r)} ${content(r)}${r.priority !== undefined ? ` ${r.priority}` : ""}`).sort()).toEqual(
            [
                ...["api", "ws", "agent", "janus", "janus-api", "support", "cdn"].flatMap((l) => [`${l} A dns-only <main ipv4>`, `${l} AAAA dns-only <main ipv6>`]),
                "@ CNAME proxied <visualkit-landing.pages.dev>",
                "app CNAME proxied <visualkit-dashboard.pages.dev>",
                "meet CNAME proxied <visualkit-meeting.pages.dev>",
                "www AAAA proxied 100::",
                // The TURN name: its own address (a Floating IPv4), DNS-only (Cloudflare's proxy carries no TURN), no AAAA.
                "turn A dns-only <main turnIpv4>",
                "@ MX dns-only mx.zoho.com 10",
                "@ MX dns-only mx2.zoho.com 20",
                "@ MX dns-only mx3.zoho.com 50",
                '@ TXT dns-only "v=spf1 include:zoho.com ~all"',
                `zmail._domainkey TXT dns-only "${parsedStack("prod").config.email?.dkim?.value}"`,
                '_dmarc TXT dns-only "v=DMARC1; p=none; rua=mailto:dmarc@visualkit.live"',
            ].sort(),
        );
    });

    test("hostnames are fully qualified beside the zone-relative names", () => {
        const rs = records("prod");
        expect(rs.find((r) => r.key === "janus-api-a")?.hostname).toBe("janus-api.visualkit.live");
        expect(rs.find((r) => r.key === "landing-cname")?.hostname).toBe("visualkit.live");
        expect(rs.find((r) => r.key === "dkim")?.hostname).toBe("zmail._domainkey.visualkit.live");
    });

    test("every comment says the project and the stack, and fits Cloudflare's 100-character comment limit", () => {
        for (const r of records("prod")) {
            expect(r.comment).toMatch(/^Managed by Pulumi visualkit\/prod: /);
            expect(r.comment.length).toBeLessThanOrEqual(100);
        }
    });
});

describe("dev record set", () => {
    test("lives under dev.visualkit.live inside the zone, with -dev Pages projects, no www record and no e-mail", () => {
        const rs = records("dev");
        expect(rs.filter((r) => r.type !== "A" && r.type !== "AAAA").map((r) => `${row(r)} ${content(r)}`).sort()).toEqual([
            "app.dev CNAME proxied <visualkit-dashboard-dev.pages.dev>",
            "dev CNAME proxied <visualkit-landing-dev.pages.dev>",
            "meet.dev CNAME proxied <visualkit-meeting-dev.pages.dev>",
        ]);
        expect(rs.filter((r) => r.type === "A").map((r) => r.name).sort()).toEqual(["agent.dev", "api.dev", "cdn.dev", "janus-api.dev", "janus.dev", "support.dev", "turn.dev", "ws.dev"]);
        expect(rs.every((r) => r.comment.startsWith("Managed by Pulumi visualkit/dev: "))).toBe(true);
    });

    test("pagesEnabled=false leaves out every Pages CNAME and nothing else", () => {
        const on = records("dev");
        const off = records("dev", { pagesEnabled: false });
        expect(off.filter((r) => r.type === "CNAME")).toEqual([]);
        expect(off.map(row)).toEqual(on.filter((r) => r.type !== "CNAME").map(row));
    });

    test("e-mail below the zone apex lands under the dev domain when configured", () => {
        const rs = records("dev", { emailMx: ["10 mx.zoho.com"], emailDmarcPolicy: "quarantine", pagesEnabled: false });
        expect(rs.filter((r) => r.type === "MX" || r.type === "TXT").map((r) => `${row(r)} ${content(r)}`)).toEqual([
            "dev MX dns-only mx.zoho.com",
            '_dmarc.dev TXT dns-only "v=DMARC1; p=quarantine"',
        ]);
    });
});

describe("derivation follows the catalog", () => {
    test("a renamed hostname renames the record but keeps its key (no resource replacement)", () => {
        const rs = records("prod", { hostnames: { api: "backend" } });
        expect(rs.filter((r) => r.key.startsWith("api-")).map((r) => r.name)).toEqual(["backend", "backend"]);
        expect(rs.some((r) => r.name === "api")).toBe(false);
    });

    test("a route the catalog marks proxied gets proxied A and AAAA records", () => {
        const { config, catalog } = parsedStack("prod");
        const proxiedApi: Catalog = {
            ...catalog,
            services: catalog.services.map((s) => ({ ...s, routes: s.routes.map((r) => (r.id === "api" ? { ...r, proxied: true } : r)) })),
        };
        const rs = deriveDnsRecords(proxiedApi, { zone: config.cloudflare.zone, project: "visualkit", stack: "prod" });
        expect(rs.filter((r) => r.name === "api").map(row)).toEqual(["api A proxied", "api AAAA proxied"]);
        expect(rs.filter((r) => r.name === "ws").map(row)).toEqual(["ws A dns-only", "ws AAAA dns-only"]);
    });

    test("every service hostname gets one A and one AAAA pointing at the service's own host", () => {
        const { catalog } = parsedStack("prod");
        const rs = records("prod");
        for (const s of catalog.services) {
            for (const route of s.routes) {
                const mine = rs.filter((r) => r.hostname === route.hostname);
                expect(mine.map((r) => r.type).sort()).toEqual(["A", "AAAA"]);
                for (const r of mine) expect(r.content).toEqual({ kind: "hostAddress", host: s.host, family: r.type === "A" ? "ipv4" : "ipv6" });
            }
        }
    });
});

describe("zone ownership", () => {
    test.each([
        ["prod", true, ["www"]],
        ["dev", false, []],
    ] as const)("%s owns the zone-wide settings: %s, and so has the redirects %j", (stack, owns, redirects) => {
        const { catalog } = parsedStack(stack);
        expect(catalog.ownsZone).toBe(owns);
        expect(catalog.redirects.map((r) => r.id)).toEqual(redirects);
    });

    test.each([
        ["visualkit.live", "@"],
        ["dev.visualkit.live", "dev"],
        ["api.dev.visualkit.live", "api.dev"],
        ["_dmarc.visualkit.live", "_dmarc"],
    ])("relative name of %s is %s", (host, name) => {
        expect(relativeName(host, "visualkit.live")).toBe(name);
    });

    test("a hostname outside the zone is an error, not a wrong record", () => {
        expect(() => relativeName("api.example.com", "visualkit.live")).toThrow(/not inside the zone visualkit\.live/);
        expect(() => relativeName("notvisualkit.live", "visualkit.live")).toThrow(/not inside/);
    });
});

describe("TXT and DMARC values", () => {
    test("short text is one quoted string", () => {
        expect(txtContent("v=spf1 include:zoho.com ~all")).toBe('"v=spf1 include:zoho.com ~all"');
    });

    test("quotes and backslashes are escaped", () => {
        expect(txtContent('a"b\\c')).toBe('"a\\"b\\\\c"');
    });

    test("a 2048-bit DKIM key is split into 255-byte strings that join back to the value", () => {
        const value = `v=DKIM1; k=rsa; p=${"A".repeat(392)}`;
        const out = txtContent(value);
        const parts = [...out.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
        expect(parts.map((p) => p.length)).toEqual([255, value.length - 255]);
        expect(parts.join("")).toBe(value);
        expect(out).toBe(parts.map((p) => `"${p}"`).join(" "));
    });

    test.each([
        [{ policy: "reject" as const, rua: "mailto:d@visualkit.live" }, "v=DMARC1; p=reject; rua=mailto:d@visualkit.live"],
        [{ policy: "none" as const }, "v=DMARC1; p=none"],
    ])("DMARC %j", (dmarc, expected) => {
        expect(dmarcValue(dmarc)).toBe(expected);
    });
});

/** Evaluates the only expression shape the rules may have: one exact host comparison. */
function matches(expression: string, host: string): boolean {
    const m = /^\(http\.host eq "([^"]+)"\)$/.exec(expression);
    if (!m) throw new Error(`unexpected expression ${expression}`);
    return m[1] === host;
}

describe("redirect rules", () => {
    test("the www rule matches www only and sends path and query to the apex with 301", () => {
        const { catalog } = parsedStack("prod");
        const [rule, ...rest] = redirectRules(catalog.redirects);
        expect(rest).toEqual([]);
        const hosts = ["www.visualkit.live", "visualkit.live", "app.visualkit.live", "www.dev.visualkit.live", "wwwvisualkit.live", "api.visualkit.live"];
        expect(hosts.filter((h) => matches(rule.expression, h))).toEqual(["www.visualkit.live"]);
        const target = /^concat\("([^"]+)", http\.request\.uri\.path\)$/.exec(rule.targetExpression);
        expect(target?.[1]).toBe("https://visualkit.live");
        expect(rule.statusCode).toBe(301);
        expect(rule.preserveQueryString).toBe(true);
    });
});
