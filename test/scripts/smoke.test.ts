import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocketServer } from "ws";
import type { HealthCheck } from "../../lib/health-checks";
import { ROOT } from "../helpers/program";

/**
 * The real CLI (`npm run smoke` = scripts/run-ts.js scripts/smoke.ts) in a child process against stub servers
 * on 127.0.0.1. Certificates come from a CA made here with the openssl CLI; the checker trusts it through --ca.
 */

const TIMEOUT_MS = 1500;
/** .invalid never resolves (RFC 6761): only --address reaches it. */
const NAMED_HOST = "api.smoke.invalid";
/** A second name of the same server, in endpoints only: a certificate-only check. */
const NAMED_CDN = "cdn.smoke.invalid";
let namedPort = 0;
let dir: string;
const servers: (http.Server | https.Server)[] = [];
const urls: Record<string, string> = {};

function openssl(...args: string[]): void {
    execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
}

/** A leaf certificate for 127.0.0.1 (or `san`) signed by `ca`, valid for `days` (negative: already expired). */
function leaf(name: string, days: number, ca = "ca", san = "IP:127.0.0.1"): { key: string; cert: string } {
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", "/CN=127.0.0.1");
    writeFileSync(join(dir, "san.ext"), `subjectAltName=${san}\n`);
    openssl("x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-days", String(days), "-extfile", "san.ext", "-out", `${name}.pem`);
    return { key: readFileSync(join(dir, `${name}.key`), "utf8"), cert: readFileSync(join(dir, `${name}.pem`), "utf8") };
}

function rootCa(name: string): void {
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "365", "-subj", `/CN=${name}`);
}

async function listen<T extends http.Server | https.Server>(server: T): Promise<T> {
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return server;
}

const port = (s: http.Server | https.Server) => (s.address() as AddressInfo).port;

function statusServer(status: number): http.RequestListener {
    return (req, res) => {
        res.writeHead(req.url === "/health" ? status : 404, { "content-type": "text/plain" });
        res.end("stub\n");
    };
}

/** Holds every request until `n` are waiting at once: only a checker that runs its checks concurrently passes. */
function barrier(n: number): http.RequestListener {
    const waiting: http.ServerResponse[] = [];
    return (_req, res) => {
        waiting.push(res);
        if (waiting.length >= n) for (const r of waiting.splice(0)) r.writeHead(200).end("together\n");
    };
}

/** A WebSocket endpoint that refuses a handshake without `required` and otherwise picks it, like Janus. */
function websocketStub(server: http.Server | https.Server, required?: string): void {
    new WebSocketServer({
        server,
        verifyClient: (info, cb) => cb(!required || String(info.req.headers["sec-websocket-protocol"] ?? "").split(/,\s*/).includes(required), 400),
        handleProtocols: (offered) => (required && offered.has(required) ? required : false),
    });
}

beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "vk-smoke-"));
    rootCa("ca");
    rootCa("other-ca");
    const soon = leaf("soon", 5);
    const tenDays = leaf("ten-days", 10);
    const thirtyDays = leaf("thirty-days", 30);
    const later = leaf("later", 90);
    const expired = leaf("expired", -1);
    const untrusted = leaf("untrusted", 90, "other-ca");

    const ok = await listen(http.createServer(statusServer(200)));
    const failing = await listen(http.createServer(statusServer(500)));
    const hanging = await listen(http.createServer(() => undefined));
    const together = await listen(http.createServer(barrier(3)));
    const janus = await listen(http.createServer(statusServer(426)));
    websocketStub(janus, "janus-protocol");
    const plainWs = await listen(http.createServer(statusServer(426)));
    websocketStub(plainWs);
    const tlsSoon = await listen(https.createServer(soon, statusServer(200)));
    const tlsTen = await listen(https.createServer(tenDays, statusServer(200)));
    const tlsThirty = await listen(https.createServer(thirtyDays, statusServer(200)));
    // Serves nothing but TLS: like a public hostname with no health check, only its certificate can be checked.
    const tlsOnlySoon = await listen(https.createServer(soon, () => undefined));
    const tlsLater = await listen(https.createServer(later, statusServer(200)));
    websocketStub(tlsLater);
    const tlsExpired = await listen(https.createServer(expired, statusServer(200)));
    const tlsUntrusted = await listen(https.createServer(untrusted, statusServer(200)));
    // A server known only by a name DNS cannot resolve: it answers 200 only when SNI and Host both carry that name.
    const named = await listen(
        https.createServer(leaf("named", 90, "ca", `DNS:${NAMED_HOST},DNS:${NAMED_CDN}`), (req, res) => {
            const sni = (req.socket as import("node:tls").TLSSocket).servername;
            res.writeHead(sni === NAMED_HOST && req.headers.host === NAMED_HOST ? 200 : 421).end(`sni=${sni} host=${req.headers.host}\n`);
        }),
    );
    websocketStub(named);
    namedPort = port(named);
    const closed = await listen(http.createServer());
    const closedPort = port(closed);
    await new Promise((r) => closed.close(r));

    Object.assign(urls, {
        ok: `http://127.0.0.1:${port(ok)}/health`,
        failing: `http://127.0.0.1:${port(failing)}/health`,
        hanging: `http://127.0.0.1:${port(hanging)}/health`,
        together: `http://127.0.0.1:${port(together)}/`,
        janus: `ws://127.0.0.1:${port(janus)}/`,
        plainWs: `ws://127.0.0.1:${port(plainWs)}/`,
        tlsSoon: `https://127.0.0.1:${port(tlsSoon)}/health`,
        tlsTen: `https://127.0.0.1:${port(tlsTen)}/health`,
        tlsThirty: `https://127.0.0.1:${port(tlsThirty)}/health`,
        certOnlySoon: `https://127.0.0.1:${port(tlsOnlySoon)}/`,
        certOnlyTen: `wss://127.0.0.1:${port(tlsTen)}/`,
        tlsLater: `https://127.0.0.1:${port(tlsLater)}/health`,
        wssLater: `wss://127.0.0.1:${port(tlsLater)}/`,
        tlsExpired: `https://127.0.0.1:${port(tlsExpired)}/health`,
        tlsUntrusted: `https://127.0.0.1:${port(tlsUntrusted)}/health`,
        refused: `http://127.0.0.1:${closedPort}/health`,
    });
});

afterAll(async () => {
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.filter((s) => s.listening).map((s) => new Promise((r) => s.close(r))));
    rmSync(dir, { recursive: true, force: true });
});

const http200 = (name: string, url = urls[name]): HealthCheck => ({ name, url, kind: "http", expectStatus: 200 });
const ws = (name: string, url: string, subprotocol?: string): HealthCheck => ({ name, url, kind: "websocket", expectStatus: 101, ...(subprotocol ? { subprotocol } : {}) });

interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
    /** Table rows by check name: [name, kind, url, status, ms, cert days, result]. */
    rows: Map<string, string[]>;
}

/** Runs the CLI asynchronously (the stub servers live in this process) with the outputs as a file or on stdin. */
function smoke(outputs: unknown, opts: { stdin?: boolean; args?: string[] } = {}): Promise<Run> {
    const file = join(dir, `outputs-${Math.random().toString(36).slice(2)}.json`);
    const text = typeof outputs === "string" ? outputs : JSON.stringify(outputs);
    if (!opts.stdin) writeFileSync(file, text);
    const args = [join(ROOT, "scripts", "run-ts.js"), join(ROOT, "scripts", "smoke.ts"), opts.stdin ? "-" : file, ...(opts.args ?? ["--timeout", String(TIMEOUT_MS), "--ca", join(dir, "ca.pem")])];
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, args, { cwd: ROOT });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", reject);
        child.on("close", (code) => {
            const rows = new Map(
                stdout
                    .split("\n")
                    .slice(1)
                    .filter((l) => l.includes("  "))
                    .map((l) => {
                        const cells = l.split(/ {2,}/);
                        return [cells[0], [...cells.slice(0, 6), cells.slice(6).join("  ")]] as [string, string[]];
                    }),
            );
            resolve({ code, stdout, stderr, rows });
        });
        child.stdin.end(opts.stdin ? text : "");
    });
}

