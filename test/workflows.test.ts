import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ROOT } from "./helpers/program";

/**
 * The GitHub workflows, parsed with a YAML library: triggers, jobs, steps and permissions. `if:` conditions are
 * evaluated (GitHub's expression subset used here: ==, !=, &&, ||, quoted strings, context paths) for the events
 * that matter, so "prod only by a manual run on main" is checked as behaviour, not as text.
 */

type Step = { name?: string; if?: string; uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Job = {
    name?: string;
    strategy?: { "fail-fast"?: boolean; matrix: Record<string, unknown> };
    if?: string;
    needs?: string | string[];
    uses?: string;
    with?: Record<string, unknown>;
    secrets?: unknown;
    environment?: string;
    permissions?: Record<string, string> | string;
    env?: Record<string, string>;
    steps?: Step[];
    concurrency?: { group: string; "cancel-in-progress": boolean };
};
type Workflow = { on: Record<string, unknown>; permissions?: Record<string, string> | string; jobs: Record<string, Job> };

const DIR = join(ROOT, ".github", "workflows");
const files = readdirSync(DIR).filter((f) => f.endsWith(".yml"));
const texts = Object.fromEntries(files.map((f) => [f, readFileSync(join(DIR, f), "utf8")]));
const workflows: Record<string, Workflow> = Object.fromEntries(files.map((f) => [f, parse(texts[f]) as Workflow]));
const pr = workflows["pull-request.yml"];
const deploy = workflows["deploy.yml"];
const up = workflows["pulumi-up.yml"];
const drift = workflows["drift.yml"];
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { devDependencies: Record<string, string>; engines: { node: string } };

/** Evaluates a GitHub `if:` of the simple form used here against a context object. */
function evaluate(expr: string, ctx: Record<string, unknown>): boolean {
    const js = expr
        .replace(/^\$\{\{\s*|\s*\}\}$/g, "")
        .replace(/'([^']*)'/g, (_m, s: string) => JSON.stringify(s))
        .replace(/!=/g, "!==")
        .replace(/([^!=])==/g, "$1===")
        .replace(/\b(github|inputs)((?:\.[\w-]+)+)/g, (m) => `ctx(${JSON.stringify(m)})`);
    const lookup = (path: string) => path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], ctx);
    return Boolean(new Function("ctx", `return (${js});`)(lookup));
}

const steps = (job: Job) => job.steps ?? [];
const stepIndex = (job: Job, pred: (s: Step) => boolean) => steps(job).findIndex(pred);
const runs = (job: Job, text: string | RegExp) => stepIndex(job, (s) => (typeof text === "string" ? (s.run ?? "").includes(text) : text.test(s.run ?? "")));
const pulumiSteps = (job: Job) => steps(job).filter((s) => s.uses?.startsWith("pulumi/actions@"));

