import { execFile } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { issueBody, issueTitle } from "../../scripts/drift-issue";
import { ROOT } from "../helpers/program";

/**
 * The nightly watch's issue logic, run as the workflow runs it (the CLI in a child process) against a stand-in of
 * GitHub's issues endpoints on 127.0.0.1: one issue per stack, updated instead of duplicated, closed when green.
 */

type StoredIssue = { number: number; title: string; body: string; state: string; state_reason?: string; labels: { name: string }[]; comments: string[]; pull_request?: object };
let issues: StoredIssue[];
let requests: { method: string; url: string; auth?: string }[];
let server: http.Server;
let api: string;
let dir: string;

beforeAll(async () => {
    server = http.createServer((req, res) => {
        let raw = "";
        req.on("data", (c) => (raw += c));
        req.on("end", () => {
            requests.push({ method: req.method!, url: req.url!, auth: req.headers.authorization });
            const url = new URL(req.url!, "http://x");
            const send = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
            if (req.headers.authorization !== "Bearer test-token") return send(401, { message: "Bad credentials" });
            const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
            const m = url.pathname.match(/^\/repos\/visualkit\/infra\/issues(?:\/(\d+))?(\/comments)?$/);
            if (!m) return send(404, { message: "Not Found" });
            const issue = m[1] ? issues.find((i) => i.number === Number(m[1])) : undefined;
            if (req.method === "GET" && !m[1]) {
                const label = url.searchParams.get("labels");
                const state = url.searchParams.get("state") ?? "open";
                return send(200, issues.filter((i) => i.state === state && (!label || i.labels.some((l) => l.name === label))));
            }
            if (req.method === "POST" && !m[1]) {
                const created: StoredIssue = { number: issues.length + 1, title: String(body.title), body: String(body.body), state: "open", labels: ((body.labels as string[]) ?? []).map((name) => ({ name })), comments: [] };
                issues.push(created);
                return send(201, created);
            }
            if (!issue) return send(404, { message: "Not Found" });
            if (req.method === "POST" && m[2]) {
                issue.comments.push(String(body.body));
                return send(201, { id: issue.comments.length });
            }
            if (req.method === "PATCH") {
                Object.assign(issue, body);
                return send(200, issue);
            }
            return send(405, { message: "Method not allowed" });
        });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), "drift-issue-"));
});

afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
    issues = [];
    requests = [];
});

function report(name: string, status: { preview?: string; smoke?: string } | undefined, preview = "", smoke = ""): string {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    if (status) writeFileSync(join(d, "status.json"), JSON.stringify(status));
    writeFileSync(join(d, "preview.txt"), preview);
    writeFileSync(join(d, "smoke.txt"), smoke);
    return d;
}

function run(stack: string, reportDir: string, token = "test-token"): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        execFile(
            process.execPath,
            [join(ROOT, "scripts/run-ts.js"), join(ROOT, "scripts/drift-issue.ts"), "--stack", stack, "--dir", reportDir],
            { env: { ...process.env, GITHUB_TOKEN: token, GITHUB_REPOSITORY: "visualkit/infra", GITHUB_API_URL: api, GITHUB_SERVER_URL: "https://github.com", GITHUB_RUN_ID: "42" } },
            (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
    });
}

const DRIFT = "Previewing update (prod):\n~ hcloud:index/firewall:Firewall visualkit-prod-main-firewall update [diff: ~rules]\n    - port: \"8080\"\nerror: no changes were expected but changes were proposed\n";
const SMOKE_FAIL = "NAME  KIND  URL                              STATUS  MS   CERT DAYS  RESULT\napi   http  https://api.visualkit.live/health  502     31   60         FAIL expected 200\n";

