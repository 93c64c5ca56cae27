import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { CALL_GUARD_SCRIPT } from "../../../components/janus-gateway";
import { janusAdminUrl } from "../../../render/janus";
import { freePort } from "../../helpers/caddy";
import { startJanus, testJanusSecrets, type RunningJanus } from "../../helpers/janus";
import { signedToken } from "../../helpers/janus-client";
import { ROOT } from "../../helpers/program";

/**
 * The deploy-time call guard against a real Janus (Debian's 1.1.2, admin API on 127.0.0.1) and, for a call in
 * progress (a PeerConnection cannot be set up here), against a stand-in that answers the admin API as Janus documents
 * it (list_sessions → list_handles → handle_info with `flags.ready`).
 */

const SECRET = "guard-test-admin-secret";
const script = join(ROOT, CALL_GUARD_SCRIPT);

/** As the program runs it: the script's text through `python3 -c`, the secret on stdin (async: stand-ins answer in-process). */
function guard(url: string, secret: string, ...flags: string[]): Promise<{ status: number | null; out: string }> {
    return guardWith(process.env, url, secret, ...flags);
}

function guardWith(env: NodeJS.ProcessEnv, url: string, secret: string, ...flags: string[]): Promise<{ status: number | null; out: string }> {
    return new Promise((ok, fail) => {
        const child = spawn("python3", ["-c", readFileSync(script, "utf8"), url, ...flags], { stdio: ["pipe", "pipe", "pipe"], timeout: 30_000, env });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (out += d));
        child.on("error", fail);
        child.on("close", (status) => ok({ status, out }));
        child.stdin.end(secret);
    });
}

async function janusRequest(base: string, path: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const r = await fetch(`${base}${path}`, { method: "POST", body: JSON.stringify({ transaction: "t", ...body }) });
    return (await r.json()) as Record<string, unknown>;
}

describe("janus-calls-guard against a real Janus", () => {
    let janus: RunningJanus;
    let url: string;
    beforeAll(async () => {
        janus = await startJanus("dev", SECRET);
        url = janusAdminUrl(janus.settings);
    });
    afterAll(async () => janus?.stop());

    test("no session: Janus may be replaced", async () => {
        const r = await guard(url, SECRET);
        expect(r.out).toContain("no call in progress");
        expect(r.status).toBe(0);
    });

    test("idle sessions and a plugin handle without a PeerConnection (like vk-agent's standing session) are not calls", async () => {
        const api = `http://127.0.0.1:${janus.settings.ports.http}/janus`;
        // With a token, as vk-agent holds its session (Janus refuses anonymous callers).
        const token = signedToken(testJanusSecrets(SECRET).tokenSecret, ["janus.plugin.audiobridge"]);
        const session = (await janusRequest(api, "", { janus: "create", token })) as { data: { id: number } };
        const handle = (await janusRequest(api, `/${session.data.id}`, { janus: "attach", plugin: "janus.plugin.audiobridge", token })) as { janus: string };
        expect(handle.janus).toBe("success");
        const r = await guard(url, SECRET);
        expect(r.out).toContain("no call in progress");
        expect(r.status).toBe(0);
    });

    test("a wrong admin secret is refused: the number of calls is unknown, so the guard stops the deployment", async () => {
        const r = await guard(url, "not-the-secret");
        expect(r.status).toBe(1);
        expect(r.out).toMatch(/Janus refused list_sessions: Unauthorized/);
        expect(r.out).toContain("janusForceRestart");
    });
});

describe("janus-calls-guard with calls in progress (admin API stand-in)", () => {
    let server: Server;
    let url: string;
    const requests: Record<string, unknown>[] = [];
    beforeAll(async () => {
        // Two sessions: one idle (vk-agent's), one with a handle whose PeerConnection is up.
        server = createServer((req, res) => {
            let body = "";
            req.on("data", (c) => (body += c));
            req.on("end", () => {
                const msg = JSON.parse(body) as Record<string, unknown>;
                requests.push({ path: req.url, ...msg });
                const ok = (extra: Record<string, unknown>) => res.end(JSON.stringify({ janus: "success", transaction: msg.transaction, ...extra }));
                if (msg.admin_secret !== SECRET) return res.end(JSON.stringify({ janus: "error", error: { code: 403, reason: "Unauthorized request (wrong or missing secret/token)" } }));
                if (msg.janus === "list_sessions") return ok({ sessions: [111, 222] });
                if (msg.janus === "list_handles") return ok({ handles: req.url === "/admin/111" ? [1] : [2] });
                if (msg.janus === "handle_info") return ok({ info: { plugin: "janus.plugin.videoroom", flags: { ready: req.url === "/admin/222/2" } } });
                return res.end(JSON.stringify({ janus: "error", error: { code: 400, reason: "unknown" } }));
            });
        });
        await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
        url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin`;
    });
    afterAll(() => new Promise((ok) => server.close(ok)));

    test("a live PeerConnection stops the deployment, naming the call and the way to force it", async () => {
        const r = await guard(url, SECRET);
        expect(r.status).toBe(1);
        expect(r.out).toContain("1 call(s) in progress");
        expect(r.out).toContain("session 222 handle 2 (janus.plugin.videoroom)");
        expect(r.out).not.toContain("session 111");
        expect(r.out).toContain("pulumi config set visualkit:janusForceRestart true");
        // The secret travels in the request body only, never in a URL.
        expect(requests.every((q) => !String(q.path).includes(SECRET))).toBe(true);
    });

    test("with --container, the calls are counted only while Docker runs that container (a new server has none)", async () => {
        // A `docker` stand-in on PATH answering `docker ps` the way the real one does: one id per matching container.
        const bin = mkdtempSync(join(tmpdir(), "guard-docker-"));
        const docker = (running: boolean) => writeFileSync(join(bin, "docker"), `#!/bin/sh\necho "$*" >> "${bin}/calls"\n${running ? "echo 3f2a1b" : ""}\n`, { mode: 0o755 });
        const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
        try {
            docker(false);
            const none = await guardWith(env, url, SECRET, "--container=janus-gateway");
            expect(none).toEqual({ status: 0, out: expect.stringContaining("no running janus-gateway container") });
            expect(readFileSync(join(bin, "calls"), "utf8")).toContain("ps --quiet --filter name=^janus-gateway$ --filter status=running");
            docker(true);
            const live = await guardWith(env, url, SECRET, "--container=janus-gateway");
            expect(live.status).toBe(1);
            expect(live.out).toContain("1 call(s) in progress");
        } finally {
            rmSync(bin, { recursive: true, force: true });
        }
    });

    test("--force lets the deployment go ahead and says what it drops", async () => {
        const r = await guard(url, SECRET, "--force");
        expect(r.status).toBe(0);
        expect(r.out).toContain("Going ahead anyway");
    });
});

test("nothing listening (a new server) is nothing to interrupt", async () => {
    const r = await guard(`http://127.0.0.1:${await freePort()}/admin`, SECRET);
    expect(r.out).toContain("no call to interrupt");
    expect(r.status).toBe(0);
});

test("a Janus that accepts the connection but never answers is not taken for one without calls", async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((ok) => silent.listen(0, "127.0.0.1", ok));
    try {
        const r = await guard(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/admin`, SECRET);
        expect(r.status).toBe(1);
        expect(r.out).toMatch(/did not answer .*the number of calls is unknown/);
    } finally {
        silent.closeAllConnections();
        await new Promise((ok) => silent.close(ok));
    }
});