describe("every workflow", () => {
    test("the expected files exist and parse", () => {
        expect(files.sort()).toEqual(["backups.yml", "deploy.yml", "drift.yml", "janus-image.yml", "pull-request.yml", "pulumi-up.yml", "release.yml", "widget-release.yml"]);
    });

    test.each(files)("%s: read-only by default, no write-all, write only where a job needs it", (file) => {
        const wf = workflows[file];
        expect(wf.permissions).toEqual({ contents: "read" });
        expect(texts[file]).not.toMatch(/write-all/);
        for (const [id, job] of Object.entries(wf.jobs)) {
            if (job.permissions === undefined) continue;
            expect(typeof job.permissions).toBe("object");
            const writes = Object.entries(job.permissions as Record<string, string>).filter(([, v]) => v !== "read" && v !== "none");
            const needs: Record<string, [string, string][]> = {
                "pull-request.yml/preview": [["pull-requests", "write"]],
                "janus-image.yml/build": [["packages", "write"]],
                "drift.yml/report": [["issues", "write"]],
                "release.yml/record": [["contents", "write"]],
                "widget-release.yml/record": [["contents", "write"]],
            };
            const allowed = needs[`${file}/${id}`] ?? [];
            expect({ job: id, writes }).toEqual({ job: id, writes: allowed });
        }
    });

    test.each(files)("%s: every action is pinned to a major version or a commit", (file) => {
        for (const job of Object.values(workflows[file].jobs)) {
            for (const uses of [job.uses, ...steps(job).map((s) => s.uses)].filter((u): u is string => !!u)) {
                if (uses.startsWith("./")) continue;
                expect({ uses, pinned: /@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/.test(uses) }).toEqual({ uses, pinned: true });
            }
        }
    });

    test("Node 22 everywhere, the lower bound of package.json engines", () => {
        expect(pkg.engines.node).toMatch(/^>=22\b/);
        const setups = files.flatMap((f) => Object.values(workflows[f].jobs).flatMap((j) => steps(j).filter((s) => s.uses?.startsWith("actions/setup-node@"))));
        expect(setups.length).toBeGreaterThanOrEqual(3);
        for (const s of setups) expect(s.with?.["node-version"]).toBe(22);
    });

    test("every pulumi/actions step uses the CLI version pinned in package.json and the shared state backend", () => {
        const all = files.flatMap((f) => Object.values(workflows[f].jobs).flatMap(pulumiSteps));
        expect(all.length).toBe(3);
        for (const s of all) {
            expect(s.with?.["pulumi-version"]).toBe(pkg.devDependencies.pulumi);
            expect(s.with?.["cloud-url"]).toBe("${{ secrets.PULUMI_BACKEND_URL }}");
        }
    });

    test("every preview and every update runs under the policy pack (policy/)", () => {
        const viaAction = files.flatMap((f) => Object.values(workflows[f].jobs).flatMap(pulumiSteps)).filter((s) => ["preview", "up"].includes(String(s.with?.command)));
        expect(viaAction.length).toBe(3);
        for (const s of viaAction) expect({ step: s.name, policyPacks: s.with?.policyPacks }).toEqual({ step: s.name, policyPacks: "policy" });
        const viaCli = files.flatMap((f) => Object.values(workflows[f].jobs).flatMap((j) => steps(j).filter((s) => /\bpulumi (preview|up)\b/.test(s.run ?? ""))));
        expect(viaCli.length).toBeGreaterThanOrEqual(1);
        for (const s of viaCli) expect(s.run).toMatch(/pulumi (preview|up)\b[^\n]* --policy-pack policy\b/);
        // The pack's own files, where the CLI looks for them.
        expect(readFileSync(join(ROOT, "policy/PulumiPolicy.yaml"), "utf8")).toMatch(/^runtime: nodejs$/m);
        expect(pkg.devDependencies["@pulumi/policy"]).toMatch(/^\d+\.\d+\.\d+$/);
    });

    test("secrets come from exactly the documented repository secrets", () => {
        const used = new Set(Object.values(texts).flatMap((t) => [...t.matchAll(/secrets\.([A-Z_]+)/g)].map((m) => m[1])));
        expect([...used].sort()).toEqual(
            ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "BACKUP_PRUNE_SSH_KEY", "CLOUDFLARE_API_TOKEN", "GITHUB_TOKEN", "HCLOUD_TOKEN", "PULUMI_ACCESS_TOKEN", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "SSH_DEPLOY_KEY"].sort(),
        );
    });
});

