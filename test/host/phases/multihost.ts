import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import type { RecordedResource } from "../../../mocks/runtime";
import { TWO_HOSTS } from "../../helpers/multihost";
import { signedToken } from "../../helpers/janus-client";
import { need, type Context, type Phase } from "../lib/context";
import { ExtraHost } from "../lib/extra-host";
import { imageReferences, type Plan } from "../lib/plan";
import { run, runOk } from "../lib/proc";
import type { Ssh } from "../lib/ssh";
import { replayCommands } from "./commands";
import { createResource, dockerImages, dockerServices, tagImages } from "./docker";

/**
 * Two hosts on a private network (issue 30): the dev stack rendered with the app host plus one media cell (the test
 * fixture TWO_HOSTS), the cell's host a second native machine (lib/extra-host.ts) given the cell's part of the plan
 * (images, remote steps, containers), the two machines joined by a veth pair this phase creates between their network
 * namespaces with the render's private addresses (the Hetzner network's stand-in). Then, from the app host:
 * platform-api's MEDIA_CELLS names the cell's private janusApiUrl and a Janus session is created there over the
 * private address; Janus on the cell does not listen on the cell's public side (its host0); a re-render with the cell
 * drained drops it from MEDIA_CELLS while the cell still answers.
 *
 * The app side is the tier's native host, which runs the one-host render (Janus and vk-agent beside the app) while the
 * rollout and rollback phases replace its platform-api: so the two-host render's platform-api runs there beside it as
 * a copy named `platform-api-mh` (no published port, no network alias, its own label) — the container the two-host
 * plan defines, with its env, image and health check, applied and re-applied on drain as the engine replaces it.
 */

const COPY = "platform-api-mh";

