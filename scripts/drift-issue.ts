import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { commandLine } from "./usage";

const DRIFT_USAGE = "usage: GITHUB_TOKEN=… GITHUB_REPOSITORY=owner/name npm run drift-issue -- --stack <stack> --dir <report folder>";

/**
 * `npm run drift-issue -- --stack <stack> --dir <report folder>`: the nightly watch's GitHub issue, one per stack.
 * The folder holds what the check job left: status.json ({ "preview": outcome, "smoke": outcome }, GitHub step
 * outcomes), preview.txt (the refresh preview) and smoke.txt (the smoke table). On a failure it opens the stack's
 * issue, or updates the open one (found by its label and exact title, so there is never a second one) and comments;
 * on a green run it comments and closes the open one. Talks to the GitHub REST API with fetch: GITHUB_TOKEN,
 * GITHUB_REPOSITORY, GITHUB_API_URL (a local stand-in in the tests), GITHUB_SERVER_URL and GITHUB_RUN_ID for the link.
 */

export const LABEL = "drift";
export const issueTitle = (stack: string) => `Nightly check failed: ${stack}`;

export interface DriftReport {
    readonly stack: string;
    /** GitHub step outcomes; anything but "success" (or a missing status) counts as failed. */
    readonly preview?: string;
    readonly smoke?: string;
    readonly previewLog: string;
    readonly smokeLog: string;
    readonly runUrl?: string;
    readonly date: string;
}

export const isGreen = (r: DriftReport) => r.preview === "success" && r.smoke === "success";

/** The last `max` characters: the summary and the diff's end are at the bottom of a preview. */
function tail(text: string, max: number): string {
    return text.length <= max ? text : `…(${text.length - max} characters cut)\n${text.slice(-max)}`;
}

const fence = (text: string, lang = "") => ["```" + lang, text.replace(/```/g, "ʼʼʼ").trimEnd() || "(no output)", "```"].join("\n");

export function issueBody(r: DriftReport): string {
    const previewState = r.preview === "success" ? "no difference" : r.preview === "failure" ? "**differences found** (or the preview failed)" : `did not run (${r.preview ?? "no status"})`;
    const smokeLines = r.smokeLog.split("\n").filter((l) => /\bFAIL\b|\bWARN\b/.test(l));
    const smokeState = r.smoke === "success" ? (smokeLines.length ? "passed with warnings" : "passed") : r.smoke === "failure" ? "**failed**" : `did not run (${r.smoke ?? "no status"})`;
    return [
        `The nightly check of **${r.stack}** failed on ${r.date}${r.runUrl ? ` ([run](${r.runUrl}))` : ""}. This issue is updated by every failing run and closed by the next green one.`,
        "",
        `- Refresh preview (\`pulumi preview --refresh --expect-no-changes --policy-pack policy\`): ${previewState}`,
        `- Smoke checks (\`npm run smoke\` against the stack outputs): ${smokeState}`,
        "",
        "<details open><summary>Refresh preview</summary>",
        "",
        fence(tail(r.previewLog, 40000), "diff"),
        "",
        "</details>",
        "",
        "<details open><summary>Smoke checks</summary>",
        "",
        fence(tail(r.smokeLog, 10000)),
        "",
        "</details>",
        "",
        "**What to do.** A difference means someone changed the platform outside Pulumi (console, SSH) or a provider",
        "changed a default: either put the change into the code or stack file, or run `npx pulumi up -s " + r.stack + "` to",
        "restore the declared state (`npx pulumi refresh -s " + r.stack + "` adopts what is there instead). A failed smoke",
        "check names the URL and why; a certificate under 7 days means Caddy is not renewing it (`journalctl -u caddy`).",
        "",
    ].join("\n");
}

export interface GitHub {
    readonly api: string;
    readonly repo: string;
    readonly token: string;
}

type Issue = { number: number; title: string; state: string; pull_request?: unknown; labels: ({ name: string } | string)[] };

async function call<T>(gh: GitHub, method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${gh.api}${path}`, {
        method,
        headers: { authorization: `Bearer ${gh.token}`, accept: "application/vnd.github+json", "x-github-api-version": "2022-11-28", ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`GitHub ${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
}

/** The stack's open issue: label `drift` and the exact title (pull requests, which the endpoint also lists, excluded). */
export async function findOpenIssue(gh: GitHub, stack: string): Promise<Issue | undefined> {
    const list = await call<Issue[]>(gh, "GET", `/repos/${gh.repo}/issues?state=open&labels=${LABEL}&per_page=100`);
    return list.find((i) => !i.pull_request && i.title === issueTitle(stack));
}

/** Opens, updates or closes the stack's issue; returns what it did (the CLI prints it). */
export async function reconcile(gh: GitHub, report: DriftReport): Promise<string> {
    const open = await findOpenIssue(gh, report.stack);
    const base = `/repos/${gh.repo}/issues`;
    if (isGreen(report)) {
        if (!open) return `${report.stack}: green, no open issue`;
        await call(gh, "POST", `${base}/${open.number}/comments`, { body: `Green again on ${report.date}${report.runUrl ? ` ([run](${report.runUrl}))` : ""}: no difference, every smoke check passed. Closing.` });
        await call(gh, "PATCH", `${base}/${open.number}`, { state: "closed", state_reason: "completed" });
        return `${report.stack}: green, closed #${open.number}`;
    }
    const body = issueBody(report);
    if (open) {
        await call(gh, "PATCH", `${base}/${open.number}`, { body });
        await call(gh, "POST", `${base}/${open.number}/comments`, { body: `Still failing on ${report.date}${report.runUrl ? ` ([run](${report.runUrl}))` : ""}; the description shows this run's output.` });
        return `${report.stack}: failing, updated #${open.number}`;
    }
    const created = await call<Issue>(gh, "POST", base, { title: issueTitle(report.stack), body, labels: [LABEL] });
    return `${report.stack}: failing, opened #${created.number}`;
}

export function readReport(dir: string, stack: string, env: NodeJS.ProcessEnv, now = new Date()): DriftReport {
    const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), "utf8") : "");
    let status: { preview?: string; smoke?: string } = {};
    try {
        status = JSON.parse(read("status.json") || "{}") as typeof status;
    } catch {
        // a missing or broken status means the check job did not finish: reported as failed
    }
    const runUrl = env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` : undefined;
    return { stack, preview: status.preview, smoke: status.smoke, previewLog: read("preview.txt"), smokeLog: read("smoke.txt"), runUrl, date: now.toISOString().slice(0, 16).replace("T", " ") + " UTC" };
}

async function cli(): Promise<void> {
    const { values, positionals } = commandLine(DRIFT_USAGE, { stack: { type: "string" }, dir: { type: "string" } });
    const { stack, dir } = values;
    const { GITHUB_TOKEN: token, GITHUB_REPOSITORY: repo } = process.env;
    if (!stack || !dir || !token || !repo || positionals.length > 0) {
        console.error(DRIFT_USAGE);
        process.exit(2);
    }
    const gh = { api: process.env.GITHUB_API_URL ?? "https://api.github.com", repo, token };
    console.log(await reconcile(gh, readReport(dir, stack, process.env)));
}

if (resolve(process.argv[1] ?? "") === __filename) {
    cli().catch((e: Error) => {
        console.error(`drift-issue: ${e.message}`);
        process.exit(1);
    });
}
