import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as tls from "node:tls";
import { DENIED_PEER_RANGES, TURN_LIMITS, renderTurnserverConf, turnCredentials, type TurnSettings } from "../../render/coturn";
import { ATTR, attr } from "../../lib/stun";
import { freePort } from "../helpers/caddy";
import { CONFIG_PROBLEM, selfSignedCert, startCoturn, type RunningCoturn } from "../helpers/coturn";
import { TurnTlsSession } from "../helpers/turn-client";

/**
 * The rendered turnserver.conf, run by Debian's real coturn 4.6.1 on 127.0.0.1: it reads every line, a credential
 * minted the way platform-api mints it opens a relay over TLS, expired and forged ones do not, and the relay refuses
 * loopback, the Docker bridge, private and CGNAT peers and every peer but the allowed one.
 */

const SECRET = "turnSecret0123456789abcdefABCDEF";
const NAME = "turn.test";
/** Stands for Janus's public address: TEST-NET-3, outside every denied range, so only allowed-peer-ip lets it in. */
const JANUS_PEER = "203.0.113.50";
/** The platform network's gateway, where Janus's admin API listens (catalog/defaults.ts). */
const BRIDGE_GATEWAY = "172.18.0.1";

let coturn: RunningCoturn;
let tlsPort: number;
let settings: TurnSettings;

beforeAll(async () => {
    const plain = await freePort();
    tlsPort = await freePort();
    const relayFrom = 20000 + Math.floor(Math.random() * 40000);
    coturn = await startCoturn((dir) => {
        settings = {
            realm: NAME,
            listenAddresses: ["127.0.0.1"],
            relayAddresses: ["127.0.0.1"],
            ports: { plain, tls: tlsPort },
            relayPorts: { from: relayFrom, to: relayFrom + 200 },
            deniedPeers: ["172.18.0.0-172.18.255.255"],
            allowedPeers: [JANUS_PEER],
            tls: selfSignedCert(dir, NAME),
            limits: TURN_LIMITS,
            logFile: "stdout",
            verbose: false,
        };
        return settings;
    }, SECRET);
}, 30_000);
afterAll(() => coturn?.stop());

const connect = (extra: tls.ConnectionOptions = {}) => TurnTlsSession.connect({ host: "127.0.0.1", port: tlsPort, servername: NAME, ca: coturn.ca, ...extra });
const minted = (userId = "call-1", ttl: number = TURN_LIMITS.credentialTtlSeconds) => turnCredentials(SECRET, userId, ttl);

async function allocateWith(username: string, password: string) {
    const s = await connect();
    try {
        return await s.allocate(username, password);
    } finally {
        s.close();
    }
}

describe("coturn reads the rendered config", () => {
    test("every line is an option coturn 4.6.1 knows", () => {
        // coturn never exits on a bad line: it logs it and runs on without it, so the log is the check.
        expect(coturn.log()).not.toMatch(CONFIG_PROBLEM);
    });

    test("the check above sees a line coturn does not know (no-loopback-peers is gone from 4.6)", async () => {
        const ports = { plain: await freePort(), tls: await freePort() };
        const bad = await startCoturn((dir) => ({ ...settings, tls: selfSignedCert(dir, NAME), ports }), SECRET, {
            append: "no-loopback-peers\n",
            ready: "Bad configuration format: no-loopback-peers",
        });
        try {
            expect(bad.log()).toMatch(CONFIG_PROBLEM);
        } finally {
            await bad.stop();
        }
    });
});

describe("TLS", () => {
    /** The cipher OpenSSL's client negotiated with coturn at one protocol version, or undefined when the handshake did not complete. */
    const negotiated = (version: string) => {
        // Security level 0: the client must offer TLS 1.0/1.1 at all for the server's refusal to be what is tested.
        const res = spawnSync("openssl", ["s_client", `-${version}`, "-cipher", "DEFAULT@SECLEVEL=0", "-connect", `127.0.0.1:${tlsPort}`, "-servername", NAME], { input: "", encoding: "utf8", timeout: 2000 });
        const m = `${res.stdout}`.match(/Cipher is (\S+)/);
        return m && m[1] !== "(NONE)" ? m[1] : undefined;
    };

    test("TLS 1.2 is accepted and a Binding request over TLS is answered without a software version", async () => {
        expect(negotiated("tls1_2")).toMatch(/^ECDHE-/);
        const s = await connect({ maxVersion: "TLSv1.2" });
        expect(s.protocol).toBe("TLSv1.2");
        const answer = await s.binding();
        expect(answer.cls).toBe("success");
        expect(attr(answer, ATTR.software)).toBeUndefined();
        s.close();
    });

    test("TLS 1.0 and 1.1 get no handshake", () => {
        // With no-tlsv1/no-tlsv1_1 coturn leaves such a ClientHello unanswered (the client times out); Debian's
        // OpenSSL policy alone would refuse them with an alert.
        expect(negotiated("tls1")).toBeUndefined();
        expect(negotiated("tls1_1")).toBeUndefined();
    });
});

