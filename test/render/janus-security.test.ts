import { readdirSync } from "node:fs";
import WebSocket from "ws";
import { DEBIAN_JANUS_PLUGIN_FILES, JANUS_PLUGINS } from "../../catalog/janus-plugins";
import { debianLayout, startJanus, testJanusSecrets, type RunningJanus } from "../helpers/janus";
import { JanusHttpClient, opusRtp, signedToken, sleep, tcpWitness, udpWitness, type Reply } from "../helpers/janus-client";

/**
 * The attacks of issue 24 against a real Janus 1.1.2 (Debian's) started with the rendered configs (test mode: loopback
 * listeners, no STUN): anonymous callers and token holders without an admin key are refused; platform-api (admin keys)
 * and vk-agent (its own token, a plain-RTP join) still do what the product needs. Before the fix every attack here
 * succeeded (report of issue 24: videoroom created, Janus connected to the RTSP URL, sent SIP REGISTERs, joined as RTP).
 */

const SECRETS = testJanusSecrets("security-test-admin-secret");
const AB = "janus.plugin.audiobridge";
const VR = "janus.plugin.videoroom";
const UNAUTHORIZED = 403; // JANUS_ERROR_UNAUTHORIZED
const UNAUTHORIZED_PLUGIN = 405; // JANUS_ERROR_UNAUTHORIZED_PLUGIN
const PLUGIN_NOT_FOUND = 460; // JANUS_ERROR_PLUGIN_NOT_FOUND

let janus: RunningJanus;
let base: string;
/** A caller's browser: a token platform-api minted for the product's plugins, and no admin key. */
let caller: JanusHttpClient;
/** platform-api: its own token and the plugins' admin keys. */
let platformApi: JanusHttpClient;

const data = (r: Reply) => r.plugindata?.data ?? {};

beforeAll(async () => {
    janus = await startJanus("prod", SECRETS);
    base = `http://127.0.0.1:${janus.settings.ports.http}/janus`;
    caller = new JanusHttpClient(base, { token: signedToken(SECRETS.tokenSecret, [AB, VR]) });
    platformApi = new JanusHttpClient(base, { token: signedToken(SECRETS.tokenSecret, [AB, VR]) });
});
afterAll(async () => janus?.stop());

test("Debian's package ships exactly the plugins the catalog knows, so none loads unnoticed", () => {
    const shipped = readdirSync(debianLayout("/nonexistent").plugins).filter((f) => f.endsWith(".so"));
    expect(shipped.sort()).toEqual([...DEBIAN_JANUS_PLUGIN_FILES].sort());
});

test("Janus loads exactly the catalog's allow-list, and info tells no dependency versions", async () => {
    const info = (await (await fetch(`${base}/info`)).json()) as Reply;
    expect(Object.keys(info.plugins).sort()).toEqual(JANUS_PLUGINS.map((p) => p.package).sort());
    expect(info.dependencies).toBeUndefined();
    expect(info.auth_token).toBe(true);
    expect(info.api_secret).toBe(false);
});

describe("anonymous callers", () => {
    const anonymous = () => new JanusHttpClient(base);

    test("cannot create a session (so no room, stream, registration or RTP join)", async () => {
        const { session, reply } = await anonymous().create();
        expect(session).toBeUndefined();
        expect(reply.error.code).toBe(UNAUTHORIZED);
    });

    test("a token that is expired, or signed with another secret, is refused the same way", async () => {
        for (const token of [signedToken(SECRETS.tokenSecret, [AB], -10), signedToken("not-the-secret", [AB])]) {
            const { reply } = await new JanusHttpClient(base, { token }).create();
            expect(reply.error.code).toBe(UNAUTHORIZED);
        }
    });

    test("a session id learned somehow is useless without a token", async () => {
        const { session } = await caller.create();
        const reply = await anonymous().request(`/${session}`, { janus: "attach", plugin: AB });
        expect(reply.error.code).toBe(UNAUTHORIZED);
    });
});

