import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { evaluate } from "../../policy/policies";
import { policyContext } from "../../policy/context";
import { parseCostSummary } from "../../render/cost";
import { caddyCli, caddyEnv } from "../helpers/caddy";
import { ROOT, runProgram, stackConfig, type ProgramRun } from "../helpers/program";
import { THREE_HOSTS, TWO_HOSTS } from "../helpers/multihost";

/**
 * The real program (index.ts) under mocks with two and three hosts (the app host plus one or two media cells, test
 * fixtures on top of Pulumi.dev.yaml): the private network, firewall per host, DNS per cell, private addresses only
 * between hosts, cost per host, the outputs against the schema, the policy pack, and the blast radius of a cell.
 */

const T = {
    host: "visualkit:hetzner:HetznerHost",
    network: "hcloud:index/network:Network",
    subnet: "hcloud:index/networkSubnet:NetworkSubnet",
    attachment: "hcloud:index/serverNetwork:ServerNetwork",
    firewall: "hcloud:index/firewall:Firewall",
    container: "docker:index/container:Container",
};
type Rule = { protocol: string; port?: string; sourceIps: string[] };
type DnsRecord = { name: string; type: string; content: string };
const schema = JSON.parse(readFileSync(join(ROOT, "outputs.schema.json"), "utf8")) as object;
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);

let one: ProgramRun;
let two: ProgramRun;
let three: ProgramRun;
beforeAll(async () => {
    one = await runProgram("dev");
    two = await runProgram("dev", { set: TWO_HOSTS });
    three = await runProgram("dev", { set: THREE_HOSTS });
});

const hostsOf = (run: ProgramRun) => run.outputs.hosts as Record<string, { ipv4: string; ipv6: string; privateIp?: string }>;
const firewallOf = (run: ProgramRun, host: string) =>
    (run.named(`visualkit-dev-${host}-firewall`).inputs.rules as Rule[]).map((r) => `${r.protocol} ${r.port ?? "-"} from ${r.sourceIps.join(",")}`);
