import * as pulumi from "@pulumi/pulumi";
import { deriveDnsRecords, type DnsRecordSpec } from "../../catalog/dns";
import { CloudflareDns } from "../../components/cloudflare-dns";
import { runWithMocks, type MockRunResult } from "../../scripts/mock-runtime";
import { parsedStack } from "../helpers/program";

const ZONE_INVOKE = "cloudflare:index/getZone:getZone";
const RECORD = "cloudflare:index/dnsRecord:DnsRecord";

function prodRecords(): DnsRecordSpec[] {
    const { config, catalog } = parsedStack("prod");
    return deriveDnsRecords(catalog, { zone: config.cloudflare.zone, project: config.project, stack: "prod", email: config.email });
}

/** Runs one CloudflareDns under the mocks, with a fake host (documentation addresses) in place of HetznerHost. */
async function runDns(opts: { zoneId?: string; hosts?: string[]; records?: DnsRecordSpec[] } = {}): Promise<MockRunResult & { outputs: Record<string, unknown> }> {
    const records = opts.records ?? prodRecords();
    return runWithMocks({
        project: "visualkit",
        stack: "prod",
        config: {},
        secretKeys: [],
        program: async () => {
            const hosts = Object.fromEntries((opts.hosts ?? ["main"]).map((h) => [h, { ipv4: pulumi.output("203.0.113.10"), ipv6: pulumi.output("2001:db8::1") }]));
            const pagesSubdomains = Object.fromEntries(
                records.flatMap((r) => (r.content.kind === "pagesSubdomain" ? [[r.content.project, pulumi.output(`${r.content.project}-x1.pages.dev`)]] : [])),
            );
            const dns = new CloudflareDns("dns", { zone: "visualkit.live", zoneId: opts.zoneId, records, hosts, pagesSubdomains });
            return { zoneId: dns.zoneId, records: dns.records };
        },
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
