import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { shellQuote } from "../../../lib/shipped";
import { EMPTY_STATE, modelEffects, newHost, up, type State } from "../../sequence/engine";
import { STACK_IMAGES, type ScenarioUp } from "../../sequence/scenarios";
import { need, type Context } from "./context";
import { readBackHealthchecks } from "./host-effects";
import { imageChanges } from "./images";
import { imageReferences, type Plan } from "./plan";
import { SshAgent, type Ssh } from "./ssh";
import { BASE_IMAGE } from "../phases/docker";

/**
 * What the sequence phase (phases/sequence.ts) needs around the engine model on the native host: the host conditions
 * of a scenario's up (stand-in images that never turn healthy or whose migration fails), the state for what the host
 * runs, a real second key pair.
 */

const CONTAINER = "docker:index/container:Container";

export type Kind = "normal" | "broken" | "failing";

/** The Docker names of Chatwoot's containers and its gate, whose shape must be the same in both renders. */
export function chatwootShape(stack: "dev" | "prod"): string {
    const list = JSON.parse(readFileSync(join(__dirname, "..", "..", "..", "rendered", stack, "resources.json"), "utf8")) as { type: string; name: string; inputs: Record<string, unknown>; options?: Record<string, unknown> }[];
    const norm = (v: unknown) => JSON.stringify(v ?? null).replaceAll(`visualkit-${stack}-`, "visualkit-<stack>-");
    return list
        .filter((r) => /chatwoot-(prepare|rails|rails-standby|sidekiq|migrated)$/.test(r.name))
        .map((r) => `${norm(r.name)} ${norm(r.options)} attach=${String(r.inputs.attach)} wait=${String(r.inputs.wait)}`)
        .sort()
        .join("\n");
}

/** A stand-in image of `kind` tagged as `ref` (test/host/lib/images.ts's shape, committed from the imported root fs). */
async function tagAs(ctx: Context, plan: Plan, ref: string, kind: Kind): Promise<void> {
    const ssh = need(ctx.ssh, "SSH");
    let changes = imageChanges(ctx.root, plan, ref, imageReferences(plan));
    // A release that never turns healthy: its process exits at start, so Docker restarts it (unless-stopped) and no
    // health check ever passes; the tier's wait sees "restarting" at once instead of waiting out three intervals.
    if (kind === "broken") changes = [...changes.filter((c) => !c.startsWith("CMD ")), `CMD ["sh","-c","echo 'stand-in: this release never turns healthy' >&2; exit 1"]`];
    const quoted = changes.map((c) => `--change ${shellQuote(c)}`).join(" ");
    // A Chatwoot whose migration fails: the program names the image's own entry point (docker/entrypoints/rails.sh,
    // relative to WORKDIR /app), so that file is replaced: `db:chatwoot_prepare` exits 1, anything else starts as before.
    const entry = kind === "failing" ? FAILING_RAILS_SH : undefined;
    const prepare = entry ? `sh -c 'cat >/app/docker/entrypoints/rails.sh && chmod 0755 /app/docker/entrypoints/rails.sh'` : "/bin/true";
    await ssh.ok(`set -e; c=$(docker create -i ${BASE_IMAGE} ${prepare}); ${entry ? 'docker start -ai "$c" >/dev/null; ' : ""}docker commit ${quoted} "$c" ${shellQuote(ref)} >/dev/null; docker rm "$c" >/dev/null`, { stdin: entry });
}

const FAILING_RAILS_SH = `#!/bin/sh
# Stand-in for a Chatwoot release whose database migration fails (test/host/lib/sequence-host.ts).
case "$*" in *db:chatwoot_prepare*) echo "stand-in: migration failed" >&2; exit 1;; esac
exec "$@"
`;

