import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { parse } from "yaml";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { ROOT } from "../helpers/program";
import { closeWindows, openWindow, sourceCidr } from "../../scripts/ssh-window";

/**
 * The CI SSH window against a stand-in of the Hetzner Cloud API endpoints it calls (firewalls, their
 * remove_from_resources action, actions), which answers as the API does: actions start `running`, a firewall still
 * applied to something cannot be deleted (409 resource_in_use), label selectors `k=v,k2` filter.
 */
interface Fw { id: number; name: string; labels: Record<string, string>; rules: unknown[]; applied_to: unknown[] }
let server: Server;
let base: string;
const TOKEN = "standin-token";
const firewalls = new Map<number, Fw>();
const actions = new Map<number, number>(); // id → polls left before success
const log: string[] = [];
let nextId = 100;

function matches(labels: Record<string, string>, selector: string): boolean {
    return selector.split(",").every((term) => {
        const [k, v] = term.split("=");
        return v === undefined ? k in labels : labels[k] === v;
    });
}

beforeAll(async () => {
    server = createServer((req, res) => {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => {
            const url = new URL(req.url!, "http://x");
            log.push(`${req.method} ${url.pathname}`);
            const send = (status: number, json: unknown) => {
                res.writeHead(status, { "Content-Type": "application/json" });
                res.end(JSON.stringify(json));
            };
            if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, { error: { code: "unauthorized", message: "unable to authenticate" } });
            const action = () => {
                const id = nextId++;
                actions.set(id, 1);
                return { id, status: "running", error: null };
            };
            let m: RegExpMatchArray | null;
            if (req.method === "POST" && url.pathname === "/firewalls") {
                const b = JSON.parse(body) as Fw & { apply_to: unknown[] };
                const fw = { id: nextId++, name: b.name, labels: b.labels, rules: b.rules, applied_to: b.apply_to };
                firewalls.set(fw.id, fw);
                return send(201, { firewall: fw, actions: [action()] });
            }
            if (req.method === "GET" && url.pathname === "/firewalls") {
                const sel = url.searchParams.get("label_selector") ?? "";
                return send(200, { firewalls: [...firewalls.values()].filter((f) => matches(f.labels, sel)) });
            }
            if ((m = url.pathname.match(/^\/actions\/(\d+)$/))) {
                const left = actions.get(Number(m[1]))!;
                actions.set(Number(m[1]), left - 1);
                return send(200, { action: { id: Number(m[1]), status: left > 0 ? "running" : "success", error: null } });
            }
            if (req.method === "POST" && (m = url.pathname.match(/^\/firewalls\/(\d+)\/actions\/remove_from_resources$/))) {
                firewalls.get(Number(m[1]))!.applied_to = [];
                return send(201, { actions: [action()] });
            }
            if (req.method === "DELETE" && (m = url.pathname.match(/^\/firewalls\/(\d+)$/))) {
                const fw = firewalls.get(Number(m[1]));
                if (!fw) return send(404, { error: { code: "not_found", message: "firewall not found" } });
                if (fw.applied_to.length) return send(409, { error: { code: "resource_in_use", message: "firewall is still in use" } });
                firewalls.delete(fw.id);
                res.writeHead(204);
                return res.end();
            }
            send(404, { error: { code: "not_found", message: req.url } });
        });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
    firewalls.clear();
    log.length = 0;
});

const api = () => ({ base, token: TOKEN, pollMs: 10 });

