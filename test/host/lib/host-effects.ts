import { spawnSync } from "node:child_process";
import { shellQuote } from "../../../lib/shipped";
import type { RecordedResource } from "../../../mocks/runtime";
import { formatGoDuration } from "../../../lib/go-duration";
import type { Effects, Inputs, Outcome, StateResource } from "../../sequence/engine";
import { need, type Context } from "./context";
import { replayCommand } from "./remote";
import type { Ssh } from "./ssh";
import { createResource, deleteContainer, limitsOf } from "../phases/docker";

/**
 * The providers' side of each step of the sequence model (test/sequence/engine.ts `Effects`) played on the native
 * host's real Docker engine and sshd, so `up()` keeps the engine's order while every create, update and delete is the
 * real one: containers and networks through the same helpers as the containers phase (phases/docker.ts), remote
 * commands through the SSH login their `connection` names (lib/remote.ts), deletes as the providers do them.
 */

const CONTAINER = "docker:index/container:Container";
const NETWORK = "docker:index/network:Network";
const IMAGE = "docker:index/remoteImage:RemoteImage";
const REMOTE = "command:remote:Command";
const LOCAL = "command:local:Command";
const COPY = "command:remote:CopyToRemote";

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0];

export interface HostEffectsOptions {
    /** The login a remote step's `connection` makes: its `privateKey` when set (a key the phase holds), else the agent's. */
    sshFor(connection: unknown): Ssh;
    /** The Docker provider's login: always the user's ssh-agent (docs/ssh.md), whichever key that holds now. */
    docker(): Ssh;
}

/** Runs a local Command as @pulumi/command does: `create` in a shell, `environment` added to this process's. */
function runLocal(g: { rawInputs: Inputs; name: string }): Outcome {
    const env = { ...process.env, ...((g.rawInputs.environment as Record<string, string> | undefined) ?? {}) };
    const res = spawnSync("sh", ["-c", String(g.rawInputs.create ?? "true")], { env, encoding: "utf8", timeout: 60_000 });
    return res.status === 0 ? { ok: true } : { ok: false, detail: `${g.name} exited ${res.status}: ${(res.stderr + res.stdout).trim().slice(0, 200)}` };
}

async function remote(ctx: Context, opts: HostEffectsOptions, g: RecordedResource): Promise<Outcome> {
    const ssh = opts.sshFor(g.rawInputs.connection);
    // A pids limit the host's engine cannot enforce is skipped, as the containers phase does (phases/docker.ts lateCommand).
    if (String(g.rawInputs.create ?? "").startsWith("docker update --pids-limit") && !(await limitsOf(ctx, need(ctx.ssh, "SSH"))).pids) return { ok: true };
    try {
        await replayCommand(ssh, g);
        return { ok: true };
    } catch (e) {
        // Its first line names the step, its last what went wrong (ssh's "Permission denied (publickey)", a script's error).
        const lines = (e instanceof Error ? e.message : String(e)).trim().split("\n");
        return { ok: false, detail: lines.length > 1 ? `${lines[0]} ${lines[lines.length - 1]}` : lines[0] };
    }
}

