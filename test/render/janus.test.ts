import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import {
    JANUS_IMAGE_LAYOUT,
    janusFileNames,
    janusSettings,
    janusTestSettings,
    renderJanusFiles,
    type JanusSettings,
} from "../../render/janus";
import { debianLayout, startJanus, testJanusSecrets, type RunningJanus } from "../helpers/janus";
import { parsedStack, runProgram } from "../helpers/program";

/** The Janus configuration, checked by Debian's janus-cfgconv and by a real Janus 1.1.2 started with it. */

const SECRET = "test-admin-secret-0123456789";
const SECRETS = testJanusSecrets(SECRET);

function writeFiles(dir: string, files: Record<string, string>): void {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

function cfgconv(path: string) {
    const res = spawnSync("janus-cfgconv", ["--parse", path], { encoding: "utf8" });
    return { status: res.status, out: `${res.stdout}${res.stderr}` };
}

describe.each(["dev", "prod"])("%s Janus rendering", (stack) => {
    const { config, catalog } = parsedStack(stack);
    const settings = janusSettings(catalog, config);
    const janus = catalog.services.find((s) => s.id === "janus")!;
    const port = (id: string) => janus.ports.find((p) => p.id === id)!;
    let dir: string;
    beforeAll(() => {
        dir = mkdtempSync(join(tmpdir(), `janus-${stack}-`));
        writeFiles(dir, renderJanusFiles(settings, SECRETS));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    test.each(janusFileNames(settings))("janus-cfgconv accepts %s", (file) => {
        const { status, out } = cfgconv(join(dir, file));
        expect(out).not.toContain("[ERR]");
        expect(status).toBe(0);
    });

    test("listeners are on the bridge gateway with the catalog's ports; media uses the firewall's range", () => {
        expect(settings.bindAddress).toBe(catalog.hosts[0].network.gateway);
        const http = cfgconv(join(dir, "janus.transport.http.jcfg")).out;
        expect(http).toContain(`port: ${port("http").port}`);
        expect(http).toContain(`admin_port: ${port("admin").port}`);
        expect(http.match(/ip: (.*)/g)).toEqual([`ip: ${settings.bindAddress}`, `ip: ${settings.bindAddress}`]);
        const ws = cfgconv(join(dir, "janus.transport.websockets.jcfg")).out;
        expect(ws).toContain(`ws_port: ${port("ws").port}`);
        expect(ws).toContain(`ws_ip: ${settings.bindAddress}`);
        const main = cfgconv(join(dir, "janus.jcfg")).out;
        expect(main).toContain(`rtp_port_range: ${port("rtp").port}-${port("rtp").endPort}`);
        expect(main).toContain(`configs_folder: ${JANUS_IMAGE_LAYOUT.configs}`);
        expect(main).toContain(`stun_server: ${config.janus.stun!.host}`);
        expect(main).toContain(`stun_port: ${config.janus.stun!.port}`);
        expect(main).toContain(`debug_level: ${{ debug: 5, info: 4, warn: 3 }[config.logLevel]}`);
        // AudioBridge's plain-RTP sockets (vk-agent's path) bind the bridge gateway too, never the public address.
        expect(cfgconv(join(dir, "janus.plugin.audiobridge.jcfg")).out).toContain(`local_ip: ${settings.bindAddress}`);
    });
});

test("an empty janusStunServer leaves STUN out entirely", () => {
    const { config, catalog } = parsedStack("prod", { set: { janusStunServer: "" } });
    const main = renderJanusFiles(janusSettings(catalog, config), SECRETS)["janus.jcfg"];
    expect(main).not.toMatch(/stun/);
});

test("a changed RTP range or port reaches the rendered files", () => {
    const { config, catalog } = parsedStack("prod", { set: { janusRtpPorts: "20000-20999", ports: { janusWs: 9188 } } });
    const files = renderJanusFiles(janusSettings(catalog, config), SECRETS);
    expect(files["janus.jcfg"]).toContain('rtp_port_range = "20000-20999"');
    expect(files["janus.transport.websockets.jcfg"]).toContain("ws_port = 9188");
});

test("test mode changes only ports, bind address and folders, and leaves STUN out", () => {
    const { config, catalog } = parsedStack("prod");
    const prod = janusSettings(catalog, config);
    const test = janusTestSettings(prod, { bindAddress: "127.0.0.1", ports: { http: 1, ws: 2, admin: 3 }, layout: debianLayout("/tmp/x") });
    const changed = /^\s*(configs_folder|plugins_folder|transports_folder|events_folder|loggers_folder|port|ip|ws_port|ws_ip|admin_port|admin_ip|local_ip|stun_server|stun_port) = /;
    const keep = (text: string) => text.split("\n").filter((l) => !changed.test(l));
    const a = renderJanusFiles(prod, SECRETS);
    const b = renderJanusFiles(test, SECRETS);
    expect(Object.keys(b)).toEqual(janusFileNames(prod));
    for (const f of janusFileNames(prod)) expect(keep(b[f])).toEqual(keep(a[f]));
    expect(b["janus.jcfg"]).not.toMatch(/stun/);
});

describe("a real Janus started with the test-mode rendering", () => {
    let janus: RunningJanus;
    let s: JanusSettings;

    beforeAll(async () => {
        janus = await startJanus("prod", SECRET);
        s = janus.settings;
    });

    afterAll(async () => {
        await janus?.stop();
    });

    test("GET /janus/info answers server_info, with only HTTP and WebSockets loaded", async () => {
        const r = await fetch(`http://127.0.0.1:${s.ports.http}/janus/info`);
        expect(r.status).toBe(200);
        const info = (await r.json()) as { janus: string; version_string: string; transports: Record<string, unknown> };
        expect(info.janus).toBe("server_info");
        expect(info.version_string).toBe("1.1.2");
        expect(Object.keys(info.transports).sort()).toEqual(["janus.transport.http", "janus.transport.websockets"]);
    });

    test("a janus-protocol WebSocket answers an info request", async () => {
        const ws = new WebSocket(`ws://127.0.0.1:${s.ports.ws}`, "janus-protocol");
        try {
            await new Promise((ok, fail) => {
                ws.once("open", ok);
                ws.once("error", fail);
            });
            expect(ws.protocol).toBe("janus-protocol");
            const reply = new Promise<Record<string, unknown>>((ok) => ws.once("message", (m) => ok(JSON.parse(String(m)))));
            ws.send(JSON.stringify({ janus: "info", transaction: "t-1" }));
            expect(await reply).toMatchObject({ janus: "server_info", transaction: "t-1" });
        } finally {
            ws.close();
        }
    });

    test("the admin API accepts the rendered admin secret and refuses any other", async () => {
        const ask = async (secret: string) => {
            const r = await fetch(`http://127.0.0.1:${s.ports.admin}/admin`, {
                method: "POST",
                body: JSON.stringify({ janus: "list_sessions", transaction: "a-1", admin_secret: secret }),
            });
            return (await r.json()) as { janus: string };
        };
        expect((await ask(SECRET)).janus).toBe("success");
        expect((await ask("wrong")).janus).toBe("error");
    });

    test("Janus read the media section (RTP range, NACK queue) and uses no STUN server", async () => {
        const r = await fetch(`http://127.0.0.1:${s.ports.http}/janus/info`);
        const info = (await r.json()) as Record<string, unknown>;
        expect(info["min-nack-queue"]).toBe(1000);
        expect(janus.log()).toContain(`RTP port range: ${s.rtpPorts.from} -- ${s.rtpPorts.to}`);
        expect(janus.log()).not.toMatch(/STUN server to use/);
        expect(janus.log()).not.toMatch(/\[(ERR|FATAL)\](?! \[config\.c)/);
    });
});
test("the deployed janus.jcfg gathers candidates on the host's public addresses only, never the TURN address, and ignores mDNS", async () => {
    const run = await runProgram("prod");
    const main = run.files.get("janus/janus.jcfg")!;
    const outputs = run.outputs as { host: { ipv4: string; ipv6: string }; dnsRecords: { name: string; content: string }[] };
    const turn = outputs.dnsRecords.find((r) => r.name === "turn.visualkit.live")!.content;
    expect(turn).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(main).toContain(`ice_enforce_list = "${outputs.host.ipv4},${outputs.host.ipv6}"`);
    expect(main).not.toContain(turn);
    expect(main).toContain("ignore_mdns = true");
    // Janus would ignore the ignore list beside an enforce list, warning once per entry.
    expect(main).not.toContain("ice_ignore_list");
    expect(main).not.toContain("nat_1_1_mapping");
    const dir = mkdtempSync(join(tmpdir(), "janus-ice-"));
    try {
        writeFileSync(join(dir, "janus.jcfg"), main);
        expect(cfgconv(join(dir, "janus.jcfg"))).toMatchObject({ status: 0 });
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
});

test("the admin secret in rendered janus.jcfg is the generated one", async () => {
    const run = await runProgram("prod", {
        state: (type, name) => (type === "random:index/randomPassword:RandomPassword" ? { result: `generated-${name}` } : undefined),
    });
    const password = run.ofType("random:index/randomPassword:RandomPassword").find((r) => r.name.endsWith("-janus-admin"))!;
    const main = run.files.get("janus/janus.jcfg")!;
    expect(main).toContain(`admin_secret = "generated-${password.name}"`);
    expect(main.match(/admin_secret/g)).toHaveLength(1);
});