test("sourceCidr: one host address only; 0.0.0.0/0 and every range refused", () => {
    expect(sourceCidr("198.51.100.7")).toBe("198.51.100.7/32");
    expect(sourceCidr("2001:db8::7")).toBe("2001:db8::7/128");
    expect(sourceCidr("198.51.100.7/32")).toBe("198.51.100.7/32");
    for (const bad of ["0.0.0.0/0", "::/0", "198.51.100.0/24", "10.0.0.0/8"]) expect(() => sourceCidr(bad)).toThrow(/is a range; open SSH to the runner's one address .* never 0.0.0.0\/0/);
    expect(() => sourceCidr("example.com")).toThrow(/public IPv4 or IPv6 address/);
});

test("open: a firewall of its own with one rule, applied by the stack's labels, waited for", async () => {
    const id = await openWindow(api(), "dev", "198.51.100.7", "123-1", 90, Date.UTC(2026, 11, 5));
    const fw = firewalls.get(id)!;
    expect(fw.rules).toEqual([{ direction: "in", protocol: "tcp", port: "22", source_ips: ["198.51.100.7/32"], description: "CI run 123-1" }]);
    expect(fw.applied_to).toEqual([{ type: "label_selector", label_selector: { selector: "project=visualkit,stack=dev" } }]);
    expect(fw.labels).toEqual({ "visualkit-ssh-window": "123-1", "visualkit-ssh-window-expires": String(Date.UTC(2026, 11, 5) / 1000 + 5400), project: "visualkit", stack: "dev" });
    // The action was polled until it succeeded.
    expect(log.filter((l) => l.startsWith("GET /actions/")).length).toBe(2);
});

test("close: detached, then deleted; a second close finds nothing and succeeds; other runs' windows stay", async () => {
    await openWindow(api(), "dev", "198.51.100.7", "run-a", 90);
    const other = await openWindow(api(), "dev", "198.51.100.8", "run-b", 90);
    expect(await closeWindows(api(), "dev", { runId: "run-a" })).toEqual(["ssh-window-dev-run-a"]);
    expect([...firewalls.keys()]).toEqual([other]);
    expect(log.indexOf("DELETE /firewalls/" + (other - 2))).toBeGreaterThan(log.findIndex((l) => l.endsWith("/remove_from_resources")));
    expect(await closeWindows(api(), "dev", { runId: "run-a" })).toEqual([]);
});

test("close --expired: only windows past their expiry, of that stack", async () => {
    const t0 = Date.UTC(2026, 11, 5);
    await openWindow(api(), "dev", "198.51.100.7", "old", 10, t0);
    await openWindow(api(), "dev", "198.51.100.8", "new", 90, t0);
    await openWindow(api(), "prod", "198.51.100.9", "old", 10, t0);
    expect(await closeWindows(api(), "dev", { expired: true }, t0 + 30 * 60_000)).toEqual(["ssh-window-dev-old"]);
    expect([...firewalls.values()].map((f) => f.name).sort()).toEqual(["ssh-window-dev-new", "ssh-window-prod-old"]);
});

test("the CLI as the workflow runs it: a range is bad usage (2), an API refusal 1, with the token never printed", async () => {
    const cli = (args: string[], token = TOKEN) =>
        new Promise<{ status: number | null; out: string }>((resolve) => {
            const child = spawn(process.execPath, [join(ROOT, "scripts/run-ts.js"), join(ROOT, "scripts/ssh-window.ts"), ...args, "--api", base], { env: { ...process.env, HCLOUD_TOKEN: token, HCLOUD_POLL_INTERVAL: "10ms" } });
            let out = "";
            child.stdout.on("data", (d) => (out += d));
            child.stderr.on("data", (d) => (out += d));
            child.on("close", (status) => resolve({ status, out }));
        });
    expect(await cli(["open", "dev", "--source", "0.0.0.0/0", "--run-id", "1"])).toMatchObject({ status: 2, out: expect.stringContaining("never 0.0.0.0/0") });
    const denied = await cli(["open", "dev", "--source", "198.51.100.7", "--run-id", "1"], "wrong-token");
    expect(denied).toMatchObject({ status: 1, out: expect.stringContaining("401 unauthorized") });
    expect(denied.out).not.toContain("wrong-token");
    expect(await cli(["open", "dev", "--source", "198.51.100.7", "--run-id", "7-1"])).toMatchObject({ status: 0 });
    expect(await cli(["close", "dev", "--run-id", "7-1"])).toMatchObject({ status: 0, out: expect.stringContaining("closed ssh-window-dev-7-1") });
    expect(firewalls.size).toBe(0);
});

test("pulumi-up.yml's open and close steps, run as the job runs them", async () => {
    const wf = parse(readFileSync(join(ROOT, ".github/workflows/pulumi-up.yml"), "utf8")) as { jobs: { up: { steps: { name?: string; run?: string; env?: Record<string, string> }[] } } };
    const step = (name: string) => wf.jobs.up.steps.find((s) => s.name === name)!;
    const dir = mkdtempSync(join(tmpdir(), "vk-window-"));
    try {
        // The runner's address as the address service answers it, with its trailing newline.
        mkdirSync(join(dir, "bin"));
        writeFileSync(join(dir, "bin", "curl"), '#!/bin/sh\necho 198.51.100.23\n');
        chmodSync(join(dir, "bin", "curl"), 0o755);
        const env = { ...process.env, PATH: `${join(dir, "bin")}:${join(ROOT, "node_modules", ".bin")}:${process.env.PATH}`, HCLOUD_TOKEN: TOKEN, HCLOUD_ENDPOINT: base, HCLOUD_POLL_INTERVAL: "10ms", STACK: "prod", RUN_ID: "4711-1" };
        // Not spawnSync: the stand-in answers from this process.
        const run = (name: string) =>
            new Promise<{ status: number | null; stderr: string }>((resolve) => {
                const child = spawn("bash", ["-e", "-c", step(name).run!], { cwd: ROOT, env });
                let stderr = "";
                child.stderr.on("data", (d) => (stderr += d));
                child.on("close", (status) => resolve({ status, stderr }));
            });
        const open = await run("open SSH to this runner");
        expect(open.stderr).toBe("");
        expect(open.status).toBe(0);
        expect([...firewalls.values()].map((f) => [f.name, f.rules])).toEqual([["ssh-window-prod-4711-1", [expect.objectContaining({ source_ips: ["198.51.100.23/32"] })]]]);
        expect((await run("close SSH to this runner")).status).toBe(0);
        expect(firewalls.size).toBe(0);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
});
