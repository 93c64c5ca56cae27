import { readFileSync } from "node:fs";
import { join } from "node:path";
import { shellQuote } from "../../../lib/shipped";
import type { RecordedResource } from "../../../mocks/runtime";
import { need, type Context, type Phase } from "../lib/context";
import { containerRequest, networkRequest } from "../lib/docker";
import { imageChanges } from "../lib/images";
import { afterContainers, imageReferences, runInDependencyOrder, type Plan } from "../lib/plan";
import { COMMAND_TYPES, replayCommand } from "../lib/remote";
import { sleep } from "../lib/proc";
import type { Ssh } from "../lib/ssh";

/** The imported Debian root file system every stand-in image is committed from. */
export const BASE_IMAGE = "visualkit-host-test/rootfs:debian12";

/** One Engine API call over SSH (curl on the host's docker.sock); returns the parsed body, fails on a non-2xx. */
async function engine(ssh: Ssh, method: string, path: string, body?: Buffer | Record<string, unknown>): Promise<unknown> {
    const isTar = Buffer.isBuffer(body);
    const data = body === undefined ? undefined : isTar ? body : Buffer.from(JSON.stringify(body));
    const type = isTar ? "application/x-tar" : "application/json";
    const out = await ssh.ok(
        `curl -sS --unix-socket /var/run/docker.sock -X ${method} -H 'Content-Type: ${type}' ${data ? "--data-binary @-" : ""} -w '\\n%{http_code}' 'http://localhost${path}'`,
        { stdin: data },
    );
    const lines = out.trimEnd().split("\n");
    const status = Number(lines.pop());
    const text = lines.join("\n");
    if (status < 200 || status > 299) throw new Error(`Engine API ${method} ${path}: ${status} ${text}`);
    try {
        return text ? JSON.parse(text) : undefined;
    } catch {
        return text;
    }
}

/**
 * Tags, on the imported root file system, every image reference of `plan` the host does not have yet, shaped as that
 * image is (test/host/lib/images.ts). A later render with a new tag (a new release) gets its image the same way.
 */
export async function tagImages(ctx: Context, plan: Plan): Promise<void> {
    const ssh = need(ctx.ssh, "SSH");
    const refs = imageReferences(plan);
    for (const ref of new Set(refs.values())) {
        if ((await ssh.exec(`docker image inspect ${ref} >/dev/null 2>&1`)).code === 0) continue;
        const changes = imageChanges(ctx.root, plan, ref, refs);
        const quoted = changes.map((c) => `--change ${shellQuote(c)}`).join(" ");
        await ssh.ok(`set -e; c=$(docker create ${BASE_IMAGE} /bin/true); docker commit ${quoted} "$c" ${ref} >/dev/null; docker rm "$c" >/dev/null`);
        ctx.log(`${ref}: ${changes.join("; ")}`);
    }
}

export const dockerImages: Phase = {
    name: "import the test images on the host's Docker engine",
    tag: "import",
    timeoutMs: 20 * 60_000,
    async run(ctx) {
        const ssh = need(ctx.ssh, "SSH");
        const plan = need(ctx.plan, "the plan");
        const rootfs = join(need(need(ctx.images, "the images").apps, "the apps image"), "rootfs.tar");
        const started = Date.now();
        // Streamed through the agent's SSH login, as an image reaches a server that cannot pull it.
        if ((await ssh.exec(`docker image inspect ${BASE_IMAGE} >/dev/null 2>&1`)).code !== 0) {
            await ssh.ok(`docker import - ${BASE_IMAGE} >/dev/null`, { stdinFile: rootfs, timeoutMs: this.timeoutMs });
        }
        ctx.log(`imported the Debian root file system in ${Math.round((Date.now() - started) / 1000)} s`);
        await tagImages(ctx, plan);
        ctx.figure("replay", (Date.now() - started) / 1000);
    },
};

/** Polls the container until Docker reports it healthy; fails at once on unhealthy or exited, with its logs. */
export async function waitHealthy(ssh: Ssh, name: string, seconds: number): Promise<number> {
    const started = Date.now();
    for (;;) {
        const state = (await ssh.ok(`docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' ${name}`)).trim();
        if (state === "running healthy") return (Date.now() - started) / 1000;
        if (state.startsWith("exited") || state.startsWith("restarting") || state.endsWith("unhealthy") || Date.now() - started > seconds * 1000) {
            const logs = await ssh.exec(`docker logs --tail 200 ${name} 2>&1; docker inspect -f '{{json .State.Health}}' ${name}`);
            throw new Error(`${name} is "${state}" after ${Math.round((Date.now() - started) / 1000)} s (limit ${seconds} s):\n${logs.stdout}`);
        }
        await sleep(3000);
    }
}

/** Creates one network or container as the Docker provider would, and waits as its `wait` does. */
/** Which resource limits the host's Docker engine can enforce (`docker info`): each needs its cgroup controller. */
interface EngineLimits {
    readonly cpu: boolean;
    readonly memory: boolean;
    readonly pids: boolean;
}
const engineLimits = new WeakMap<Ssh, Promise<EngineLimits>>();
export function limitsOf(ctx: Context, ssh: Ssh): Promise<EngineLimits> {
    let p = engineLimits.get(ssh);
    if (!p) {
        p = ssh.ok("docker info --format '{{.CPUCfsQuota}} {{.MemoryLimit}} {{.PidsLimit}}'").then((out) => {
            const [cpu, memory, pids] = out.trim().split(" ").map((v) => v === "true");
            const missing = [!cpu && "CPU quota", !memory && "memory", !pids && "pids"].filter(Boolean);
            // The native host shares this machine's kernel: on a cgroup v1 machine its unified hierarchy has no
            // controllers, so Docker refuses NanoCPUs there. The limits themselves are proven against a real engine on
            // this machine (test/components/container-limits-docker.test.ts); here they are left out, and said so.
            if (missing.length > 0) ctx.log(`this host's engine cannot enforce ${missing.join(", ")} limits (no cgroup controller): created without them`);
            return { cpu, memory, pids };
        });
        engineLimits.set(ssh, p);
    }
    return p;
}