describe("pull-request.yml", () => {
    test("runs on pull requests to main, nothing else", () => {
        expect(Object.keys(pr.on)).toEqual(["pull_request"]);
        expect(pr.on.pull_request).toEqual({ branches: ["main"] });
    });

    test("test job: npm ci, the apt tools as root, typecheck, npm test, the data tier, then rendered/ must be unchanged", () => {
        const job = pr.jobs.test;
        const order = [runs(job, /^npm ci$/), runs(job, "sudo bash scripts/test-tools.sh"), runs(job, "npm run typecheck"), runs(job, /^npm test$/), runs(job, /^npm run test:data$/), runs(job, "git diff --exit-code")];
        expect(order.every((i) => i >= 0)).toBe(true);
        expect([...order].sort((a, b) => a - b)).toEqual(order);
        const render = steps(job)[order[5]].run ?? "";
        expect(render).toContain("npm run render -- dev");
        expect(render).toContain("npm run render -- prod");
        expect(render).toMatch(/git diff --exit-code.* rendered\//);
        expect(job.permissions).toBeUndefined();
    });

    test("preview job: after the tests, same-repo PRs only, both stacks previewed with the diff commented on the PR", () => {
        const job = pr.jobs.preview;
        expect(job.needs).toBe("test");
        expect(evaluate(job.if ?? "", { github: { repository: "visualkit/infra", event: { pull_request: { head: { repo: { full_name: "visualkit/infra" } } } } } })).toBe(true);
        expect(evaluate(job.if ?? "", { github: { repository: "visualkit/infra", event: { pull_request: { head: { repo: { full_name: "someone/fork" } } } } } })).toBe(false);
        const previews = pulumiSteps(job);
        expect(previews.map((s) => s.with?.["stack-name"]).sort()).toEqual(["dev", "prod"]);
        for (const s of previews) expect(s.with).toMatchObject({ command: "preview", "comment-on-pr": true });
        const agent = stepIndex(job, (s) => !!s.uses?.startsWith("webfactory/ssh-agent@"));
        expect(agent).toBeGreaterThanOrEqual(0);
        expect(steps(job)[agent].with?.["ssh-private-key"]).toBe("${{ secrets.SSH_DEPLOY_KEY }}");
        expect(agent).toBeLessThan(stepIndex(job, (s) => !!s.uses?.startsWith("pulumi/actions@")));
        expect(job.env).toMatchObject({
            PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
            PULUMI_BACKEND_URL: "${{ secrets.PULUMI_BACKEND_URL }}",
            HCLOUD_TOKEN: "${{ secrets.HCLOUD_TOKEN }}",
            CLOUDFLARE_API_TOKEN: "${{ secrets.CLOUDFLARE_API_TOKEN }}",
        });
    });

    test("preview job posts the committed rendered/ diff against the PR's base as a sticky comment", () => {
        const job = pr.jobs.preview;
        expect(steps(job)[0]).toMatchObject({ uses: expect.stringMatching(/^actions\/checkout@/), with: { "fetch-depth": 0 } });
        const diff = runs(job, /git diff [^\n]*"\$BASE_SHA"\.\.\.HEAD -- rendered\//);
        expect(diff).toBeGreaterThanOrEqual(0);
        expect(steps(job)[diff].env?.BASE_SHA).toBe("${{ github.event.pull_request.base.sha }}");
        const comment = stepIndex(job, (s) => !!s.uses?.startsWith("marocchino/sticky-pull-request-comment@"));
        expect(comment).toBeGreaterThan(diff);
        expect(steps(job)[comment].with).toMatchObject({ header: "rendered-diff", path: "rendered-diff.md" });
    });

    test("preview job comments each stack's monthly cost against the base branch's render", () => {
        const job = pr.jobs.preview;
        const cost = runs(job, "npm run -s cost-diff -- base-rendered rendered dev prod > cost-diff.md");
        expect(cost).toBeGreaterThanOrEqual(0);
        expect(steps(job)[cost].run).toContain('git show "$BASE_SHA:rendered/$stack/cost.md"');
        expect(steps(job)[cost].env?.BASE_SHA).toBe("${{ github.event.pull_request.base.sha }}");
        const comment = steps(job).findIndex((s, i) => i > cost && !!s.uses?.startsWith("marocchino/sticky-pull-request-comment@"));
        expect(steps(job)[comment].with).toMatchObject({ header: "cost", path: "cost-diff.md" });
    });
});

describe("backups.yml", () => {
    const backups = workflows["backups.yml"];
    test("runs nightly after the hosts' backup timer (03:30 UTC + up to 10 min) and by hand", () => {
        expect(Object.keys(backups.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
        const [minute, hour] = (backups.on.schedule as { cron: string }[])[0].cron.split(" ").map(Number);
        expect(hour * 60 + minute).toBeGreaterThan(3 * 60 + 30 + 10 + 30);
        expect(hour).toBeLessThan(12);
    });
    test("the prune job runs the hosts' own retention script with its own key, which the program never sees", () => {
        const job = backups.jobs.prune;
        const settings = steps(job).find((s) => s.name === "settings")!;
        expect(settings.env?.PRUNE_KEY).toBe("${{ secrets.BACKUP_PRUNE_SSH_KEY }}");
        expect(runs(job, /^bash scripts\/host\/backup-prune\.sh$/)).toBeGreaterThan(steps(job).indexOf(settings));
        expect(job.concurrency).toEqual({ group: "backup-prune-${{ matrix.stack }}", "cancel-in-progress": false });
        // The server gets no prune credentials: no config key, no rendered file names it.
        const { KEYS } = require("../config/keys") as { KEYS: { key: string }[] };
        expect(KEYS.filter((k) => /prune/i.test(k.key))).toEqual([]);
    });
});

describe("drift.yml", () => {
    const check = drift.jobs.check;
    const report = drift.jobs.report;

    test("nightly and by hand, nothing else; both stacks, one failing stack does not cancel the other", () => {
        expect(Object.keys(drift.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
        const cron = (drift.on.schedule as { cron: string }[])[0].cron.split(" ");
        expect(cron.slice(2)).toEqual(["*", "*", "*"]);
        // After the hosts' backup timer (03:30 UTC + up to 10 min), so its smoke --backups sees last night's backup.
        expect(Number(cron[1]) * 60 + Number(cron[0])).toBeGreaterThan(3 * 60 + 30 + 10 + 30);
        for (const job of [check, report]) expect(job.strategy).toEqual({ "fail-fast": false, matrix: { stack: ["dev", "prod"] } });
        expect(check.concurrency).toEqual({ group: "pulumi-${{ matrix.stack }}", "cancel-in-progress": false });
    });

    test("check: a refresh preview that fails on any difference, then smoke on the live outputs, both recorded", () => {
        const preview = runs(check, "pulumi preview");
        const text = steps(check)[preview].run ?? "";
        for (const flag of ["--stack \"$STACK\"", "--refresh", "--expect-no-changes", "--policy-pack policy"]) expect(text).toContain(flag);
        expect(text).toContain("set -o pipefail");
        const smoke = runs(check, "npm run -s smoke -- outputs.json");
        expect(steps(check)[smoke].run).toContain('pulumi stack output --json --stack "$STACK" > outputs.json');
        // The backup freshness where the stack has backups (smoke refuses --backups on a stack without them).
        const smokeRun = steps(check)[smoke].run ?? "";
        expect(smokeRun).toContain(`backups=$(jq -r 'if .backups.enabled == true then "--backups" else "" end' outputs.json)`);
        expect(smokeRun).toMatch(/npm run -s smoke -- outputs\.json [^\n]*\$backups/);
        expect(preview).toBeLessThan(smoke);
        for (const i of [preview, smoke]) expect((steps(check)[i] as { "continue-on-error"?: boolean })["continue-on-error"]).toBe(true);
        const upload = stepIndex(check, (s) => !!s.uses?.startsWith("actions/upload-artifact@"));
        expect(upload).toBeGreaterThan(smoke);
        expect(steps(check)[upload].with).toMatchObject({ name: "drift-${{ matrix.stack }}", path: "drift-report/" });
        expect(check.env?.STACK).toBe("${{ matrix.stack }}");
        expect(check.permissions).toBeUndefined();
    });

    test("report: after every finished check, writes issues with the job token and holds no cloud credential", () => {
        expect(report.needs).toBe("check");
        expect(report.if).toBe("${{ !cancelled() }}");
        expect(report.permissions).toEqual({ contents: "read", issues: "write" });
        expect(JSON.stringify(report)).not.toMatch(/HCLOUD|CLOUDFLARE|PULUMI_|AWS_|SSH_DEPLOY_KEY/);
        const issue = runs(report, "npm run -s drift-issue -- --stack");
        expect(steps(report)[issue].env).toEqual({ GITHUB_TOKEN: "${{ secrets.GITHUB_TOKEN }}", STACK: "${{ matrix.stack }}" });
        const download = stepIndex(report, (s) => !!s.uses?.startsWith("actions/download-artifact@"));
        expect(download).toBeGreaterThanOrEqual(0);
        expect(download).toBeLessThan(issue);
    });
});

describe("deploy.yml and pulumi-up.yml", () => {
    const events = {
        "push to main": { github: { event_name: "push", ref: "refs/heads/main" }, inputs: {} },
        "manual prod on main": { github: { event_name: "workflow_dispatch", ref: "refs/heads/main" }, inputs: { stack: "prod" } },
        "manual prod on a branch": { github: { event_name: "workflow_dispatch", ref: "refs/heads/feature" }, inputs: { stack: "prod" } },
        "manual dev": { github: { event_name: "workflow_dispatch", ref: "refs/heads/main" }, inputs: { stack: "dev" } },
    };
    const jobsFor = (ctx: Record<string, unknown>) => Object.entries(deploy.jobs).filter(([, j]) => j.if === undefined || evaluate(j.if, ctx)).map(([id]) => id);

    test("triggers: push to main and the manual run, nothing else", () => {
        expect(Object.keys(deploy.on).sort()).toEqual(["push", "workflow_dispatch"]);
        expect(deploy.on.push).toEqual({ branches: ["main"] });
        expect((deploy.on.workflow_dispatch as { inputs: { stack: { options: string[] } } }).inputs.stack.options.sort()).toEqual(["dev", "prod"]);
    });

    test.each([
        ["push to main", ["dev"]],
        ["manual prod on main", ["prod"]],
        ["manual prod on a branch", []],
        ["manual dev", ["dev"]],
    ] as const)("%s deploys %j", (event, expected) => {
        expect(jobsFor(events[event])).toEqual(expected);
    });

    test("each stack goes through pulumi-up.yml; prod behind the `production` environment", () => {
        expect(deploy.jobs.dev).toMatchObject({ uses: "./.github/workflows/pulumi-up.yml", with: { stack: "dev", environment: "dev" }, secrets: "inherit" });
        expect(deploy.jobs.prod).toMatchObject({ uses: "./.github/workflows/pulumi-up.yml", with: { stack: "prod", environment: "production" }, secrets: "inherit" });
    });

    test("pulumi-up.yml: only callable, gated by the caller's environment, one update per stack at a time", () => {
        expect(Object.keys(up.on)).toEqual(["workflow_call"]);
        const job = up.jobs.up;
        expect(job.environment).toBe("${{ inputs.environment }}");
        expect(job.concurrency).toEqual({ group: "pulumi-${{ inputs.stack }}", "cancel-in-progress": false });
        expect(job.env).toMatchObject({ PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}", HCLOUD_TOKEN: "${{ secrets.HCLOUD_TOKEN }}", CLOUDFLARE_API_TOKEN: "${{ secrets.CLOUDFLARE_API_TOKEN }}" });
    });

    test("pulumi-up.yml: ssh-agent with the deploy key, `pulumi up` of the input stack, then the smoke checker on its outputs", () => {
        const job = up.jobs.up;
        const agent = stepIndex(job, (s) => !!s.uses?.startsWith("webfactory/ssh-agent@"));
        const upStep = stepIndex(job, (s) => !!s.uses?.startsWith("pulumi/actions@"));
        const smoke = runs(job, "npm run -s smoke -- outputs.json");
        expect(steps(job)[upStep].with).toMatchObject({ command: "up", "stack-name": "${{ inputs.stack }}" });
        expect(0 <= agent && agent < upStep && upStep < smoke).toBe(true);
        expect(steps(job)[smoke].run).toContain('pulumi stack output --json --stack "$STACK" > outputs.json');
    });
});

describe("forcing a Janus replacement during calls", () => {
    const dispatch = (force: boolean | undefined) => ({ github: { event_name: "workflow_dispatch", ref: "refs/heads/main" }, inputs: { stack: "prod", ...(force === undefined ? {} : { force_janus_restart: force }) } });
    const passed = (ctx: Record<string, unknown>, job: Job) => evaluate(String(job.with?.["force-janus-restart"]), ctx);

    test("the manual run has an unchecked force_janus_restart box, handed to pulumi-up.yml for either stack", () => {
        const input = (deploy.on.workflow_dispatch as { inputs: Record<string, { type: string; default: unknown }> }).inputs.force_janus_restart;
        expect(input).toMatchObject({ type: "boolean", default: false });
        for (const job of [deploy.jobs.dev, deploy.jobs.prod]) {
            expect(passed(dispatch(true), job)).toBe(true);
            expect(passed(dispatch(false), job)).toBe(false);
            // A push to main has no inputs at all: never forced.
            expect(passed({ github: { event_name: "push", ref: "refs/heads/main" }, inputs: {} }, job)).toBe(false);
        }
    });

    test("pulumi-up.yml sets visualkit:janusForceRestart for that run only, before `pulumi up`, and only when asked", () => {
        const job = up.jobs.up;
        const force = runs(job, "pulumi config set visualkit:janusForceRestart true");
        const upStep = stepIndex(job, (s) => !!s.uses?.startsWith("pulumi/actions@") && s.with?.command === "up");
        expect(0 <= force && force < upStep).toBe(true);
        const cond = (steps(job)[force] as Step & { if?: string }).if!;
        expect(evaluate(cond, { inputs: { "force-janus-restart": true } })).toBe(true);
        expect(evaluate(cond, { inputs: { "force-janus-restart": false } })).toBe(false);
        expect((up.on.workflow_call as { inputs: Record<string, { type: string; default: unknown }> }).inputs["force-janus-restart"]).toMatchObject({ type: "boolean", default: false });
    });
});

describe("janus-image.yml", () => {
    const wf = workflows["janus-image.yml"];
    const job = wf.jobs.build;

    test("rebuilds on changes to images/janus on main, weekly and by hand", () => {
        expect(wf.on.push).toEqual({ branches: ["main"], paths: ["images/janus/**"] });
        expect(wf.on.schedule).toHaveLength(1);
        expect(Object.keys(wf.on).sort()).toEqual(["push", "schedule", "workflow_dispatch"]);
    });

    test("pushes the Dockerfile's Janus version, for both architectures, to ghcr.io with the job's own token", () => {
        const build = steps(job).find((s) => s.uses?.startsWith("docker/build-push-action@"));
        expect(build?.with).toMatchObject({ context: "images/janus", platforms: "linux/amd64,linux/arm64", push: true });
        const dockerfile = readFileSync(join(ROOT, "images/janus/Dockerfile"), "utf8");
        expect(dockerfile).toMatch(/^ARG JANUS_UPSTREAM_VERSION=\d+\.\d+\.\d+$/m);
        expect(steps(job)[runs(job, "JANUS_UPSTREAM_VERSION")].run).toContain('"$image:$version-debian12"');
        expect(steps(job).find((s) => s.uses?.startsWith("docker/login-action@"))?.with).toMatchObject({ registry: "ghcr.io", password: "${{ secrets.GITHUB_TOKEN }}" });
    });
});

describe("release.yml: an app's CI deploys one image", () => {
    const release = workflows["release.yml"];
    const record = release.jobs.record;
    // `needs.record.outputs.stack` as the record step sets it: the payload's stack or dev.
    const jobsAfter = (stack: string) =>
        Object.entries(release.jobs)
            .filter(([id, j]) => id !== "record" && evaluate(String(j.if).replace("needs.record.outputs.stack", "github.stack"), { github: { stack } }))
            .map(([id]) => id);

    test("triggers: repository_dispatch of type deploy and the manual run with stack, service, image", () => {
        expect(Object.keys(release.on).sort()).toEqual(["repository_dispatch", "workflow_dispatch"]);
        expect(release.on.repository_dispatch).toEqual({ types: ["deploy"] });
        const inputs = (release.on.workflow_dispatch as { inputs: Record<string, { options?: string[] }> }).inputs;
        expect(Object.keys(inputs).sort()).toEqual(["image", "service", "stack"]);
        expect(inputs.stack.options!.sort()).toEqual(["dev", "prod"]);
    });

    test("the record step runs the deploy script with --no-up; the payload reaches it only through env", () => {
        const i = runs(record, /npm run -s deploy -- "\$STACK" "\$SERVICE=\$IMAGE" --no-up/);
        expect(i).toBeGreaterThanOrEqual(0);
        const step = steps(record)[i];
        expect(step.env).toEqual({
            STACK: "${{ github.event.client_payload.stack || inputs.stack || 'dev' }}",
            SERVICE: "${{ github.event.client_payload.service || inputs.service }}",
            IMAGE: "${{ github.event.client_payload.image || inputs.image }}",
        });
        for (const s of steps(record)) expect(s.run ?? "").not.toMatch(/\$\{\{/);
        expect(record.concurrency).toEqual({ group: "release-record", "cancel-in-progress": false });
    });

    test.each([
        ["dev", ["dev"]],
        ["prod", ["prod"]],
        ["staging", []],
    ] as const)("a recorded %s deploy runs %j", (stack, expected) => {
        expect(jobsAfter(stack)).toEqual(expected);
    });

    test("each stack applies the deploy commit through pulumi-up.yml; prod behind `production`", () => {
        const ref = "${{ needs.record.outputs.sha }}";
        expect(release.jobs.dev).toMatchObject({ needs: "record", uses: "./.github/workflows/pulumi-up.yml", with: { stack: "dev", environment: "dev", ref }, secrets: "inherit" });
        expect(release.jobs.prod).toMatchObject({ needs: "record", uses: "./.github/workflows/pulumi-up.yml", with: { stack: "prod", environment: "production", ref }, secrets: "inherit" });
        const checkout = steps(up.jobs.up).find((s) => s.uses?.startsWith("actions/checkout@"));
        expect(checkout?.with).toEqual({ ref: "${{ inputs.ref }}" });
        expect((up.on.workflow_call as { inputs: Record<string, { default?: unknown }> }).inputs.ref.default).toBe("");
    });
});

describe("widget-release.yml: the widget CDN's release path", () => {
    const wf = workflows["widget-release.yml"];
    const record = wf.jobs.record;
    const script = require(join(ROOT, "package.json")).scripts["widget-release"] as string;

    test("triggers: repository_dispatch of type widget-release and the manual run (stack, promote or rollback, version, url, sha256)", () => {
        expect(Object.keys(wf.on).sort()).toEqual(["repository_dispatch", "workflow_dispatch"]);
        expect(wf.on.repository_dispatch).toEqual({ types: ["widget-release"] });
        const inputs = (wf.on.workflow_dispatch as { inputs: Record<string, { options?: string[] }> }).inputs;
        expect(Object.keys(inputs).sort()).toEqual(["action", "sha256", "stack", "url", "version"]);
        expect(inputs.action.options).toEqual(["promote", "rollback"]);
    });

    test("the record step runs the script the tests run (test/scripts/widget), the payload only through env, and commits only the record", () => {
        expect(script).toBe("node scripts/run-ts.js scripts/widget-release.ts");
        const i = runs(record, 'npm run -s widget-release -- promote "$STACK" "$VERSION" --url "$URL" --sha256 "$SHA256"');
        expect(i).toBeGreaterThanOrEqual(0);
        const step = steps(record)[i];
        expect(step.run).toContain('npm run -s widget-release -- rollback "$STACK"');
        expect(step.run).toContain('git add "deploy/widget-cdn/$STACK.json"');
        expect(Object.keys(step.env ?? {}).sort()).toEqual(["ACTION", "SHA256", "STACK", "URL", "VERSION"]);
        for (const s of steps(record)) expect(s.run ?? "").not.toMatch(/\$\{\{/);
        expect(record.permissions).toEqual({ contents: "write" });
        expect(wf.permissions).toEqual({ contents: "read" });
        // One push to main at a time, with the image deploys' record job.
        expect(record.concurrency).toEqual(workflows["release.yml"].jobs.record.concurrency);
    });

    test("each stack applies the record commit through pulumi-up.yml, which fetches and verifies the releases before pulumi up", () => {
        const ref = "${{ needs.record.outputs.sha }}";
        expect(wf.jobs.dev).toMatchObject({ needs: "record", if: "needs.record.outputs.stack == 'dev'", uses: "./.github/workflows/pulumi-up.yml", with: { stack: "dev", environment: "dev", ref }, secrets: "inherit" });
        expect(wf.jobs.prod).toMatchObject({ needs: "record", if: "needs.record.outputs.stack == 'prod'", uses: "./.github/workflows/pulumi-up.yml", with: { stack: "prod", environment: "production", ref }, secrets: "inherit" });
        const job = up.jobs.up;
        const fetch = runs(job, 'npm run -s widget-release -- fetch "$STACK"');
        const upStep = stepIndex(job, (s) => s.name === "pulumi up");
        expect(fetch).toBeGreaterThan(stepIndex(job, (s) => s.run === "npm ci"));
        expect(fetch).toBeLessThan(upStep);
        expect(steps(job)[fetch].env).toEqual({ STACK: "${{ inputs.stack }}" });
    });
});

describe("pulumi-up.yml: SSH for a runner without a fixed address", () => {
    const job = up.jobs.up;
    const open = stepIndex(job, (s) => s.name === "open SSH to this runner");
    const close = stepIndex(job, (s) => s.name === "close SSH to this runner");

    test("opened before anything uses SSH, closed as the last step even after a failure, only without PULUMI_RUNNER", () => {
        const agent = stepIndex(job, (s) => !!s.uses?.startsWith("webfactory/ssh-agent@"));
        const upStep = stepIndex(job, (s) => !!s.uses?.startsWith("pulumi/actions@"));
        expect(0 < open && open < agent && agent < upStep && upStep < close).toBe(true);
        expect(close).toBe(steps(job).length - 1);
        expect(steps(job)[open].if).toBe("vars.PULUMI_RUNNER == ''");
        expect(steps(job)[close].if).toBe("always() && vars.PULUMI_RUNNER == ''");
    });

    test("both steps name the same run and stack; the open one gives one address, never a range", () => {
        expect(steps(job)[open].env).toEqual(steps(job)[close].env);
        expect(steps(job)[open].env).toEqual({ STACK: "${{ inputs.stack }}", RUN_ID: "${{ github.run_id }}-${{ github.run_attempt }}" });
        expect(steps(job)[open].run).toContain('npm run -s ssh-window -- open "$STACK" --source "$address" --run-id "$RUN_ID"');
        expect(steps(job)[close].run).toBe('npm run -s ssh-window -- close "$STACK" --run-id "$RUN_ID"');
        for (const f of files) expect(texts[f]).not.toMatch(/0\.0\.0\.0\/0|::\/0/);
    });

    test("drift.yml sweeps expired windows before its refresh", () => {
        const check = drift.jobs.check;
        const sweep = runs(check, 'npm run -s ssh-window -- close "$STACK" --expired');
        expect(sweep).toBeGreaterThanOrEqual(0);
        expect(sweep).toBeLessThan(runs(check, "pulumi preview"));
    });
});
