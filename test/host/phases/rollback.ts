import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseDocument } from "yaml";
import type { RecordedResource } from "../../../mocks/runtime";
import { need, type Context, type Phase } from "../lib/context";
import { imageReferences, type Plan } from "../lib/plan";
import { sleep } from "../lib/proc";
import type { Ssh } from "../lib/ssh";
import { deploy, describe, isContainer, LoadLoop, summarize, type Deployed } from "./rollout";
import { fetchCaddyRoot } from "./smoke";

/**
 * Issue 28 on the real host: `npm run deploy` and `npm run rollback` — the scripts themselves, run as the CLI in a
 * throwaway clone of this repository with its own bare origin (as test/scripts/deploy/cli.test.ts does), `--no-up` —
 * write the stack file, the history and the render and push the commit; what they committed is then applied to the
 * native host as `pulumi up` would (rollout.ts's deploy: every changed container replaced in dependency order, the
 * standby before the primary) under the load loop through Caddy. platform-api goes from the release the host runs
 * (the rollout's last) to 1.0.1 (deploy) and back (rollback, the reference the history recorded): 0 failed requests,
 * the body's version switches each time, and the rollback needs no image the host does not already have.
 *
 * Images on the host follow the provider: a RemoteImage replaced (new name) is deleted, which for the Docker provider
 * is `docker rmi <name>` unless `keepLocally` is set (terraform-provider-docker resource_docker_image_funcs.go,
 * resourceDockerImageDelete). So the check "the rollback pulls nothing" fails if lib/containers.ts stops keeping
 * images: the deploy would have removed the previous release and the rollback would need it again (here: a stand-in built again;
 * on a server: a registry pull).
 */

const KEY = "visualkit:imagePlatformApi";
const REPOSITORY = "ghcr.io/visualkit/platform-api";
/** A full version tag: the deploy script refuses moving ones. The stand-in answers with its tag as the version. */
const NEXT = `${REPOSITORY}:1.0.1`;

interface ScriptRun {
    readonly steps: Map<string, number>;
    readonly total: number;
    readonly out: string;
}

/**
 * A clone of the repository's files (tracked and untracked, as cli.test.ts copies them) with a bare origin of its own,
 * whose main names `running` (what the host runs now) as platform-api's image, rendered: the state a deploy starts from.
 */
function makeCheckout(ctx: Context, dir: string, running: string): string {
    const repo = join(dir, "infra");
    // The tier runs as root on a checkout another user may own: git would refuse it as "dubious ownership".
    const files = spawnSync("git", ["-c", "safe.directory=*", "-C", ctx.root, "ls-files", "-co", "--exclude-standard"], { encoding: "utf8" });
    if (files.status !== 0) throw new Error(`git ls-files in ${ctx.root}: ${files.stderr}`);
    for (const f of files.stdout.split("\n").filter(Boolean)) {
        if (f.startsWith("node_modules/")) continue;
        mkdirSync(dirname(join(repo, f)), { recursive: true });
        try {
            cpSync(join(ctx.root, f), join(repo, f));
        } catch {
            // deleted in the work tree but still in the index
        }
    }
    symlinkSync(join(ctx.root, "node_modules"), join(repo, "node_modules"));
    const git = (cwd: string | undefined, ...args: string[]) => {
        const res = spawnSync("git", cwd ? ["-C", cwd, ...args] : args, { encoding: "utf8" });
        if (res.status !== 0) throw new Error(`git ${args.join(" ")}: ${res.stderr}`);
    };
    git(undefined, "init", "-q", "--bare", "-b", "main", join(dir, "origin.git"));
    git(undefined, "init", "-q", "-b", "main", repo);
    git(repo, "config", "user.email", "host-tier@example.com");
    git(repo, "config", "user.name", "host tier");
    const stackFile = join(repo, "Pulumi.dev.yaml");
    const doc = parseDocument(readFileSync(stackFile, "utf8"));
    doc.setIn(["config", KEY], running);
    writeFileSync(stackFile, doc.toString({ lineWidth: 0 }));
    const render = spawnSync(process.execPath, [join(repo, "scripts", "run-ts.js"), join(repo, "scripts", "render.ts"), "dev"], { cwd: repo, encoding: "utf8", timeout: 5 * 60_000 });
    if (render.status !== 0) throw new Error(`npm run render -- dev in the clone: ${render.stderr || render.stdout}`);
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", `initial: platform-api ${running}`);
    git(repo, "remote", "add", "origin", join(dir, "origin.git"));
    git(repo, "push", "-q", "origin", "main");
    return repo;
}

