import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { tmpdir } from "node:os";
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

describe("npm run smoke with the TURN output", () => {
    /** Runs the CLI; resolves with its exit code and table (a failed check exits 1, which is not an error here). */
    const smoke = (args: string[]) =>
        new Promise<{ code: number; out: string }>((resolve) => {
            execFile(process.execPath, [join(ROOT, "scripts/run-ts.js"), join(ROOT, "scripts/smoke.ts"), ...args], { encoding: "utf8" }, (err, stdout, stderr) =>
                resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
            );
        });
    const row = (out: string) => out.split("\n").find((l) => l.startsWith("turn "));

    test("--address alone skips TURN (it has its own address); --turn-address checks it there", async () => {
        const http = createHttpServer((_req, res) => res.end("ok"));
        await new Promise<void>((ok) => http.listen(0, "127.0.0.1", ok));
        const httpPort = (http.address() as { port: number }).port;
        const dir = mkdtempSync(join(tmpdir(), "smoke-turn-"));
        try {
            const outputs = join(dir, "outputs.json");
            writeFileSync(
                outputs,
                JSON.stringify({
                    healthChecks: [{ name: "api", url: "http://api.turn.test/health", kind: "http", expectStatus: 200 }],
                    endpoints: {},
                    turn: { urls: [`turns:${NAME}:443?transport=tcp`], hostname: NAME, address: "192.0.2.1", secret: "where", credentialTtlSeconds: 3600 },
                }),
            );
            writeFileSync(join(dir, "ca.pem"), coturn.ca);
            const base = [outputs, "--address", `127.0.0.1:${httpPort}`, "--warn-days", "0", "--fail-days", "0", "--timeout", "5000"];
            const skipped = await smoke(base);
            expect(skipped.code).toBe(0);
            expect(row(skipped.out)).toMatch(/SKIP TURN has its own address/);
            const checked = await smoke([...base, "--turn-address", `127.0.0.1:${port}`, "--ca", join(dir, "ca.pem")]);
            expect({ code: checked.code, row: row(checked.out) }).toEqual({ code: 0, row: expect.stringMatching(/ OK$/) });
        } finally {
            http.close();
            rmSync(dir, { recursive: true, force: true });
        }
    }, 60_000);
});