/** What the host has under each reference; a change of kind tags it again (running containers keep their image). */
const tagged = new Map<string, Kind>();
export async function meetConditions(ctx: Context, plan: Plan, u: ScenarioUp): Promise<void> {
    const ssh = need(ctx.ssh, "SSH");
    for (const ref of new Set(imageReferences(plan).values())) {
        const kind: Kind = u.brokenImages?.includes(ref) ? "broken" : u.failingJobs?.includes(ref) ? "failing" : "normal";
        if (!tagged.has(ref) && kind === "normal" && (await ssh.exec(`docker image inspect ${shellQuote(ref)} >/dev/null 2>&1`)).code === 0) tagged.set(ref, "normal");
        if (tagged.get(ref) === kind) continue;
        await tagAs(ctx, plan, ref, kind);
        tagged.set(ref, kind);
        ctx.log(`  ${ref}: tagged as a ${kind} stand-in`);
    }
}

/** The state `pulumi up` would hold for what the host runs: the first deploy recorded, health checks read back from the engine (R1). */
export async function stateOfHost(ctx: Context, plan: Plan): Promise<State> {
    const first = await up(EMPTY_STATE, plan.resources, modelEffects(newHost()));
    if (first.error) throw new Error(`the model's first deploy of the host's render failed: ${first.error}`);
    const containers = [...first.state.live.values()].filter((r) => r.type === CONTAINER && r.inputs.attach !== true);
    const real = await readBackHealthchecks(need(ctx.ssh, "SSH"), containers.map((r) => String(r.inputs.name)));
    const live = new Map(first.state.live);
    for (const r of containers) {
        const hc = real.get(String(r.inputs.name));
        if (hc && r.inputs.healthcheck) live.set(r.name, { ...r, inputs: { ...r.inputs, healthcheck: { ...(r.inputs.healthcheck as object), ...hc } } });
    }
    // Like `pulumi refresh`: a container that runs another image than the render says (a held host after an
    // interrupted attempt) is recorded as it is, so the next up replaces it.
    const refs = imageReferences(plan);
    const running = await need(ctx.ssh, "SSH").ok(`docker inspect -f '{{.Name}} {{.Config.Image}}' ${containers.map((r) => String(r.inputs.name)).join(" ")}`);
    for (const line of running.trim().split("\n")) {
        const [name, ref] = line.trim().replace(/^\//, "").split(" ");
        const r = [...live.values()].find((x) => x.type === CONTAINER && x.inputs.name === name);
        if (r && refs.get(String(r.inputs.image)) !== ref) {
            live.set(r.name, { ...r, inputs: { ...r.inputs, image: `refreshed:${ref}` } });
            ctx.log(`refresh: ${name} runs ${ref}, not ${refs.get(String(r.inputs.image))}`);
        }
    }
    return { live, pendingDelete: [] };
}

/** The image overrides that make the render name what the host's containers run (like a `pulumi refresh`). */
export async function runningImages(ssh: Ssh): Promise<Record<string, string>> {
    const of: Record<string, string> = { imagePlatformApi: "platform-api", imageVkAgent: "vk-agent", imageJanus: "janus-gateway", imageChatwoot: "chatwoot-rails" };
    const set: Record<string, string> = {};
    for (const [key, name] of Object.entries(of)) {
        const ref = (await ssh.ok(`docker inspect -f '{{.Config.Image}}' ${name}`)).trim();
        if (ref !== STACK_IMAGES.dev[key as keyof (typeof STACK_IMAGES)["dev"]]) set[key] = ref;
    }
    return set;
}

/** A real ed25519 key pair: the private half for the render's secret, an agent holding it for the login it makes. */
export async function newKeyPair(ctx: Context): Promise<{ privateKey: string; publicKey: string; agent: SshAgent }> {
    const file = join(ctx.dir, "sequence-rotated-key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "visualkit-host-test-rotated", "-f", file]);
    const privateKey = readFileSync(file, "utf8");
    const publicKey = readFileSync(`${file}.pub`, "utf8").trim();
    const agent = await SshAgent.start(ctx.dir, "sequence-rotated");
    execFileSync("ssh-add", ["-q", file], { env: { ...process.env, SSH_AUTH_SOCK: agent.socket } });
    rmSync(file);
    rmSync(`${file}.pub`);
    agent.publicKeys.set("rotated", publicKey);
    return { privateKey, publicKey, agent };
}