describe("credentials", () => {
    test("a credential minted with the shared secret allocates a relay in the relay range", async () => {
        const { username, credential } = minted();
        const r = await allocateWith(username, credential);
        expect(r).toMatchObject({ ok: true, relayed: { address: "127.0.0.1" } });
        if (r.ok) {
            expect(r.relayed.port).toBeGreaterThanOrEqual(settings.relayPorts.from);
            expect(r.relayed.port).toBeLessThanOrEqual(settings.relayPorts.to);
        }
    });

    test("an expired credential is refused", async () => {
        const { username, credential } = minted("call-2", -60);
        expect(await allocateWith(username, credential)).toEqual({ ok: false, code: 401 });
    });

    test("a credential signed with another secret is refused", async () => {
        const { username, credential } = turnCredentials("notTheSecret0123456789", "call-3", 600);
        expect(await allocateWith(username, credential)).toEqual({ ok: false, code: 401 });
    });

    test("a forged expiry (username changed after minting) is refused", async () => {
        const { username, credential } = minted("call-4", 60);
        const later = username.replace(/^\d+/, (t) => String(Number(t) + 86_400));
        expect(await allocateWith(later, credential)).toEqual({ ok: false, code: 401 });
    });

    test("no allocation without a credential", async () => {
        expect(await allocateWith("", "")).toMatchObject({ ok: false });
    });

    test(`one credential holds at most user-quota (${TURN_LIMITS.userQuota}) allocations`, async () => {
        const { username, credential } = minted("call-quota");
        const sessions = await Promise.all(Array.from({ length: TURN_LIMITS.userQuota + 1 }, () => connect()));
        try {
            const results = [];
            for (const s of sessions) results.push(await s.allocate(username, credential));
            expect(results.filter((r) => r.ok)).toHaveLength(TURN_LIMITS.userQuota);
            // 486 Allocation Quota Reached (RFC 8656).
            expect(results[TURN_LIMITS.userQuota]).toEqual({ ok: false, code: 486 });
        } finally {
            sessions.forEach((s) => s.close());
        }
    });
});

describe("peers", () => {
    let s: TurnTlsSession;
    beforeAll(async () => {
        s = await connect();
        const { username, credential } = minted("call-peers");
        expect((await s.allocate(username, credential)).ok).toBe(true);
    });
    afterAll(() => s.close());

    test("Janus's address (allowed-peer-ip) may be a peer", async () => {
        expect(await s.permit(JANUS_PEER)).toEqual({ ok: true, code: undefined });
    });

    test.each([
        ["loopback", "127.0.0.1"],
        ["another loopback address", "127.0.0.53"],
        ["the Docker bridge gateway (Janus admin API)", BRIDGE_GATEWAY],
        ["Docker's default bridge", "172.17.0.1"],
        ["a private range", "10.1.2.3"],
        ["another private range", "192.168.1.1"],
        ["CGNAT", "100.64.0.1"],
        ["link-local (cloud metadata)", "169.254.169.254"],
        ["multicast", "224.0.0.251"],
        ["a public address that is not Janus's", "203.0.113.51"],
    ])("%s (%s) is refused", async (_what, peer) => {
        expect(await s.permit(peer)).toEqual({ ok: false, code: 403 });
    });
});

describe("without an allowed list", () => {
    // A stack whose Janus address is not known renders no allowed-peer-ip: then only the denied ranges apply, and they
    // must leave public IPv4 peers alone (a range starting at :: would deny them all in coturn 4.6.1).
    let open: RunningCoturn;
    let s: TurnTlsSession;
    beforeAll(async () => {
        const ports = { plain: await freePort(), tls: await freePort() };
        open = await startCoturn((dir) => ({ ...settings, allowedPeers: [], ports, tls: selfSignedCert(dir, NAME) }), SECRET);
        s = await TurnTlsSession.connect({ host: "127.0.0.1", port: ports.tls, servername: NAME, ca: open.ca });
        const { username, credential } = minted("call-open");
        expect((await s.allocate(username, credential)).ok).toBe(true);
    }, 30_000);
    afterAll(async () => {
        s?.close();
        await open?.stop();
    });

    test("a public peer is permitted, private and bridge peers are not", async () => {
        expect(await s.permit("203.0.113.51")).toEqual({ ok: true, code: undefined });
        expect(await s.permit("10.1.2.3")).toEqual({ ok: false, code: 403 });
        expect(await s.permit(BRIDGE_GATEWAY)).toEqual({ ok: false, code: 403 });
    });
});

describe("rendering", () => {
    test("the secret is in the file once and nowhere else; a secret coturn would cut is refused", () => {
        const text = readFileSync(`${coturn.dir}/turnserver.conf`, "utf8");
        expect(text.split(SECRET)).toHaveLength(2);
        expect(text).toContain(`static-auth-secret=${SECRET}`);
        expect(() => renderTurnserverConf(settings, "short")).toThrow(/at least 8 printable characters/);
        expect(() => renderTurnserverConf(settings, "has space 0123456789")).toThrow(/without spaces/);
        expect(() => renderTurnserverConf(settings, "line0123456789\nverbose")).toThrow(/without spaces/);
    });

    test("every denied range is rendered, and allowed peers only with everything else denied", () => {
        const text = renderTurnserverConf(settings, SECRET);
        for (const r of DENIED_PEER_RANGES) expect(text).toContain(`denied-peer-ip=${r}\n`);
        expect(text).toContain("denied-peer-ip=0.0.0.0-255.255.255.255\n");
        const open = renderTurnserverConf({ ...settings, allowedPeers: [] }, SECRET);
        expect(open).not.toContain("denied-peer-ip=0.0.0.0-255.255.255.255");
        expect(open).not.toContain("allowed-peer-ip");
    });
});
