import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:tls";
import { join } from "node:path";
import { runCheck } from "../../scripts/smoke/check";
import { turnChecks, type TurnCheck } from "../../scripts/smoke/turn";
import { TURN_LIMITS, type TurnSettings } from "../../render/coturn";
import { freePort } from "../helpers/caddy";
import { selfSignedCert, startCoturn, type RunningCoturn } from "../helpers/coturn";
import { ROOT } from "../helpers/program";

/**
 * The smoke checker's TURN check against Debian's real coturn with the rendered config: TLS verified for the TURN
 * hostname, a STUN Binding answered. It fails on a wrong name, on a TLS server that does not speak STUN, and on a
 * closed port.
 */

const NAME = "turn.test";
let coturn: RunningCoturn;
let port: number;
beforeAll(async () => {
    port = await freePort();
    const plain = await freePort();
    coturn = await startCoturn(
        (dir): TurnSettings => ({
            realm: NAME,
            listenAddresses: ["127.0.0.1"],
            relayAddresses: ["127.0.0.1"],
            ports: { plain, tls: port },
            relayPorts: { from: 61000, to: 61100 },
            deniedPeers: [],
            allowedPeers: [],
            tls: selfSignedCert(dir, NAME),
            limits: TURN_LIMITS,
            logFile: "stdout",
            verbose: false,
        }),
        "smokeSecret0123456789",
    );
}, 30_000);
afterAll(() => coturn?.stop());

// The test's certificate lives a day: only an expired one may fail or warn here.
const opts = () => ({ timeoutMs: 5000, warnDays: 0, failDays: 0, ca: [coturn.ca] });
const check = (url: string, address = "127.0.0.1"): TurnCheck => ({ name: "turn", url, kind: "turn", address });

test("the rendered prod outputs yield one check: the 443 turns: URL at the TURN address", () => {
    const text = readFileSync(join(ROOT, "rendered", "prod", "outputs.json"), "utf8");
    const turn = (JSON.parse(text) as { turn: { address: string } }).turn;
    expect(turnChecks(text)).toEqual([{ name: "turn", url: "turns:turn.visualkit.live:443?transport=tcp", kind: "turn", address: turn.address }]);
    expect(turnChecks(JSON.stringify({ healthChecks: [] }))).toEqual([]);
});

test("coturn answers: TLS verified for the TURN name, Binding success, certificate days reported", async () => {
    const r = await runCheck(check(`turns:${NAME}:${port}?transport=tcp`), opts());
    expect(r).toMatchObject({ verdict: "ok", certDays: 0 });
});

test("a name the certificate does not carry fails on TLS", async () => {
    const r = await runCheck(check(`turns:other.test:${port}?transport=tcp`), opts());
    expect(r.verdict).toBe("fail");
    expect(r.message).toMatch(/^TLS: /);
});

test("a TLS server that does not speak STUN fails; so does a closed port", async () => {
    const certs = { key: readFileSync(join(coturn.dir, "turn.key")), cert: readFileSync(join(coturn.dir, "turn.crt")) };
    const server: Server = createServer(certs, (s) => s.end("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n".padEnd(40, " ")));
    const other = await freePort();
    await new Promise<void>((ok) => server.listen(other, "127.0.0.1", ok));
    try {
        const r = await runCheck(check(`turns:${NAME}:${other}?transport=tcp`), opts());
        expect(r.verdict).toBe("fail");
        expect(r.message).toMatch(/STUN/);
    } finally {
        server.close();
    }
    const closed = await runCheck(check(`turns:${NAME}:${await freePort()}?transport=tcp`), opts());
    expect(closed.verdict).toBe("fail");
});