/** The machine's PID 1 under systemd-nspawn's pid (its first descendant in another PID namespace). */
function leaderOf(pid: number): number {
    const ours = readlinkSync("/proc/self/ns/pid");
    const queue = [pid];
    while (queue.length > 0) {
        const p = queue.shift()!;
        for (const task of readdirSync(`/proc/${p}/task`)) {
            for (const c of readFileSync(`/proc/${p}/task/${task}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number)) {
                if (readlinkSync(`/proc/${c}/ns/pid`) !== ours) return c;
                queue.push(c);
            }
        }
    }
    throw new Error(`no machine under systemd-nspawn pid ${pid}`);
}

/** The top-level component a resource belongs to. */
function topOf(plan: Plan, r: RecordedResource): string {
    let name = r.name;
    for (let p = r.parent; p; p = plan.resources.find((x) => x.name === p)?.parent ?? null) name = p;
    return name;
}

/** The part of `plan` that `pick` keeps, as a Plan the tier's phases take. */
function part(plan: Plan, pick: (r: RecordedResource) => boolean): Plan {
    const resources = plan.resources.filter(pick);
    return {
        ...plan,
        resources,
        ofType: (type) => resources.filter((r) => r.type === type),
        named(name) {
            const found = resources.filter((r) => r.name === name);
            if (found.length !== 1) throw new Error(`expected one resource named ${name}, found ${found.length}`);
            return found[0];
        },
    };
}

const envOf = (r: RecordedResource) => Object.fromEntries((r.rawInputs.envs as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));

/** The two-host plan's platform-api as the copy beside the native host's own: its name, no port, no alias, own label. */
function copyOf(r: RecordedResource): RecordedResource {
    const raw = r.rawInputs as Record<string, unknown>;
    return {
        ...r,
        rawInputs: {
            ...raw,
            name: COPY,
            ports: [],
            networksAdvanced: ((raw.networksAdvanced as { name: string }[]) ?? []).map((n) => ({ name: n.name })),
            labels: ((raw.labels as { label: string; value: string }[]) ?? []).map((l) => (l.label === "live.visualkit.container" ? { ...l, value: COPY } : l)),
        },
    };
}

/** MEDIA_CELLS as the running copy has it (docker inspect on the app host). */
async function mediaCells(ssh: Ssh): Promise<{ name: string; janusApiUrl: string }[]> {
    const env = (await ssh.ok(`docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' ${COPY}`)).split("\n");
    const line = env.find((e) => e.startsWith("MEDIA_CELLS="));
    if (!line) throw new Error(`${COPY} has no MEDIA_CELLS`);
    return JSON.parse(line.slice("MEDIA_CELLS=".length)) as { name: string; janusApiUrl: string }[];
}

/** A Janus session created from inside the copy on the app host (token on stdin, not on a command line). */
async function janusSession(ssh: Ssh, url: string, token: string): Promise<number> {
    const body = JSON.stringify({ janus: "create", transaction: `mh-${randomBytes(4).toString("hex")}`, token });
    const out = await ssh.ok(`docker exec -i ${COPY} curl -sS --max-time 10 --data-binary @- '${url}'`, { stdin: Buffer.from(body) });
    const reply = JSON.parse(out) as { janus: string; data?: { id: number } };
    if (reply.janus !== "success" || !reply.data) throw new Error(`Janus at ${url} answered ${out.trim()}`);
    return reply.data.id;
}

async function replaceCopy(ctx: Context, plan: Plan): Promise<void> {
    const ssh = need(ctx.ssh, "SSH");
    await ssh.ok(`docker rm -f ${COPY} >/dev/null 2>&1 || true`);
    await tagImages(ctx, plan);
    await createResource(ctx, copyOf(plan.named("visualkit-dev-platform-api-api")), imageReferences(plan));
}

export const multihost: Phase = {
    name: "two hosts on a private network: app host → media cell's Janus over the private address, nothing on the public side, drain",
    tag: "multihost",
    timeoutMs: 20 * 60_000,
    critical: false,
    async run(ctx) {
        const started = Date.now();
        const app = need(ctx.native, "the native host");
        const ssh = need(ctx.ssh, "SSH");
        const cellName = Object.keys(TWO_HOSTS.mediaCells)[0];
        const cellHost = TWO_HOSTS.mediaCells.a.host;
        const plan = await ctx.render(TWO_HOSTS);
        const hosts = plan.outputs.hosts as Record<string, { privateIp: string }>;
        const appIp = hosts.main.privateIp;
        const cellIp = hosts[cellHost].privateIp;
        // The cell host's part: its own components and the cell's (Janus, vk-agent).
        const cellTops = new Set([`visualkit-dev-${cellHost}`, `visualkit-dev-janus-${cellName}`, `visualkit-dev-vk-agent-${cellName}`]);
        const onCell = (r: RecordedResource) => {
            const top = topOf(plan, r);
            return cellTops.has(top) || top.startsWith(`visualkit-dev-${cellHost}-`);
        };
        const cellPlan = part(plan, onCell);
        const api = plan.named("visualkit-dev-platform-api-api");
        const secret = envOf(api).JANUS_TOKEN_SECRET;
        if (!secret) throw new Error("the two-host render's platform-api has no JANUS_TOKEN_SECRET");

        const veth = `vkmh${randomBytes(3).toString("hex")}`;
        let cell: ExtraHost | undefined;
        let passed = false;
        try {
            cell = await ExtraHost.boot(ctx, "media-a");
            ctx.log(`cell host booted in ${((Date.now() - started) / 1000).toFixed(0)} s`);
            // The private network: a veth pair between the two machines' network namespaces, the render's addresses.
            const appPid = leaderOf(need(app.pid, "the native host's pid"));
            const cellPid = leaderOf(need(cell.host.pid, "the cell host's pid"));
            await runOk("ip", ["link", "add", `${veth}a`, "type", "veth", "peer", "name", `${veth}b`]);
            await runOk("ip", ["link", "set", `${veth}a`, "netns", String(appPid)]);
            await runOk("ip", ["link", "set", `${veth}b`, "netns", String(cellPid)]);
            for (const [pid, dev, ip] of [[appPid, `${veth}a`, appIp], [cellPid, `${veth}b`, cellIp]] as const) {
                await runOk("nsenter", ["-t", String(pid), "-n", "ip", "addr", "add", `${ip}/24`, "dev", dev]);
                await runOk("nsenter", ["-t", String(pid), "-n", "ip", "link", "set", dev, "up"]);
            }
            ctx.log(`private link ${veth}a (${appIp}, app host) ↔ ${veth}b (${cellIp}, ${cellHost})`);

            const host: Context = { ...cell.ctx, plan: cellPlan, figure: () => undefined };
            await Promise.all([dockerImages.run(host), replayCommands.run(host)]);
            await dockerServices.run(host);
            ctx.log(`the cell's plan applied (${cellPlan.resources.filter((r) => r.type.startsWith("docker:index/container")).length} containers) at ${((Date.now() - started) / 1000).toFixed(0)} s`);

            // Nothing on the public side: Janus listens on the private address only.
            const cellSsh = need(cell.ctx.ssh, "the cell's SSH");
            const publicIp = (await cellSsh.ok("ip -4 -o addr show dev host0 | awk '$4 ~ /\\/30$/ {print $4}' | cut -d/ -f1")).trim();
            // Every TCP socket Janus listens on (its HTTP API, admin API, WebSockets), by process: the RTP ports are UDP.
            const listening = (await cellSsh.ok("ss -ltnpH | awk '/\"janus\"/ {print $4}'")).trim().split("\n").filter(Boolean);
            const open = listening.filter((a) => !a.startsWith(`${cellIp}:`) && !a.startsWith("127.0.0.1:"));
            if (!listening.includes(`${cellIp}:8088`)) throw new Error(`Janus's API is not on ${cellIp}:8088 on the cell host; it listens on ${listening.join(", ") || "nothing"}`);
            if (open.length > 0) throw new Error(`Janus on the cell host listens beyond the private address: ${open.join(", ")}`);
            const refused = await cellSsh.exec(`curl -sS --max-time 5 -o /dev/null http://${publicIp}:8088/janus/info`);
            if (refused.code === 0) throw new Error(`Janus answers on the cell's public side ${publicIp}:8088`);
            ctx.log(`Janus on the cell listens on ${listening.join(", ")} only; ${publicIp}:8088 (public side) refused`);

            // The app host: the two-host plan's platform-api, its MEDIA_CELLS, a Janus session over the private address.
            await replaceCopy(ctx, plan);
            const cells = await mediaCells(ssh);
            const named = cells.find((c) => c.name === cellName);
            if (!named || !named.janusApiUrl.includes(`//${cellIp}:`)) throw new Error(`MEDIA_CELLS on the app host is ${JSON.stringify(cells)}: no cell ${cellName} at ${cellIp}`);
            const token = signedToken(secret, ["janus.plugin.audiobridge"]);
            const session = await janusSession(ssh, named.janusApiUrl, token);
            ctx.log(`app host: MEDIA_CELLS names ${named.janusApiUrl}; Janus session ${session} created there from ${COPY}`);

            // The drain: a re-render with drain: true, platform-api's change applied; the cell still answers.
            const drained = await ctx.render({ ...TWO_HOSTS, mediaCells: { [cellName]: { ...TWO_HOSTS.mediaCells.a, drain: true } } });
            const before = envOf(api).MEDIA_CELLS;
            const after = envOf(drained.named("visualkit-dev-platform-api-api")).MEDIA_CELLS;
            if (before === after) throw new Error("drain: true does not change platform-api's MEDIA_CELLS in the render");
            await replaceCopy(ctx, drained);
            const left = await mediaCells(ssh);
            if (left.some((c) => c.name === cellName)) throw new Error(`MEDIA_CELLS still lists the drained cell: ${JSON.stringify(left)}`);
            const still = await janusSession(ssh, named.janusApiUrl, token);
            ctx.log(`drained: MEDIA_CELLS is ${JSON.stringify(left)}; the cell still answers (session ${still})`);
            passed = true;
        } finally {
            await ssh.exec(`docker rm -f ${COPY} >/dev/null 2>&1`).catch(() => undefined);
            let appLeader: number | undefined;
            try {
                appLeader = app.pid ? leaderOf(app.pid) : undefined;
            } catch {
                /* the app machine is gone: its namespace took its end of the pair */
            }
            // Deleting one end deletes the pair (and the private addresses with it); the first ip command covers a pair
            // still in this machine's namespace (a failure between creating and moving it).
            await run("ip", ["link", "del", `${veth}a`]).catch(() => undefined);
            if (appLeader) await run("nsenter", ["-t", String(appLeader), "-n", "ip", "link", "del", `${veth}a`]).catch(() => undefined);
            if (cell) {
                await cell.stop();
                const left = await cell.leftovers();
                if ((await ssh.exec(`docker inspect ${COPY} >/dev/null 2>&1`)).code === 0) left.push(`container ${COPY} on the app host`);
                if (appLeader && (await run("nsenter", ["-t", String(appLeader), "-n", "ip", "-o", "addr", "show", "to", `${appIp}/32`])).stdout.trim()) left.push(`${appIp} on the app host`);
                if (existsSync(`/sys/class/net/${veth}a`) || existsSync(`/sys/class/net/${veth}b`)) left.push(`veth ${veth}a/b on this machine`);
                if (left.length > 0 && passed) throw new Error(`the phase left behind: ${left.join(", ")}`);
                if (left.length > 0) ctx.log(`✘ the phase left behind: ${left.join(", ")}`);
                else ctx.log("cleaned up: cell host stopped and removed (no loop device, mount, veth or folder), the private link and its addresses and platform-api-mh gone");
            }
            const s = (Date.now() - started) / 1000;
            ctx.figure("multihost", s);
            ctx.log(`phase ${s.toFixed(0)} s`);
        }
    },
};
