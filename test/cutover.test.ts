import { runProgram, type ProgramRun } from "./helpers/program";

/**
 * The switch from the hand-built server: while visualkit:cutoverFromIpv4 names the old server, every service name
 * resolves there only; without it, every service name resolves to the new host only (IPv4 and IPv6).
 */
const OLD = "178.156.151.139";
const SERVICE_NAMES = ["agent", "api", "cdn", "janus", "janus-api", "support", "ws"].map((s) => `${s}.visualkit.live`);

const records = (run: ProgramRun) =>
    run.ofType("cloudflare:index/dnsRecord:DnsRecord").map((r) => ({ name: String(r.inputs.name), type: String(r.inputs.type), content: String(r.inputs.content) }));

describe("cutover: the old server until the switch, the new one after", () => {
    let during: ProgramRun;
    let after: ProgramRun;
    beforeAll(async () => {
        during = await runProgram("prod", { set: { cutoverFromIpv4: OLD } });
        after = await runProgram("prod", { set: { cutoverFromIpv4: undefined } });
    }, 90_000);

    const hostAddresses = (run: ProgramRun) => {
        const host = (run.rawOutputs.host ?? {}) as { ipv4?: string; ipv6?: string };
        return { ipv4: host.ipv4!, ipv6: host.ipv6! };
    };

    test("while the old address is set, every service A record points at it and no service name has an AAAA", () => {
        const r = records(during);
        for (const name of SERVICE_NAMES) {
            expect(r.filter((x) => x.name === name)).toEqual([{ name, type: "A", content: OLD }]);
        }
        // Nothing else moves: Pages CNAMEs, www's redirect record and mail stay as they are.
        expect(r.filter((x) => x.type === "AAAA")).toEqual([{ name: "www.visualkit.live", type: "AAAA", content: "100::" }]);
    });

    test("nothing points at the new server while the old address is set, and the new server is still built", () => {
        const { ipv4, ipv6 } = hostAddresses(during);
        expect(records(during).filter((x) => x.content === ipv4 || x.content === ipv6)).toEqual([]);
        expect(during.ofType("hcloud:index/server:Server")).toHaveLength(1);
        expect((during.rawOutputs.dnsRecords as { name: string; content: string }[]).find((d) => d.name === "api.visualkit.live")?.content).toBe(OLD);
    });

    test("after the switch the same records point at the new host, each name with an A and an AAAA", () => {
        const { ipv4, ipv6 } = hostAddresses(after);
        const r = records(after);
        for (const name of SERVICE_NAMES) {
            expect(r.filter((x) => x.name === name).sort((a, b) => a.type.localeCompare(b.type))).toEqual([
                { name, type: "A", content: ipv4 },
                { name, type: "AAAA", content: ipv6 },
            ]);
        }
        expect(r.some((x) => x.content === OLD)).toBe(false);
        // The A records keep their resource names, so adopted ones are updated in place, not replaced.
        const aNames = (run: ProgramRun) => run.ofType("cloudflare:index/dnsRecord:DnsRecord").filter((x) => x.inputs.type === "A").map((x) => x.name).sort();
        expect(aNames(after)).toEqual(aNames(during));
    });

    test("an old address that is not an IPv4 address is a config error naming the key", async () => {
        await expect(runProgram("prod", { set: { cutoverFromIpv4: "old-server.example" } })).rejects.toThrow(/visualkit:cutoverFromIpv4: "old-server\.example" is not an IPv4 address/);
    });
});