describe("over the WebSocket (how browsers and vk-agent talk to Janus)", () => {
    async function ask(messages: Record<string, unknown>[]): Promise<Reply[]> {
        const ws = new WebSocket(`ws://127.0.0.1:${janus.settings.ports.ws}`, "janus-protocol");
        await new Promise((ok, fail) => {
            ws.once("open", ok);
            ws.once("error", fail);
        });
        const replies: Reply[] = [];
        try {
            for (const m of messages) {
                const reply = new Promise<Reply>((ok) => ws.once("message", (d) => ok(JSON.parse(String(d)) as Reply)));
                const session = replies.at(-1)?.data?.id;
                ws.send(JSON.stringify({ transaction: `w-${replies.length}`, ...(m.janus === "attach" ? { session_id: session } : {}), ...m }));
                replies.push(await reply);
            }
        } finally {
            ws.close();
        }
        return replies;
    }

    test("no token: the session is refused", async () => {
        const [reply] = await ask([{ janus: "create" }]);
        expect(reply.error.code).toBe(UNAUTHORIZED);
    });

    test("with vk-agent's token: a session and an AudioBridge handle", async () => {
        const token = signedToken(SECRETS.tokenSecret, [AB]);
        const [created, attached] = await ask([{ janus: "create", token }, { janus: "attach", plugin: AB, token }]);
        expect(created.janus).toBe("success");
        expect(attached.janus).toBe("success");
    });
});

describe("a caller with a valid token but no admin key", () => {
    test("RTSP stream to loopback: the Streaming plugin is not loaded; Janus never connects", async () => {
        const rtsp = await tcpWitness();
        try {
            // Even a token naming the plugin cannot attach to what is not loaded.
            const client = new JanusHttpClient(base, { token: signedToken(SECRETS.tokenSecret, ["janus.plugin.streaming"]) });
            const { handle, reply } = await client.attach("janus.plugin.streaming");
            expect(handle).toBeUndefined();
            expect(reply.error.code).toBe(PLUGIN_NOT_FOUND);
            await sleep(500);
            expect(rtsp.connections()).toBe(0);
        } finally {
            await rtsp.close();
        }
    });

    test("SIP register with any proxy: the SIP and NoSIP plugins are not loaded; no datagram leaves", async () => {
        const sip = await udpWitness();
        try {
            for (const plugin of ["janus.plugin.sip", "janus.plugin.nosip"]) {
                const { handle, reply } = await new JanusHttpClient(base, { token: signedToken(SECRETS.tokenSecret, [plugin]) }).attach(plugin);
                expect(handle).toBeUndefined();
                expect(reply.error.code).toBe(PLUGIN_NOT_FOUND);
            }
            await sleep(500);
            expect(sip.datagrams()).toBe(0);
        } finally {
            await sip.close();
        }
    });

    test("a token opens only the plugins it names", async () => {
        const audioOnly = new JanusHttpClient(base, { token: signedToken(SECRETS.tokenSecret, [AB]) });
        const { handle, reply } = await audioOnly.attach(VR);
        expect(handle).toBeUndefined();
        expect(reply.error.code).toBe(UNAUTHORIZED_PLUGIN);
    });

    test("create a videoroom: refused without the admin key", async () => {
        const { session, handle } = await caller.attach(VR);
        const reply = await caller.message(session!, handle!, { request: "create", room: 4242 });
        expect(data(reply).videoroom).toBe("event");
        expect(data(reply).error).toMatch(/admin_key/);
    });

    test("create an audiobridge room open to plain RTP: refused without the admin key", async () => {
        const { session, handle } = await caller.attach(AB);
        const reply = await caller.message(session!, handle!, { request: "create", room: 999, allow_rtp_participants: true });
        expect(data(reply).error).toMatch(/admin_key/);
    });

    test("join a product room as a plain-RTP participant (an open relay): refused, Janus sends nothing", async () => {
        const room = 5001;
        const created = await platformApiCreateAudioRoom({ room, allow_rtp_participants: false });
        expect(data(created).audiobridge).toBe("created");
        const rtp = await udpWitness();
        try {
            const { session, handle } = await caller.attach(AB);
            const reply = await caller.message(session!, handle!, { request: "join", room, rtp: { ip: "127.0.0.1", port: rtp.port, payload_type: 111 } });
            expect(data(reply).error).toBe("Plain RTP participants not allowed in this room");
            await sleep(300);
            expect(rtp.datagrams()).toBe(0);
        } finally {
            await rtp.close();
        }
    });

    test("forward a room's or a publisher's RTP to any host: refused without the admin key", async () => {
        const room = 5002;
        await platformApiCreateAudioRoom({ room });
        const ab = await caller.attach(AB);
        const fwd = await caller.message(ab.session!, ab.handle!, { request: "rtp_forward", room, host: "127.0.0.1", port: 9 });
        expect(data(fwd).error).toMatch(/admin_key/);
        const vr = await caller.attach(VR);
        const vfwd = await caller.message(vr.session!, vr.handle!, { request: "rtp_forward", room: 1234, publisher_id: 1, host: "127.0.0.1" });
        expect(String(data(vfwd).error)).toMatch(/admin_key|No such room/);
    });
});

