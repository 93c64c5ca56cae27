import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { join } from "node:path";
import { cloudInitDone, serverShape } from "../phases/boot";
import { need, type Context } from "./context";
import { TcpForward } from "./forward";
import { NspawnHost } from "./nspawn";
import { run, waitFor } from "./proc";
import { Ssh } from "./ssh";

/**
 * Another native host beside the tier's own (ctx.native): a second systemd-nspawn machine booted from the same server
 * disk with the same committed user-data, its own volume, network namespace and folder — a new server as Hetzner hands
 * one over. The rebuild drill (phases/rebuild.ts) boots one; hosts on a private network (issue 30) are meant to use it
 * too. Its `ctx` is a copy of the run's context pointed at this machine (ssh, native, httpsPort, its own dir), so the
 * tier's phases and helpers (dockerImages, replayCommands, dockerServices, smokeAgainstVm, the operator commands) run
 * against it unchanged.
 *
 * Machines are reachable from each other only through what `reach` opens: a TCP forward listening on the host end of
 * this machine's veth to an address:port of another (a machine has no route but to its own veth's host end).
 *
 * Every machine booted here is in `live` until stopped: run.ts's clean-up (the end of the run, a Ctrl-C, a phase that
 * timed out while its own finally had not run yet) stops what is left with stopExtraHosts().
 */

const live = new Set<ExtraHost>();

export class ExtraHost {
    readonly host: NspawnHost;
    /** The run's context for this machine; set by boot(). */
    ctx!: Context;
    private readonly forwards: TcpForward[] = [];
    private stopped = false;

    private constructor(
        readonly label: string,
        readonly dir: string,
        parent: Context,
    ) {
        const images = need(parent.images, "the images");
        this.host = new NspawnHost({ dir, baseDir: images.base, forward: [443], ...serverShape(parent) });
    }

    /**
     * Boots a new machine named `label` (its folder is <run folder>/<label>) and waits for SSH through the main agent,
     * cloud-init `status: done` without errors and Docker and Caddy active. Stopped again on any failure.
     */
    static async boot(parent: Context, label: string): Promise<ExtraHost> {
        const dir = join(parent.dir, label);
        mkdirSync(dir, { recursive: true });
        const extra = new ExtraHost(label, dir, parent);
        live.add(extra);
        try {
            const host = extra.host;
            await host.prepare();
            await host.start();
            const ssh = new Ssh(host.ports.get(22)!, need(parent.agents, "the agents").main, join(dir, "known_hosts"));
            extra.ctx = { ...parent, dir, native: host, ssh, httpsPort: host.ports.get(443) };
            parent.log(`${label}: systemd-nspawn pid ${host.pid} (${host.name}, ${host.address.machine}), ssh 127.0.0.1:${ssh.port}, https 127.0.0.1:${extra.ctx.httpsPort}`);
            await waitFor(`${label}: SSH login through the agent`, 5 * 60_000, async () => {
                if (host.exitReason) throw new Error(host.exitReason);
                return (await ssh.canLogIn(10_000)) ? true : undefined;
            }, 1000);
            await cloudInitDone(parent, ssh, 8 * 60_000);
            const active = (await ssh.exec("systemctl is-active docker.service caddy.service")).stdout.trim().replace(/\n/g, " ");
            if (active !== "active active") throw new Error(`${label}: docker.service and caddy.service are "${active}" after cloud-init`);
            return extra;
        } catch (e) {
            await extra.stop();
            throw e;
        }
    }

    /**
     * Makes `address:port` (another machine's, e.g. ctx.native.address.machine:22) reachable from this machine, at the
     * returned address and port: a forward on the host end of this machine's veth, closed by stop().
     */
    async reach(address: string, port: number): Promise<{ address: string; port: number }> {
        const f = await TcpForward.open(address, port, this.host.address.host);
        this.forwards.push(f);
        return { address: this.host.address.host, port: f.port };
    }

    /** Memory the machine's processes use (the sum of their PSS, in MiB): the machine's own PID namespace. */
    memoryMiB(): number {
        const ns = this.pidNamespace();
        if (!ns) return 0;
        let kib = 0;
        for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
            try {
                if (readlinkSync(`/proc/${pid}/ns/pid`) !== ns) continue;
                kib += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1] ?? 0);
            } catch {
                /* gone meanwhile */
            }
        }
        return Math.round(kib / 1024);
    }

    /** The PID namespace of systemd-nspawn's child (the machine's PID 1). */
    private pidNamespace(): string | undefined {
        const pid = this.host.pid;
        if (!pid) return undefined;
        const ours = readlinkSync("/proc/self/ns/pid");
        try {
            for (const task of readdirSync(`/proc/${pid}/task`)) {
                for (const c of readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim().split(/\s+/).filter(Boolean)) {
                    const ns = readlinkSync(`/proc/${c}/ns/pid`);
                    if (ns !== ours) return ns;
                }
            }
        } catch {
            /* gone */
        }
        return undefined;
    }

    /** Stops the machine (NspawnHost.stop: PID 1, systemd-nspawn, listeners, mounts, loop devices), its forwards, and removes its folder. */
    async stop(): Promise<void> {
        if (this.stopped) return;
        this.stopped = true;
        for (const f of this.forwards.splice(0)) await f.close();
        await this.host.stop();
        live.delete(this);
        rmSync(this.dir, { recursive: true, force: true });
    }

    /** What a stopped machine left behind on this machine: loop devices, mounts, its veth, its folder (empty when clean). */
    async leftovers(): Promise<string[]> {
        const found: string[] = [];
        const loops = (await run("losetup", ["-l", "-n", "-O", "NAME,BACK-FILE"])).stdout.split("\n").filter((l) => l.includes(this.dir));
        found.push(...loops.map((l) => `loop device ${l.trim()}`));
        const mounts = readFileSync("/proc/self/mounts", "utf8").split("\n").filter((l) => l.split(" ")[1]?.startsWith(this.dir));
        found.push(...mounts.map((l) => `mount ${l.split(" ")[1]}`));
        const veth = `ve-${this.host.name}`.slice(0, 15);
        if (existsSync(`/sys/class/net/${veth}`)) found.push(`veth ${veth}`);
        if (this.host.pid && existsSync(`/proc/${this.host.pid}`)) found.push(`systemd-nspawn pid ${this.host.pid}`);
        if (existsSync(this.dir)) found.push(`folder ${this.dir}`);
        return found;
    }
}

/** Stops every extra machine still running (run.ts's clean-up). */
export async function stopExtraHosts(): Promise<void> {
    await Promise.all([...live].map((h) => h.stop()));
}
