import { spawnSync } from "node:child_process";
import { buildCatalog } from "../../catalog";
import { DEFAULT_HOSTNAMES, DEFAULT_PORTS } from "../../catalog/input";
import { validateCatalog } from "../../catalog/validate";
import { INSTALL_COTURN_SCRIPT } from "../../components/turn-server";
import { costLines } from "../../render/cost";
import { cidrRange, turnCredentials } from "../../render/coturn";
import type { RecordedResource } from "../../mocks/runtime";
import { parsedStack, runProgram, type ProgramRun } from "../helpers/program";

/**
 * The TURN service as the program registers it (mock graph of the real program): the Floating IPv4 it listens on, the
 * SSH step that installs coturn with the secret on stdin only, platform-api's credentials environment, the cost line,
 * and the catalog checks that keep Janus's media range and the relay range apart.
 */

const CONTAINER = "docker:index/container:Container";
const SECRET = "SENTINEL-turn-secret-0123456789";
const envOf = (c: RecordedResource): string[] => (c.rawInputs.envs as string[] | undefined) ?? [];

describe.each(["dev", "prod"])("%s TURN service", (stack) => {
    let run: ProgramRun;
    beforeAll(async () => {
        run = await runProgram(stack, {
            state: (type, name) => (type === "random:index/randomPassword:RandomPassword" && name.endsWith("-turn-secret") ? { result: SECRET } : undefined),
        });
    });

    test("one Floating IPv4 on the server, protected like the primary IPs", () => {
        const ips = run.ofType("hcloud:index/floatingIp:FloatingIp");
        expect(ips).toHaveLength(1);
        expect(ips[0].rawInputs).toMatchObject({ type: "ipv4", deleteProtection: parsedStack(stack).config.protect });
        expect(ips[0].rawInputs.serverId).toEqual(expect.any(Number));
    });

    test("the install step gets the secret on stdin only; its command line has the address, ports and name", () => {
        const install = run.ofType("command:remote:Command").filter((c) => c.name.endsWith("-turn-install"));
        expect(install).toHaveLength(1);
        const i = install[0];
        expect(String(i.rawInputs.create)).toMatch(/^bash -c .* install-coturn \d+\.\d+\.\d+\.\d+ 5349 443 turn\.(dev\.)?visualkit\.live \d+\.\d+\.\d+\.\d+ 10000-60000$/s);
        expect(String(i.rawInputs.create)).not.toContain(SECRET);
        expect(String(i.rawInputs.stdin)).toContain(`static-auth-secret=${SECRET}\n`);
        expect(i.secretInputs).toContain("stdin");
        expect(JSON.stringify(i.inputs)).not.toContain(SECRET);
        expect(String(i.rawInputs.create)).toContain("install-coturn.sh");
        expect(INSTALL_COTURN_SCRIPT).toBe("scripts/host/install-coturn.sh");
    });

    test("platform-api mints credentials: TURN_URLS plain, TURN_SECRET secret and equal to coturn's", () => {
        const api = run.ofType(CONTAINER).filter((c) => String(c.rawInputs.name).startsWith("platform-api"));
        expect(api.length).toBeGreaterThan(0);
        for (const c of api) {
            const env = envOf(c);
            expect(env).toContain(`TURN_SECRET=${SECRET}`);
            expect(env.find((e) => e.startsWith("TURN_URLS="))).toMatch(/^TURN_URLS=turns:turn\.[a-z.]+:443\?transport=tcp,turns:.*:5349\?transport=tcp,turn:.*:3478\?transport=udp,turn:.*:3478\?transport=tcp$/);
            expect(env).toContain("TURN_CREDENTIAL_TTL_SECONDS=3600");
            expect(JSON.stringify(c.inputs)).not.toContain(SECRET);
        }
    });

    test("the outputs name the URLs and where the secret is, never the secret", () => {
        const outputs = run.outputs as { turn: { urls: string[]; secret: string; address: string } };
        expect(outputs.turn.urls[0]).toMatch(/^turns:turn\..*:443\?transport=tcp$/);
        expect(outputs.turn.secret).toMatch(/turn-secret/);
        expect(JSON.stringify(run.outputs)).not.toContain(SECRET);
    });
});

test("the cost has one Floating IPv4 line per host running TURN", () => {
    const lines = costLines({ stack: "x", hosts: [{ name: "main", serverType: "cx22", backups: false, volumeSizeGb: 10, turnIpv4: true }], pagesProjects: 0, backupObjectStorage: false });
    expect(lines.filter((l) => l.item.startsWith("Floating IPv4 of main"))).toEqual([expect.objectContaining({ cents: 300 })]);
    const without = costLines({ stack: "x", hosts: [{ name: "main", serverType: "cx22", backups: false, volumeSizeGb: 10 }], pagesProjects: 0, backupObjectStorage: false });
    expect(without.some((l) => l.item.startsWith("Floating IPv4"))).toBe(false);
});

describe("catalog checks", () => {
    const catalog = (rtp: { from: number; to: number }, hostnames = {}) =>
        buildCatalog({
            domain: "visualkit.live",
            zone: "visualkit.live",
            ports: DEFAULT_PORTS,
            hostnames: { ...DEFAULT_HOSTNAMES, ...hostnames },
            janus: { rtpPorts: rtp },
            images: { platformApi: "a", vkAgent: "b", janus: "c", chatwoot: "d", postgres: "e", redis: "f" },
            pages: { enabled: false, projectSuffix: "", appsDir: "apps" },
            standbyReplicas: false,
        });

    test("a Janus range reaching into the TURN relay range is reported on visualkit:janusRtpPorts", () => {
        const issues = validateCatalog(catalog({ from: 10000, to: 62000 }), "prod");
        expect(issues).toEqual([
            expect.objectContaining({ key: "visualkit:janusRtpPorts", problem: expect.stringContaining("61000-65000 (turn relay)"), fix: expect.stringContaining("change visualkit:janusRtpPorts") }),
        ]);
        expect(validateCatalog(catalog({ from: 10000, to: 60000 }), "prod")).toEqual([]);
    });

    test("the TURN name follows visualkit:hostnames.turn", () => {
        const c = catalog({ from: 10000, to: 60000 }, { turn: "relay" });
        expect(c.services.find((s) => s.id === "turn")!.names).toEqual([{ id: "turn", label: "relay", hostname: "relay.visualkit.live", address: "turnIpv4" }]);
    });

    test("cidrRange turns the platform network into coturn's range form", () => {
        expect(cidrRange("172.18.0.0/16")).toBe("172.18.0.0-172.18.255.255");
        expect(cidrRange("10.1.2.3/32")).toBe("10.1.2.3-10.1.2.3");
        expect(cidrRange("0.0.0.0/0")).toBe("0.0.0.0-255.255.255.255");
    });

    test("turnCredentials: <expiry>:<user> and base64 HMAC-SHA1, refusing a ':' in the user id", () => {
        // The oracle is OpenSSL's HMAC, the computation coturn does on its side.
        const oracle = spawnSync("sh", ["-c", "printf %s 1700000100:alice | openssl dgst -sha1 -hmac secret -binary | base64"], { encoding: "utf8" }).stdout.trim();
        expect(oracle).toMatch(/^[A-Za-z0-9+/]{27}=$/);
        expect(turnCredentials("secret", "alice", 100, 1_700_000_000)).toEqual({ username: "1700000100:alice", credential: oracle });
        expect(() => turnCredentials("secret", "a:b", 100)).toThrow(/must not contain ':'/);
    });
});