describe("what one token holder can use", () => {
    test("100 handles add no thread per handle: handles share Janus's event loops", async () => {
        const threads = () => readdirSync(`/proc/${janus.pid}/task`).length;
        const before = threads();
        const sessions: number[] = [];
        for (let i = 0; i < 100; i++) {
            const { session, handle } = await caller.attach(AB);
            expect(handle).toBeDefined();
            sessions.push(session!);
        }
        // Janus's default (a loop thread per handle) measured +100 here.
        expect(threads() - before).toBeLessThan(10);
        for (const s of sessions) await caller.request(`/${s}`, { janus: "destroy" });
    });
});

/** platform-api's side: a room created with the AudioBridge admin key. */
async function platformApiCreateAudioRoom(extra: Record<string, unknown>): Promise<Reply> {
    const { session, handle } = await platformApi.attach(AB);
    return platformApi.message(session!, handle!, { request: "create", admin_key: SECRETS.adminKeys.audiobridge, ...extra });
}

describe("the product still works", () => {
    test("platform-api creates a videoroom and an audiobridge room with the admin keys", async () => {
        const vr = await platformApi.attach(VR);
        const created = await platformApi.message(vr.session!, vr.handle!, { request: "create", room: 7001, publishers: 6, admin_key: SECRETS.adminKeys.videoroom });
        expect(data(created)).toMatchObject({ videoroom: "created", room: 7001 });
        const ab = await platformApiCreateAudioRoom({ room: 7002, pin: "call-pin" });
        expect(data(ab)).toMatchObject({ audiobridge: "created", room: 7002 });
    });

    test("vk-agent, with a token it minted, joins the agent's room as a plain-RTP participant and gets Janus's RTP address", async () => {
        const room = 5679;
        expect(data(await platformApiCreateAudioRoom({ room, allow_rtp_participants: true, pin: "agent-pin" }))).toMatchObject({ audiobridge: "created" });
        const vkAgent = new JanusHttpClient(base, { token: signedToken(SECRETS.tokenSecret, [AB]) });
        const rtp = await udpWitness();
        try {
            const { session, handle } = await vkAgent.attach(AB);
            const joined = await vkAgent.message(session!, handle!, { request: "join", room, pin: "agent-pin", display: "VKAgent", rtp: { ip: "127.0.0.1", port: rtp.port, payload_type: 111 } });
            expect(data(joined)).toMatchObject({ audiobridge: "joined", room });
            // Janus's side of the plain RTP is on its listener address (the bridge gateway in production), not public.
            expect(data(joined).rtp.ip).toBe(janus.settings.bindAddress);
            expect(data(joined).rtp.port).toBeGreaterThanOrEqual(janus.settings.rtpPorts.from);
            expect(data(joined).rtp.port).toBeLessThanOrEqual(janus.settings.rtpPorts.to);

            // Media flows: a second participant speaks, vk-agent sends its first packet (Janus sends only after one),
            // and Janus sends vk-agent the room's mix.
            const speaker = await udpWitness();
            // A caller in the same room who joins again as plain RTP naming someone else's address (a relay attempt):
            // that address never sends to Janus (it cannot even reach Janus's side on the bridge gateway), so Janus
            // sends it nothing.
            const victim = await udpWitness();
            try {
                const s2 = await vkAgent.attach(AB);
                const spoke = await vkAgent.message(s2.session!, s2.handle!, { request: "join", room, pin: "agent-pin", rtp: { ip: "127.0.0.1", port: speaker.port, payload_type: 111 } });
                const s3 = await caller.attach(AB);
                const relay = await caller.message(s3.session!, s3.handle!, { request: "join", room, pin: "agent-pin", rtp: { ip: "127.0.0.1", port: victim.port, payload_type: 111 } });
                expect(data(relay).audiobridge).toBe("joined");
                for (let i = 0; i < 50; i++) {
                    await speaker.send(data(spoke).rtp.port, opusRtp(i, 0x5ea4e4));
                    await rtp.send(data(joined).rtp.port, opusRtp(i, 0xa6e47));
                    await sleep(20);
                }
                expect(rtp.datagrams()).toBeGreaterThan(10);
                expect(victim.datagrams()).toBe(0);
            } finally {
                await speaker.close();
                await victim.close();
            }
        } finally {
            await rtp.close();
        }
    });

    test("a caller's browser with its token joins a room (the WebRTC offer follows; there is no browser here)", async () => {
        const { session, handle } = await caller.attach(AB);
        const joined = await caller.message(session!, handle!, { request: "join", room: 7002, pin: "call-pin", display: "caller" });
        expect(data(joined)).toMatchObject({ audiobridge: "joined", room: 7002 });
    });
});