describe("npm run smoke", () => {
    test("every kind of endpoint gets its row: status, cert days and verdict; a failure makes the exit code 1", async () => {
        const checks = [
            http200("ok"),
            http200("failing"),
            http200("hanging"),
            ws("janus", urls.janus, "janus-protocol"),
            ws("janusNoProtocol", urls.janus),
            ws("plainWs", urls.plainWs),
            ws("wrongProtocol", urls.plainWs, "janus-protocol"),
            http200("tlsSoon"),
            http200("tlsLater"),
            ws("wssLater", urls.wssLater),
            http200("tlsExpired"),
            http200("tlsUntrusted"),
            http200("refused"),
        ];
        const run = await smoke({ stack: "dev", healthChecks: checks });
        expect(run.code).toBe(1);
        expect(run.stdout.split("\n")[0]).toMatch(/^NAME +KIND +URL +STATUS +MS +CERT DAYS +RESULT$/);
        const row = (name: string) => {
            const r = run.rows.get(name);
            if (!r) throw new Error(`no row for ${name} in:\n${run.stdout}`);
            const [, kind, url, status, ms, certDays, result] = r;
            expect(url).toBe(checks.find((c) => c.name === name)?.url);
            expect(ms).toMatch(/^\d+$/);
            return { kind, status, certDays, result };
        };
        expect(row("ok")).toEqual({ kind: "http", status: "200", certDays: "-", result: "OK" });
        expect(row("failing")).toEqual({ kind: "http", status: "500", certDays: "-", result: "FAIL expected status 200, got 500" });
        expect(row("hanging")).toEqual({ kind: "http", status: "-", certDays: "-", result: `FAIL timed out after ${TIMEOUT_MS} ms` });
        expect(row("janus")).toEqual({ kind: "websocket(janus-protocol)", status: "101", certDays: "-", result: "OK" });
        expect(row("janusNoProtocol")).toEqual({ kind: "websocket", status: "400", certDays: "-", result: "FAIL expected a WebSocket handshake (101), got 400" });
        expect(row("plainWs")).toEqual({ kind: "websocket", status: "101", certDays: "-", result: "OK" });
        expect(row("wrongProtocol")).toEqual({ kind: "websocket(janus-protocol)", status: "101", certDays: "-", result: "FAIL server did not accept subprotocol janus-protocol" });
        // A 5-day certificate checked seconds after it was made has 4 whole days left: under the 7-day floor.
        expect(row("tlsSoon")).toEqual({ kind: "http", status: "200", certDays: "4", result: "FAIL certificate expires in 4 days (< 7); renewal is failing: journalctl -u caddy on the host" });
        expect(row("tlsLater")).toEqual({ kind: "http", status: "200", certDays: "89", result: "OK" });
        expect(row("wssLater")).toEqual({ kind: "websocket", status: "101", certDays: "89", result: "OK" });
        expect(row("tlsExpired")).toMatchObject({ status: "-", certDays: "-", result: expect.stringMatching(/^FAIL TLS: .*\(CERT_HAS_EXPIRED\)$/) });
        expect(row("tlsUntrusted")).toMatchObject({ status: "-", certDays: "-", result: expect.stringMatching(/^FAIL TLS: /) });
        expect(row("refused")).toMatchObject({ status: "-", result: expect.stringMatching(/^FAIL .*ECONNREFUSED/) });
        expect(run.rows.size).toBe(checks.length);
        expect(run.stdout).toContain(`${checks.length} checks: 5 ok, 0 warning, 8 failed`);
    });

    test("checks run concurrently: three requests a stub only answers together all pass", async () => {
        const run = await smoke({ healthChecks: [1, 2, 3].map((i) => http200(`together${i}`, urls.together)) });
        expect(run.stdout).toContain("3 checks: 3 ok, 0 warning, 0 failed");
        expect(run.code).toBe(0);
    });

    test("warnings alone keep the exit code 0; `-` reads `pulumi stack output --json` from stdin", async () => {
        const stackOutput = { schemaVersion: 1, host: { ipv4: "[secret]" }, endpoints: {}, healthChecks: [http200("ok"), http200("tlsTen"), ws("janus", urls.janus, "janus-protocol")] };
        const run = await smoke(stackOutput, { stdin: true });
        expect(run.stderr).toBe("");
        expect([...run.rows.keys()]).toEqual(["ok", "tlsTen", "janus"]);
        expect(run.rows.get("tlsTen")?.[6]).toMatch(/^WARN /);
        expect(run.code).toBe(0);
    });

    test("certificates expiring in 5 / 10 / 30 days: FAIL / WARN / OK (defaults: warn under 21 days, fail under 7)", async () => {
        const run = await smoke({ healthChecks: [http200("tlsSoon"), http200("tlsTen"), http200("tlsThirty")] });
        expect(run.rows.get("tlsSoon")?.slice(5)).toEqual(["4", "FAIL certificate expires in 4 days (< 7); renewal is failing: journalctl -u caddy on the host"]);
        expect(run.rows.get("tlsTen")?.slice(5)).toEqual(["9", "WARN certificate expires in 9 days (< 21)"]);
        expect(run.rows.get("tlsThirty")?.slice(5)).toEqual(["29", "OK"]);
        expect(run.code).toBe(1);
    });

    test("--warn-days and --fail-days move the thresholds", async () => {
        const args = ["--timeout", String(TIMEOUT_MS), "--ca", join(dir, "ca.pem"), "--warn-days", "30", "--fail-days", "3"];
        const run = await smoke({ healthChecks: [http200("tlsSoon"), http200("tlsThirty")] }, { args });
        expect(run.rows.get("tlsSoon")?.[6]).toBe("WARN certificate expires in 4 days (< 30)");
        expect(run.rows.get("tlsThirty")?.[6]).toBe("WARN certificate expires in 29 days (< 30)");
        expect(run.code).toBe(0);
        // 0 / 0 (short-lived certificates, Caddy's internal CA): only an expired certificate is a finding.
        const zero = await smoke({ healthChecks: [http200("tlsSoon"), http200("tlsExpired")] }, { args: ["--timeout", String(TIMEOUT_MS), "--ca", join(dir, "ca.pem"), "--warn-days", "0", "--fail-days", "0"] });
        expect(zero.rows.get("tlsSoon")?.[6]).toBe("OK");
        expect(zero.rows.get("tlsExpired")?.[6]).toMatch(/^FAIL/);
        const negative = await smoke({ healthChecks: [http200("ok")] }, { args: ["--fail-days", "-1"] });
        expect(negative.code).toBe(2);
        expect(negative.stderr).toContain("--fail-days must be a whole number of days (0 or more), got -1");
        const bad = await smoke({ healthChecks: [http200("ok")] }, { args: ["--warn-days", "5", "--fail-days", "10"] });
        expect(bad.code).toBe(2);
        expect(bad.stderr).toContain("--fail-days (10) must not exceed --warn-days (5)");
    });

    test("every public hostname in endpoints is checked, not only those with health checks", async () => {
        const outputs = {
            endpoints: { api: urls.tlsThirty, landing: urls.certOnlySoon, meeting: urls.certOnlyTen, plain: "http://127.0.0.1:1/" },
            healthChecks: [http200("api", urls.tlsThirty)],
        };
        const run = await smoke(outputs);
        // api's hostname is already checked by its health check; plain http has no certificate.
        expect([...run.rows.keys()]).toEqual(["api", "landing", "meeting"]);
        const origin = (u: string) => new URL(u).host;
        expect(run.rows.get("landing")?.slice(1)).toEqual(["certificate", `https://${origin(urls.certOnlySoon)}/`, "-", expect.stringMatching(/^\d+$/), "4", "FAIL certificate expires in 4 days (< 7); renewal is failing: journalctl -u caddy on the host"]);
        expect(run.rows.get("meeting")?.slice(5)).toEqual(["9", "WARN certificate expires in 9 days (< 21)"]);
        expect(run.code).toBe(1);
    });

    test("a hostname-only certificate check verifies the chain like every other", async () => {
        const run = await smoke({ endpoints: { landing: urls.certOnlySoon }, healthChecks: [http200("ok")] }, { args: ["--timeout", String(TIMEOUT_MS)] });
        expect(run.rows.get("landing")?.[6]).toMatch(/^FAIL TLS: /);
    });

    test("without --ca the test CA is not trusted: verification stays on", async () => {
        const run = await smoke({ healthChecks: [http200("tlsLater")] }, { args: ["--timeout", String(TIMEOUT_MS)] });
        expect(run.rows.get("tlsLater")?.[6]).toMatch(/^FAIL TLS: /);
        expect(run.code).toBe(1);
    });

    test.each([
        ["not JSON", "{", /not JSON/],
        ["no healthChecks", { endpoints: {} }, /no healthChecks list/],
        ["a hidden list", { healthChecks: "[secret]" }, /no healthChecks list/],
        ["an empty list", { healthChecks: [] }, /nothing to check/],
        ["every bad entry named", { healthChecks: [{ name: "a", url: "ftp://x", kind: "http", expectStatus: 200 }, { name: "b", url: "http://x", kind: "tcp", expectStatus: 99 }] }, /healthChecks\[0\]\.url scheme ftp:[\s\S]*healthChecks\[1\]\.kind[\s\S]*healthChecks\[1\]\.expectStatus/],
    ])("bad outputs (%s): exit 2 with the reason and usage, no table", async (_label, outputs, message) => {
        const run = await smoke(outputs);
        expect(run.code).toBe(2);
        expect(run.stderr).toMatch(message);
        expect(run.stderr).toContain("usage: npm run smoke");
        expect(run.stdout).toBe("");
    });

    test("--address connects there and keeps the URL's name for SNI, the certificate check and Host", async () => {
        const checks = [http200("named", `https://${NAMED_HOST}/health`), ws("namedWs", `wss://${NAMED_HOST}/`)];
        const outputs = {
            healthChecks: checks,
            host: { ipv4: "198.51.100.7" },
            // cdn points at the host; landing is a Pages site (a CNAME elsewhere): --address is not its server.
            dnsRecords: [
                { name: NAMED_CDN, type: "A", content: "198.51.100.7", proxied: false },
                { name: "landing.smoke.invalid", type: "CNAME", content: "visualkit-landing.pages.dev", proxied: true },
            ],
            endpoints: { cdn: `https://${NAMED_CDN}/`, landing: "https://landing.smoke.invalid/" },
        };
        const via = await smoke(outputs, { args: ["--timeout", String(TIMEOUT_MS), "--ca", join(dir, "ca.pem"), "--address", `127.0.0.1:${namedPort}`] });
        expect(via.rows.get("named")?.slice(3, 4)).toEqual(["200"]);
        expect(via.rows.get("named")?.[6]).toBe("OK");
        expect(via.rows.get("namedWs")?.[6]).toBe("OK");
        // The certificate-only check goes to the address too (it looked the name up before, found by the real host).
        expect(via.rows.get("cdn")?.slice(1, 2)).toEqual(["certificate"]);
        expect(via.rows.get("cdn")?.[6]).toBe("OK");
        expect(via.rows.get("landing")?.[6]).toBe("SKIP not served by the host at --address (no A/AAAA record to it); checked without --address");
        expect(via.stdout).toContain("4 checks: 3 ok, 0 warning, 0 failed, 1 skipped");
        expect(via.code).toBe(0);
        // Without it the name is looked up and does not exist.
        const direct = await smoke({ healthChecks: checks.slice(0, 1) }, { args: ["--timeout", String(TIMEOUT_MS), "--ca", join(dir, "ca.pem")] });
        expect(direct.rows.get("named")?.[6]).toMatch(/^FAIL .*(ENOTFOUND|EAI_AGAIN)/);
        // An address whose certificate does not name the host still fails: the check is not switched off.
        const wrong = await smoke({ healthChecks: [http200("tlsLaterByName", `https://${NAMED_HOST}/health`)] }, { args: ["--timeout", String(TIMEOUT_MS), "--ca", join(dir, "ca.pem"), "--address", new URL(urls.tlsLater).host] });
        expect(wrong.rows.get("tlsLaterByName")?.[6]).toMatch(/^FAIL TLS: .*ERR_TLS_CERT_ALTNAME_INVALID/);
    });

    test.each([["nohost:"], ["1.2.3.4:99999"], ["[::1"]])("a bad --address (%s) is bad usage: exit 2", async (address) => {
        const run = await smoke({ healthChecks: [http200("ok")] }, { args: ["--address", address] });
        expect(run.code).toBe(2);
        expect(run.stderr).toContain("--address must be HOST or HOST:PORT");
    });

    test("bad flags: exit 2", async () => {
        const run = await smoke({ healthChecks: [http200("ok")] }, { args: ["--timeout", "soon"] });
        expect(run.code).toBe(2);
        expect(run.stderr).toContain("--timeout must be a positive whole number");
    });
});