describe("scripts/drift-issue.ts against a stand-in of GitHub's issues API", () => {
    test("a failing run opens one issue for the stack, labelled, with the diff and the failing checks", async () => {
        const r = await run("prod", report("fail1", { preview: "failure", smoke: "failure" }, DRIFT, SMOKE_FAIL));
        expect(r).toMatchObject({ code: 0 });
        expect(r.stdout).toContain("opened #1");
        expect(issues).toHaveLength(1);
        expect(issues[0]).toMatchObject({ title: "Nightly check failed: prod", state: "open", labels: [{ name: "drift" }] });
        expect(issues[0].body).toContain("visualkit-prod-main-firewall update [diff: ~rules]");
        expect(issues[0].body).toContain("FAIL expected 200");
        expect(issues[0].body).toContain("https://github.com/visualkit/infra/actions/runs/42");
        expect(requests.every((q) => q.auth === "Bearer test-token")).toBe(true);
    });

    test("the next failing run updates the same issue and comments: no duplicate", async () => {
        await run("prod", report("fail2a", { preview: "failure", smoke: "success" }, DRIFT, ""));
        const second = await run("prod", report("fail2b", { preview: "success", smoke: "failure" }, "no changes", SMOKE_FAIL));
        expect(second.stdout).toContain("updated #1");
        expect(issues).toHaveLength(1);
        expect(issues[0].body).toContain("FAIL expected 200");
        expect(issues[0].body).not.toContain("visualkit-prod-main-firewall");
        expect(issues[0].comments).toHaveLength(1);
    });

    test("a green run comments and closes the open issue; another green run does nothing", async () => {
        await run("prod", report("fail3", { preview: "failure", smoke: "success" }, DRIFT, ""));
        const green = await run("prod", report("green3", { preview: "success", smoke: "success" }, "no changes", "all OK"));
        expect(green.stdout).toContain("closed #1");
        expect(issues[0]).toMatchObject({ state: "closed", state_reason: "completed" });
        expect(issues[0].comments[0]).toMatch(/Green again/);
        requests = [];
        const again = await run("prod", report("green3b", { preview: "success", smoke: "success" }));
        expect(again.stdout).toContain("no open issue");
        expect(requests.map((q) => q.method)).toEqual(["GET"]);
    });

    test("one issue per stack: dev's failure does not touch prod's issue, and a closed issue is not reused", async () => {
        await run("prod", report("p4", { preview: "failure", smoke: "success" }, DRIFT));
        await run("dev", report("d4", { preview: "failure", smoke: "success" }, DRIFT));
        expect(issues.map((i) => i.title)).toEqual(["Nightly check failed: prod", "Nightly check failed: dev"]);
        await run("prod", report("p4g", { preview: "success", smoke: "success" }));
        await run("prod", report("p4f", { preview: "failure", smoke: "success" }, DRIFT));
        expect(issues.filter((i) => i.title === issueTitle("prod")).map((i) => i.state)).toEqual(["closed", "open"]);
        expect(issues.find((i) => i.title === issueTitle("dev"))?.state).toBe("open");
    });

    test("a pull request or an issue with another title under the label is left alone", async () => {
        issues.push({ number: 1, title: "Nightly check failed: prod", body: "", state: "open", labels: [{ name: "drift" }], comments: [], pull_request: {} });
        issues.push({ number: 2, title: "drift: notes", body: "", state: "open", labels: [{ name: "drift" }], comments: [] });
        const r = await run("prod", report("p5", { preview: "failure", smoke: "success" }, DRIFT));
        expect(r.stdout).toContain("opened #3");
    });

    test("a check job that left no status (it broke before the checks) is reported as a failure", async () => {
        const r = await run("prod", report("nostatus", undefined));
        expect(r.stdout).toContain("opened #1");
        expect(issues[0].body).toMatch(/Refresh preview .*: did not run \(no status\)/);
    });

    test("an API error exits 1 with GitHub's answer; missing arguments exit 2", async () => {
        const bad = await run("prod", report("p7", { preview: "failure", smoke: "success" }), "wrong-token");
        expect(bad.code).toBe(1);
        expect(bad.stderr).toContain("401");
        const usage = await new Promise<number>((resolve) =>
            execFile(process.execPath, [join(ROOT, "scripts/run-ts.js"), join(ROOT, "scripts/drift-issue.ts")], { env: { ...process.env, GITHUB_TOKEN: "" } }, (err) => resolve(Number((err as { code?: number } | null)?.code ?? 0))),
        );
        expect(usage).toBe(2);
    });
});

describe("the issue body", () => {
    test("a long preview keeps its end (the summary and the error) and code fences cannot break out", () => {
        const long = "x".repeat(50_000) + "\n```\nerror: no changes were expected but changes were proposed";
        const body = issueBody({ stack: "prod", preview: "failure", smoke: "success", previewLog: long, smokeLog: "", date: "2026-12-01 03:23 UTC" });
        expect(body).toContain("characters cut");
        expect(body).toContain("error: no changes were expected");
        expect(body.match(/^```/gm)?.length).toBe(4);
    });
});