/** A create request without the limits the engine cannot enforce (it would refuse the container). */
export function withinHostLimits(body: Record<string, unknown>, limits: EngineLimits): Record<string, unknown> {
    const host = { ...(body.HostConfig as Record<string, unknown>) };
    if (!limits.cpu) delete host.NanoCpus;
    if (!limits.memory) (delete host.Memory, delete host.MemorySwap);
    if (!limits.pids) delete host.PidsLimit;
    return { ...body, HostConfig: host };
}

export async function createResource(ctx: Context, r: RecordedResource, refs: Map<string, string>): Promise<void> {
    const ssh = need(ctx.ssh, "SSH");
    if (r.type === "docker:index/network:Network") {
        const req = networkRequest(r.rawInputs);
        await engine(ssh, "POST", "/networks/create", req.body);
        ctx.log(`network ${req.name} created`);
        return;
    }
    const req = containerRequest(
        r.rawInputs,
        (id) => refs.get(id) ?? id,
        (path) => readFileSync(path),
    );
    await engine(ssh, "POST", `/containers/create?name=${encodeURIComponent(req.name)}`, withinHostLimits(req.body as Record<string, unknown>, await limitsOf(ctx, ssh)));
    for (const c of req.connect) await engine(ssh, "POST", `/networks/${encodeURIComponent(c.network)}/connect`, c.body);
    if (req.archive) await engine(ssh, "PUT", `/containers/${encodeURIComponent(req.name)}/archive?path=/`, req.archive);
    await engine(ssh, "POST", `/containers/${encodeURIComponent(req.name)}/start`);
    if (req.runToExit) {
        const code = (await ssh.ok(`docker wait ${req.name}`, { timeoutMs: 10 * 60_000 })).trim();
        const logs = (await ssh.ok(`docker logs --tail 20 ${req.name} 2>&1`)).trim();
        if (code !== "0") throw new Error(`${req.name} exited ${code}:\n${logs}`);
        ctx.log(`${req.name} ran to exit 0: ${logs.split("\n").pop()}`);
        return;
    }
    if (req.waitHealthySeconds !== undefined) {
        const s = await waitHealthy(ssh, req.name, req.waitHealthySeconds);
        ctx.log(`${req.name} healthy after ${s.toFixed(0)} s (the program allows ${req.waitHealthySeconds} s)`);
    }
}

/** A remote step after a container; a pids limit is skipped, and said so, where the engine cannot enforce one. */
export async function lateCommand(ctx: Context, r: RecordedResource): Promise<void> {
    const ssh = need(ctx.ssh, "SSH");
    if (String(r.rawInputs.create ?? "").startsWith("docker update --pids-limit") && !(await limitsOf(ctx, ssh)).pids) {
        ctx.log(`${r.name} skipped: this host's engine cannot enforce a pids limit`);
        return;
    }
    const t0 = Date.now();
    const out = await replayCommand(ssh, r);
    ctx.log(`${r.name} ok in ${((Date.now() - t0) / 1000).toFixed(1)} s${out.stdout.trim() ? `: ${out.stdout.trim().split("\n").pop()}` : ""}`);
}

export const dockerServices: Phase = {
    name: "networks and containers as resources.json defines them, healthy",
    tag: "containers",
    timeoutMs: 25 * 60_000,
    // Smoke and the reboot still say what works when one container does not.
    critical: false,
    async run(ctx) {
        const plan = need(ctx.plan, "the plan");
        const refs = imageReferences(plan);
        const started = Date.now();
        // Like the engine: a failed resource fails the run, but the ones not depending on it are still created.
        const failed: string[] = [];
        const isDocker = (r: RecordedResource) => r.type === "docker:index/network:Network" || r.type === "docker:index/container:Container";
        // The remote steps that come after a container (its pids limit) run here, each once what it needs exists.
        const isLateCommand = (r: RecordedResource) => COMMAND_TYPES.includes(r.type) && afterContainers(plan, r);
        await runInDependencyOrder(plan, (r) => isDocker(r) || isLateCommand(r), (r) =>
            (isLateCommand(r) ? lateCommand(ctx, r) : createResource(ctx, r, refs)).catch((e: Error) => {
                failed.push(`${r.name}: ${e.message}`);
                const lines = e.message.split("\n");
                ctx.log(`✘ ${[lines[0], ...lines.slice(1).slice(-60)].join("\n      ")}`);
                throw e;
            }),
        ).catch(() => undefined);
        ctx.figure("replay", (Date.now() - started) / 1000);
        if (failed.length > 0) throw new Error(failed.map((f) => f.split("\n")[0]).join("; "));
    },
};

/** Deletes a container as the Docker provider does: stop with its destroy grace (SIGTERM, then SIGKILL), then remove. */
export async function deleteContainer(ssh: Ssh, r: RecordedResource): Promise<void> {
    const name = String(r.rawInputs.name);
    const grace = Number(r.rawInputs.destroyGraceSeconds ?? 0);
    await ssh.ok(`docker stop -t ${grace} ${name} >/dev/null && docker rm -v ${name} >/dev/null`, { timeoutMs: (grace + 120) * 1000 });
}