const envOf = (run: ProgramRun, container: string) => {
    const c = run.ofType(T.container).find((r) => r.inputs.name === container);
    if (!c) throw new Error(`no container ${container}`);
    return Object.fromEntries((c.rawInputs.envs as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
};

describe("the private network", () => {
    test("one host: no network, no attachment (today's stacks)", () => {
        expect(one.ofType(T.network)).toHaveLength(0);
        expect(one.ofType(T.attachment)).toHaveLength(0);
    });

    test("three hosts: one network and subnet; each server attached at its catalog address, its readiness waiting for it", () => {
        expect(three.ofType(T.network).map((r) => r.inputs.ipRange)).toEqual(["10.0.0.0/16"]);
        const subnet = three.ofType(T.subnet);
        expect(subnet.map((r) => [r.inputs.ipRange, r.inputs.networkZone, r.inputs.type])).toEqual([["10.0.1.0/24", "eu-central", "cloud"]]);
        const attached = three
            .ofType(T.attachment)
            .map((r) => [r.name, r.inputs.ip, r.propertyDependencies.subnetId?.includes(subnet[0].name)])
            .sort();
        expect(attached).toEqual([
            ["visualkit-dev-main-private", "10.0.1.2", true],
            ["visualkit-dev-media-a-private", "10.0.1.3", true],
            ["visualkit-dev-media-b-private", "10.0.1.4", true],
        ]);
        for (const host of ["main", "media-a", "media-b"]) {
            expect(three.named(`visualkit-dev-${host}-ready`).options.dependsOn).toContain(`visualkit-dev-${host}-private`);
        }
        expect(Object.fromEntries(Object.entries(hostsOf(three)).map(([k, h]) => [k, h.privateIp]))).toEqual({ main: "10.0.1.2", "media-a": "10.0.1.3", "media-b": "10.0.1.4" });
    });
});

describe("firewall per host, from placement", () => {
    test("the app host opens SSH, ICMP and Caddy only; each cell host its own RTP range; no internal port anywhere", () => {
        const ssh = "203.0.113.0/24,2001:db8::/32";
        const any = "0.0.0.0/0,::/0";
        const caddy = [`tcp 80 from ${any}`, `tcp 443 from ${any}`, `udp 443 from ${any}`];
        expect(firewallOf(three, "main")).toEqual([`tcp 22 from ${ssh}`, `icmp - from ${any}`, ...caddy]);
        expect(firewallOf(three, "media-b")).toEqual([`tcp 22 from ${ssh}`, `icmp - from ${any}`, ...caddy, `udp 30000-39999 from ${any}`]);
        // media-a also runs TURN (it relays only to a Janus on its own host).
        expect(firewallOf(three, "media-a")).toContain(`udp 20000-29999 from ${any}`);
        expect(firewallOf(three, "media-a")).toContain(`udp 3478 from ${any}`);
        for (const host of ["main", "media-a", "media-b"]) for (const rule of firewallOf(three, host)) expect(rule).not.toMatch(/ (8088|8188|7088|3001|3002|3003|3004|5005) /);
    });
});

describe("DNS per cell; private addresses only between hosts", () => {
    test("janus-<cell> and agent-<cell> point at their cell's host, and only there", () => {
        const records = three.outputs.dnsRecords as DnsRecord[];
        const hosts = hostsOf(three);
        const at = (name: string, type: string) => records.filter((r) => r.name === `${name}.dev.visualkit.live` && r.type === type).map((r) => r.content);
        for (const [cell, host] of [["a", "media-a"], ["b", "media-b"]]) {
            expect(at(`janus-${cell}`, "A")).toEqual([hosts[host].ipv4]);
            expect(at(`janus-${cell}`, "AAAA")).toEqual([hosts[host].ipv6]);
            expect(at(`agent-${cell}`, "A")).toEqual([hosts[host].ipv4]);
        }
        expect(at("api", "A")).toEqual([hosts.main.ipv4]);
        // The catalog's own janus/agent names give way to the cells'.
        expect(at("janus", "A")).toEqual([]);
    });

    test("platform-api learns the cells on private addresses; each cell's Janus listens on its private address; no public address between hosts", () => {
        const env = envOf(three, "platform-api");
        const cells = JSON.parse(env.MEDIA_CELLS) as { name: string; janusUrl: string; janusApiUrl: string }[];
        expect(cells).toEqual([
            { name: "a", janusUrl: "wss://janus-a.dev.visualkit.live", janusApiUrl: "http://10.0.1.3:8088/janus" },
            { name: "b", janusUrl: "wss://janus-b.dev.visualkit.live", janusApiUrl: "http://10.0.1.4:8088/janus" },
        ]);
        expect(env.JANUS_API_URL).toBe("http://10.0.1.3:8088/janus");
        const publicAddresses = Object.values(hostsOf(three)).flatMap((h) => [h.ipv4, h.ipv6]);
        for (const value of Object.values(env)) for (const ip of publicAddresses) expect(value).not.toContain(ip);
        for (const [cell, ip] of [["a", "10.0.1.3"], ["b", "10.0.1.4"]]) {
            const http = three.files.get(`janus-${cell}/janus.transport.http.jcfg`) ?? "";
            expect(http).toContain(`ip = "${ip}"`);
        }
        // Each cell's vk-agent reaches its own Janus on its host's private address.
        const agents = three.ofType(T.container).filter((c) => c.inputs.name === "vk-agent");
        const wsUrl = (c: (typeof agents)[number]) => (c.rawInputs.envs as string[]).find((e) => e.startsWith("VK_AGENT_JANUS_WS_URL="));
        expect(agents.map(wsUrl).sort()).toEqual(["VK_AGENT_JANUS_WS_URL=ws://10.0.1.3:8188", "VK_AGENT_JANUS_WS_URL=ws://10.0.1.4:8188"]);
    });

    test("a drained cell leaves platform-api's MEDIA_CELLS and keeps its host, DNS and Janus", async () => {
        const drained = await runProgram("dev", { set: { ...THREE_HOSTS, mediaCells: { ...THREE_HOSTS.mediaCells, a: { ...THREE_HOSTS.mediaCells.a, drain: true } } } });
        expect((JSON.parse(envOf(drained, "platform-api").MEDIA_CELLS) as { name: string }[]).map((c) => c.name)).toEqual(["b"]);
        expect(envOf(drained, "platform-api").JANUS_API_URL).toBe("http://10.0.1.4:8088/janus");
        const names = (run: ProgramRun) => run.resources.map((r) => r.name).sort();
        expect(names(drained)).toEqual(names(three));
    });
});

describe("cost, outputs and policies", () => {
    test("cost per host: a server and a volume line for each host, the total their sum", () => {
        const cost = three.files.get("cost.md") ?? "";
        expect(cost).toMatch(/Server main \(cx22,/);
        expect(cost).toMatch(/Server media-a \(cx22,/);
        expect(cost).toMatch(/Server media-b \(cx32,/);
        expect(cost).toMatch(/Data volume of media-b \| 20 GB/);
        // Worked from catalog/prices.json: two cx22 + one cx32, 10 + 10 + 20 GB, three IPv4, TURN's Floating IPv4.
        const prices = JSON.parse(readFileSync(join(ROOT, "catalog/prices.json"), "utf8")) as { serverTypes: Record<string, { monthly: number }>; volumePerGbMonthly: number; primaryIpv4Monthly: number; primaryIpv6Monthly: number; floatingIpv4Monthly: number };
        const total = 2 * prices.serverTypes.cx22.monthly + prices.serverTypes.cx32.monthly + 40 * prices.volumePerGbMonthly + 3 * (prices.primaryIpv4Monthly + prices.primaryIpv6Monthly) + prices.floatingIpv4Monthly;
        expect(parseCostSummary(cost)?.totalCents).toBe(Math.round(total * 100));
    });

    test.each([["two", () => two], ["three", () => three]] as const)("%s hosts: the outputs are valid against outputs.schema.json", (_n, run) => {
        expect({ valid: validate(run().outputs), errors: validate.errors ?? [] }).toEqual({ valid: true, errors: [] });
        expect(Object.keys(run().outputs.hosts as object).length).toBeGreaterThan(1);
    });

    test.each([["dev", "two", TWO_HOSTS], ["dev", "three", THREE_HOSTS], ["prod", "three", THREE_HOSTS]] as const)("%s with %s hosts: every policy passes", async (stack, _n, set) => {
        const run = await runProgram(stack, { set });
        const resources = run.resources.map((r) => ({ type: r.type, name: r.name, props: structuredClone(r.rawInputs), opts: { protect: r.options.protect === true } }));
        expect(resources.filter((r) => r.type === T.attachment)).toHaveLength(set === THREE_HOSTS ? 3 : 2);
        expect(evaluate(resources, policyContext({ ...stackConfig(stack, { set }), stack }))).toEqual([]);
    });
});

describe("each host's generated files, checked by the real tools", () => {
    const tmp = mkdtempSync(join(tmpdir(), "vk-multihost-"));
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));
    const write = (name: string, text: string) => {
        const file = join(tmp, name.replace(/\//g, "_"));
        writeFileSync(file, text);
        return file;
    };

    test("every host that serves routes has its own Caddyfile, its sites its own names only, and caddy validate accepts each", () => {
        const caddyfiles = [...three.files.keys()].filter((f) => f.endsWith("/Caddyfile")).sort();
        expect(caddyfiles).toEqual(["main/Caddyfile", "media-a/Caddyfile", "media-b/Caddyfile"]);
        expect(three.files.get("media-b/Caddyfile")).toContain("janus-b.dev.visualkit.live");
        expect(three.files.get("media-b/Caddyfile")).not.toContain("janus-a.dev.visualkit.live");
        expect(three.files.get("media-b/Caddyfile")).toContain("10.0.1.4:8188");
        expect(three.files.get("main/Caddyfile")).not.toMatch(/janus/);
        for (const f of caddyfiles) {
            const res = caddyCli(["validate", "--adapter", "caddyfile", "--config", write(f, three.files.get(f)!)], caddyEnv(tmp));
            expect({ f, status: res.status, stderr: res.status === 0 ? "" : res.stderr }).toEqual({ f, status: 0, stderr: "" });
        }
    });

    test("each cell's Janus configs parse with janus-cfgconv, and its media range is the cell's", () => {
        for (const [cell, range] of [["a", "20000-29999"], ["b", "30000-39999"]]) {
            const files = [...three.files.keys()].filter((f) => f.startsWith(`janus-${cell}/`));
            expect(files.length).toBeGreaterThan(3);
            for (const f of files) {
                const res = spawnSync("janus-cfgconv", ["--parse", write(f, three.files.get(f)!)], { encoding: "utf8" });
                expect({ f, status: res.status }).toEqual({ f, status: 0 });
            }
            expect(three.files.get(`janus-${cell}/janus.jcfg`)).toContain(`rtp_port_range = "${range}"`);
        }
    });
});

describe("blast radius of adding a cell", () => {
    test("2 → 3 hosts adds the new cell's host, Janus and vk-agent and its DNS records; changes only what names the cells", () => {
        const byName = (run: ProgramRun) => new Map(run.resources.map((r) => [r.name, r]));
        const before = byName(two);
        const after = byName(three);
        const added = [...after.keys()].filter((n) => !before.has(n));
        const removed = [...before.keys()].filter((n) => !after.has(n));
        expect(removed).toEqual([]);
        // Every new resource is the new host's, its cell's Janus or vk-agent, or a DNS record of its names.
        const offCell = added.filter((n) => !/^visualkit-dev-(media-b|janus-b|vk-agent-b)(-|$)/.test(n) && !/-dns-(janus|agent)-b-/.test(n));
        expect(offCell).toEqual([]);
        expect(added.some((n) => /-dns-janus-b-/.test(n))).toBe(true);
        // Resources that exist in both runs and changed: platform-api (MEDIA_CELLS names the new cell) and the
        // health-check prober's list; nothing of the first cell or of the app host's machine.
        const changed = [...before.keys()].filter((n) => after.has(n) && JSON.stringify(before.get(n)!.rawInputs) !== JSON.stringify(after.get(n)!.rawInputs));
        for (const n of changed) expect(n).toMatch(/platform-api|prober|caddy|monitoring|private-(network|subnet)$/);
        expect(changed).toContain("visualkit-dev-platform-api-api");
        expect(changed.filter((n) => /media-a|janus-a|vk-agent-a|main-(server|volume|firewall|data)/.test(n))).toEqual([]);
    });
});