/** Runs `npm run deploy|rollback -- …` (the script, as package.json runs it) in the clone; returns its step times. */
function runScript(repo: string, script: "deploy" | "rollback", args: string[]): ScriptRun {
    const res = spawnSync(process.execPath, [join(repo, "scripts", "run-ts.js"), join(repo, "scripts", `${script}.ts`), ...args], { cwd: repo, encoding: "utf8", timeout: 10 * 60_000 });
    const out = `${res.stdout}${res.stderr}`;
    if (res.status !== 0) throw new Error(`npm run ${script} -- ${args.join(" ")} exited ${res.status}:\n${out}`);
    const steps = new Map<string, number>();
    let total = NaN;
    for (const line of out.slice(out.indexOf("\nsteps:")).split("\n")) {
        const m = /^ {2}(\S.*?)\s+(\d+\.\d) s/.exec(line);
        if (!m) continue;
        if (m[1] === "total") total = Number(m[2]);
        else steps.set(m[1], Number(m[2]));
    }
    if (!Number.isFinite(total)) throw new Error(`npm run ${script} printed no step times:\n${out}`);
    return { steps, total, out };
}

/** What the clone's main now says platform-api runs: the stack file's key and the committed render's image. */
function committed(repo: string): { stackFile: string | undefined; renderImages: string[] } {
    const doc = parseDocument(readFileSync(join(repo, "Pulumi.dev.yaml"), "utf8"));
    const resources = JSON.parse(readFileSync(join(repo, "rendered", "dev", "resources.json"), "utf8")) as { type: string; inputs?: { name?: unknown } }[];
    const renderImages = resources.filter((r) => r.type === "docker:index/remoteImage:RemoteImage" && String(r.inputs?.name ?? "").startsWith(`${REPOSITORY}:`)).map((r) => String(r.inputs!.name));
    const v = doc.getIn(["config", KEY]);
    return { stackFile: v === undefined ? undefined : String(v), renderImages };
}

/** The image references platform-api's containers of `plan` run. */
function serviceImages(plan: Plan): string[] {
    const refs = imageReferences(plan);
    return [...new Set(plan.resources.filter((r) => isContainer(r) && String(r.rawInputs.name).startsWith("platform-api")).map((r) => refs.get(String(r.rawInputs.image)) ?? "?"))];
}

/** Image references of `plan` that the host does not have: what `pulumi up` would pull. */
async function missingImages(ssh: Ssh, plan: Plan): Promise<string[]> {
    const missing: string[] = [];
    for (const ref of new Set(imageReferences(plan).values())) {
        if ((await ssh.exec(`docker image inspect ${ref} >/dev/null 2>&1`)).code !== 0) missing.push(ref);
    }
    return missing;
}

/**
 * The provider's side of a replaced RemoteImage: its delete removes the old image unless `keepLocally`. Returns the
 * references kept and removed.
 */
async function settleImages(ssh: Ssh, before: Plan, after: Plan): Promise<{ kept: string[]; removed: string[] }> {
    const images = (p: Plan) => new Map(p.ofType("docker:index/remoteImage:RemoteImage").map((r: RecordedResource) => [r.name, r]));
    const next = images(after);
    const kept: string[] = [];
    const removed: string[] = [];
    for (const [name, r] of images(before)) {
        const ref = String(r.rawInputs.name);
        if (String(next.get(name)?.rawInputs.name) === ref) continue;
        if (r.rawInputs.keepLocally === true) kept.push(ref);
        else {
            await ssh.exec(`docker rmi ${ref} >/dev/null 2>&1`);
            removed.push(ref);
        }
    }
    return { kept, removed };
}

const stepLine = (r: ScriptRun) => [...r.steps].map(([n, s]) => `${n} ${s.toFixed(1)} s`).join(", ");