export function hostEffects(ctx: Context, opts: HostEffectsOptions): Effects {
    // Docker steps log in as the provider does; the helpers they share with the containers phase take it from ctx.
    const docker = () => ({ ssh: opts.docker(), ctx: { ...ctx, ssh: opts.docker() } });
    // The engine model asks after every step; a step that touched no container changes nothing Docker reports,
    // except over time (a health check): asked again after a container step or 5 s, not 100 SSH calls per no-op up.
    let known: { at: number; names: Set<string> } | undefined;
    const touched = <T>(p: Promise<T>) => p.finally(() => (known = undefined));
    return {
        create: (g, imageRef) => (g.type === CONTAINER ? touched(create(g, imageRef)) : create(g, imageRef)),
        update: (g, old) => update(g, old),
        delete: (r) => (r.type === CONTAINER ? touched(remove(r)) : remove(r)),
        async serving() {
            if (known && Date.now() - known.at < 5000) return known.names;
            // Healthy by Docker, or still `starting` by Docker (its first check comes one 30 s interval after the
            // start) while the container's own check passes now: what the readiness gate (lib/readiness.ts) waits for.
            const out = await docker().ssh.ok(
                [
                    "docker ps --filter health=healthy --format '{{.Names}}'",
                    "for n in $(docker ps --filter health=starting --format '{{.Names}}'); do",
                    "  t=$(docker inspect -f '{{if eq (index .Config.Healthcheck.Test 0) \"CMD-SHELL\"}}{{index .Config.Healthcheck.Test 1}}{{end}}' \"$n\")",
                    '  [ -n "$t" ] && timeout 10 docker exec "$n" sh -c "$t" >/dev/null 2>&1 && echo "$n"',
                    "done; true",
                ].join("\n"),
            );
            known = { at: Date.now(), names: new Set(out.split("\n").map((l) => l.trim()).filter(Boolean)) };
            return known.names;
        },
    };

    async function create(g: RecordedResource, imageRef: string | undefined): Promise<Outcome> {
        switch (g.type) {
            case IMAGE: {
                // The provider pulls; nothing can be pulled here, so the phase tagged every reference beforehand
                // (a registry that has them). A missing one fails as a pull would.
                const ref = String(g.rawInputs.name);
                const found = await docker().ssh.exec(`docker image inspect ${shellQuote(ref)} >/dev/null`);
                return found.code === 0 ? { ok: true } : { ok: false, detail: `${ref}: not on the host (a pull would be needed)` };
            }
            case NETWORK:
            case CONTAINER: {
                const name = String(g.rawInputs.name);
                const { ssh, ctx: dockerCtx } = docker();
                try {
                    await createResource(dockerCtx, g, new Map([[String(g.rawInputs.image), imageRef ?? String(g.rawInputs.image)]]));
                } catch (e) {
                    // Refused before anything was created (a name in use: Docker's 409 Conflict), or a network.
                    if (g.type === NETWORK || firstLine(e).startsWith("Engine API POST /containers/create")) return { ok: false, detail: firstLine(e) };
                    const st = await ssh.exec(`docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' ${name}`);
                    if (st.code !== 0) return { ok: false, detail: firstLine(e) };
                    const [status, code] = st.stdout.trim().split(" ");
                    // A one-shot job (attach): the provider records its exit code and does not fail; the program's
                    // gate reads it (engine.ts R7).
                    if (g.rawInputs.attach === true && status === "exited") return { ok: true, outputs: { exitCode: Number(code) } };
                    // Created, but its `wait` failed: the engine records it with initialization errors.
                    if (g.rawInputs.wait === true) return { ok: false, initErrors: true, detail: `container ${name} did not become healthy: ${firstLine(e)}` };
                    return { ok: false, detail: firstLine(e) };
                }
                return g.rawInputs.attach === true ? { ok: true, outputs: { exitCode: 0 } } : { ok: true };
            }
            case REMOTE:
            case COPY:
                return remote(ctx, opts, g);
            case LOCAL:
                return runLocal(g);
            default:
                // Cloudflare, Hetzner, random: nothing on the host.
                return { ok: true };
        }
    }

    async function update(g: RecordedResource, old: StateResource): Promise<Outcome> {
        switch (g.type) {
            case REMOTE:
                // An update runs `create` again (pulumi-command v1.2.1 remote/commandController.go:63-83).
                return remote(ctx, opts, g);
            case LOCAL:
                return runLocal(g);
            case COPY: {
                // Copies only when its source hash or remotePath changed (remote/copyController.go:137-152).
                const same = JSON.stringify(old.inputs.source) === JSON.stringify(g.rawInputs.source) && old.inputs.remotePath === g.rawInputs.remotePath;
                return same ? { ok: true } : remote(ctx, opts, g);
            }
            default:
                return { ok: true };
        }
    }

    async function remove(r: StateResource): Promise<Outcome> {
        switch (r.type) {
            case CONTAINER:
                try {
                    await deleteContainer(docker().ssh, { rawInputs: r.inputs } as unknown as RecordedResource);
                    return { ok: true };
                } catch (e) {
                    return { ok: false, detail: firstLine(e) };
                }
            case NETWORK: {
                const res = await docker().ssh.exec(`docker network rm ${shellQuote(String(r.inputs.name))}`);
                return res.code === 0 ? { ok: true } : { ok: false, detail: res.stderr.trim() };
            }
            case IMAGE: {
                // keep_locally returns before any `docker rmi` (terraform-provider-docker v4.5.0
                // resource_docker_image_funcs.go:190); otherwise the delete is `docker rmi <name>`, which Docker
                // refuses for the last tag of an image a container uses.
                if (r.inputs.keepLocally === true) return { ok: true };
                const res = await docker().ssh.exec(`docker rmi ${shellQuote(String(r.inputs.name))}`);
                return res.code === 0 ? { ok: true } : { ok: false, detail: res.stderr.trim() };
            }
            case REMOTE:
                if (typeof r.inputs.delete !== "string") return { ok: true };
                return remote(ctx, opts, { type: REMOTE, name: r.name, rawInputs: { ...r.inputs, create: r.inputs.delete } } as unknown as RecordedResource);
            default:
                return { ok: true };
        }
    }
}

/**
 * R1 against the real engine: the health-check durations a container has on the host, as the Docker provider stores
 * them after reading it back (`container.Config.Healthcheck.Interval.String()`, terraform-provider-docker v4.5.0
 * resource_docker_container_funcs.go:964-966). Docker name → { interval, timeout, startPeriod }.
 */
export async function readBackHealthchecks(ssh: Ssh, names: readonly string[]): Promise<Map<string, Record<string, string>>> {
    const out = new Map<string, Record<string, string>>();
    if (names.length === 0) return out;
    // The Engine API gives nanoseconds (what the provider's client decodes into time.Duration).
    // A container the state holds but the host has not prints nothing (the caller reports it missing).
    const text = (await ssh.exec(`docker inspect -f '{{.Name}} {{json .Config.Healthcheck}}' ${names.join(" ")} 2>/dev/null`)).stdout;
    for (const line of text.trim().split("\n").filter(Boolean)) {
        const at = line.indexOf(" ");
        const hc = JSON.parse(line.slice(at + 1)) as { Interval?: number; Timeout?: number; StartPeriod?: number } | null;
        if (!hc) continue;
        const go = (ns: number | undefined) => (ns === undefined ? undefined : formatGoDuration(ns));
        out.set(line.slice(0, at).replace(/^\//, ""), Object.fromEntries(Object.entries({ interval: go(hc.Interval), timeout: go(hc.Timeout), startPeriod: go(hc.StartPeriod) }).filter(([, v]) => v !== undefined)) as Record<string, string>);
    }
    return out;
}