export const rollback: Phase = {
    name: "npm run deploy, then npm run rollback: applied under load, 0 failed requests, the rollback pulls nothing",
    tag: "rollback",
    timeoutMs: 30 * 60_000,
    critical: false,
    async run(ctx) {
        const ssh = need(ctx.ssh, "SSH");
        const port = need(ctx.httpsPort, "the forwarded HTTPS port");
        let plan = need(ctx.plan, "the plan");
        const check = ((plan.outputs as { healthChecks?: { name: string; url: string }[] }).healthChecks ?? []).find((c) => c.name === "api");
        if (!check) throw new Error("the plan's outputs have no health check named api");
        const url = new URL(check.url);
        const ca = readFileSync(await fetchCaddyRoot(ctx), "utf8");
        const deployed: Deployed = new Map(plan.resources.filter(isContainer).map((r) => [String(r.rawInputs.name), r]));
        const dir = join(ctx.dir, "deploy-checkout");
        const problems: string[] = [];
        try {
            // The rollback goes back to what the host runs now (the rollout's last release): main names it as a
            // deploy would have left it, so the history's first entry is the deploy below and its `from` is that.
            const running = serviceImages(plan);
            if (running.length !== 1) throw new Error(`platform-api's copies run ${running.join(", ")}, not one release`);
            const RELEASES = { previous: running[0], next: NEXT } as const;
            const repo = makeCheckout(ctx, dir, RELEASES.previous);

            /** One script run, then its commit applied to the host; the seconds of each. */
            const release = async (script: "deploy" | "rollback", args: string[], expect: string) => {
                const run = runScript(repo, script, [...args, "--no-up"]);
                const now = committed(repo);
                if (now.stackFile !== expect) problems.push(`after npm run ${script} the stack file's ${KEY} is ${now.stackFile}, not ${expect}`);
                if (!now.renderImages.includes(expect)) problems.push(`after npm run ${script} the committed render names ${now.renderImages.join(", ")}, not ${expect}`);
                // The host tier's render of the same stack file (its test overrides beside it), as pulumi up would run it.
                const next = await ctx.render({ imagePlatformApi: now.stackFile });
                const images = serviceImages(next);
                if (images.join(",") !== expect) problems.push(`the render of the committed stack file runs platform-api on ${images.join(", ")}, not ${expect}`);
                const missing = await missingImages(ssh, next);
                const t0 = Date.now();
                const replaced = await deploy(ctx, deployed, next);
                const images2 = await settleImages(ssh, plan, next);
                const apply = (Date.now() - t0) / 1000;
                plan = next;
                ctx.plan = next;
                ctx.log(`npm run ${script} -- ${args.join(" ")}: ${stepLine(run)}, total ${run.total.toFixed(1)} s; applied in ${apply.toFixed(0)} s (replaced ${replaced.join(", ")}; needed on the host first: ${missing.join(", ") || "nothing"}; images kept: ${images2.kept.join(", ") || "none"}, removed: ${images2.removed.join(", ") || "none"})`);
                return { run, apply, missing, replaced };
            };

            const loop = new LoadLoop({ port, host: url.hostname, path: url.pathname, ca });
            await sleep(3000);
            const up = await release("deploy", ["dev", `platform-api=${RELEASES.next}`], RELEASES.next);
            await sleep(3000);
            const afterDeploy = loop.count;
            const back = await release("rollback", ["dev", "platform-api"], RELEASES.previous);
            await sleep(3000);
            await loop.stop();

            const v = (ref: string) => ref.split(":").pop()!;
            const forward = summarize(loop.samples.slice(0, afterDeploy), v(RELEASES.previous), v(RELEASES.next));
            const backward = summarize(loop.samples.slice(afterDeploy), v(RELEASES.next), v(RELEASES.previous));
            ctx.log(`deploy ${v(RELEASES.previous)} → ${v(RELEASES.next)}: ${describe(forward)}`);
            ctx.log(`rollback ${v(RELEASES.next)} → ${v(RELEASES.previous)}: ${describe(backward)}`);
            for (const [what, w, from, to] of [["deploy", forward, RELEASES.previous, RELEASES.next], ["rollback", backward, RELEASES.next, RELEASES.previous]] as const) {
                if (w.requests === 0) problems.push(`no request was sampled during the ${what}`);
                if (w.failures.length > 0) problems.push(`${w.failures.length} requests failed during the ${what}: ${[...new Set(w.failures)].slice(0, 3).join("; ")}`);
                if (!w.versions[v(from)] || !w.versions[v(to)]) problems.push(`during the ${what} the body did not switch from ${v(from)} to ${v(to)}: ${JSON.stringify(w.versions)}`);
                if (w.backwards > 0) problems.push(`${w.backwards} responses of ${v(from)} after ${v(to)} had answered during the ${what}`);
            }
            if (up.replaced.join(",") !== "platform-api-standby,platform-api") problems.push(`the deploy replaced ${up.replaced.join(", ")}, not the standby and then the primary`);
            if (back.replaced.join(",") !== "platform-api-standby,platform-api") problems.push(`the rollback replaced ${back.replaced.join(", ")}, not the standby and then the primary`);
            // The deploy needed a new image (so the check sees one); the rollback must find its image still there.
            if (!up.missing.includes(RELEASES.next)) problems.push(`the deploy of ${RELEASES.next} found it already on the host: the pull check proves nothing`);
            if (back.missing.length > 0) problems.push(`the rollback needed ${back.missing.join(", ")} on the host again (a pull): the replaced image was not kept (keepLocally)`);

            const deploySeconds = up.run.total + up.apply;
            const rollbackSeconds = back.run.total + back.apply;
            ctx.log(`image update: npm run deploy ${up.run.total.toFixed(1)} s + applied ${up.apply.toFixed(0)} s = ${deploySeconds.toFixed(0)} s; rollback ${back.run.total.toFixed(1)} s + ${back.apply.toFixed(0)} s = ${rollbackSeconds.toFixed(0)} s`);
            ctx.figure("deploy: script", up.run.total);
            ctx.figure("deploy: applied", up.apply);
            ctx.figure("rollback: script", back.run.total);
            ctx.figure("rollback: applied", back.apply);
            // The README's figure (docs/deploy.md "How long an image update takes"): script plus apply, one line.
            ctx.figure("image update (deploy script + applied)", deploySeconds);
            ctx.figure("image rollback (script + applied)", rollbackSeconds);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
        if (problems.length > 0) throw new Error(problems.join("; "));
    },
};
