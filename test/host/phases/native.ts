import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { RecordedResource } from "../../../mocks/runtime";
import { STOP_GRACE_SECONDS } from "../../../catalog/defaults";
import { need, type Phase } from "../lib/context";
import { NspawnHost } from "../lib/nspawn";
import { sleep, waitFor } from "../lib/proc";
import { Ssh } from "../lib/ssh";
import { cloudInitDone, serverShape } from "./boot";
import { smokeAgainstVm } from "./smoke";
import { turnOf, turnPorts } from "./turn";

/**
 * The native host (test/host/lib/nspawn.ts): where every phase that drives the program's day-2 steps runs — SSH
 * through the agent, the containers, Caddy, smoke, the rollout, backups, and the sequences later issues add. It
 * fills ctx.native, ctx.ssh and ctx.httpsPort; a new phase for it only uses those (see docs/host-tier.md).
 */

export const nativeBoot: Phase = {
    name: "native host: boot → cloud-init done (the committed user-data)",
    tag: "native",
    timeoutMs: 10 * 60_000,
    async run(ctx) {
        const images = need(ctx.images, "the images");
        const shape = serverShape(ctx);
        const host = new NspawnHost({ dir: ctx.dir, baseDir: images.base, forward: [443], ...shape });
        ctx.native = host;
        const started = Date.now();
        await host.prepare();
        await host.start();
        ctx.httpsPort = host.ports.get(443);
        ctx.log(`systemd-nspawn pid ${host.pid} (${host.name}, ${host.address.machine}), ssh on 127.0.0.1:${host.ports.get(22)}, https on 127.0.0.1:${ctx.httpsPort}`);
        const ssh = new Ssh(host.ports.get(22)!, need(ctx.agents, "the agents").main, join(ctx.dir, "known_hosts"));
        await waitFor("SSH login through the agent", 5 * 60_000, async () => {
            if (host.exitReason) throw new Error(host.exitReason);
            return (await ssh.canLogIn(10_000)) ? true : undefined;
        }, 1000);
        ctx.log(`SSH up after ${Math.round((Date.now() - started) / 1000)} s`);
        ctx.ssh = ssh;
        const blame = await cloudInitDone(ctx, ssh, 8 * 60_000);
        ctx.figure("native boot → cloud-init done", (Date.now() - started) / 1000);
        ctx.log(`cloud-init status: done, no errors, after ${Math.round((Date.now() - started) / 1000)} s; slowest: ${blame}`);
        const active = (await ssh.exec("systemctl is-active docker.service caddy.service")).stdout.trim().replace(/\n/g, " ");
        if (active !== "active active") throw new Error(`docker.service and caddy.service are "${active}" after cloud-init`);
    },
};

/** The shutdown's waits and kills from the console log, from `from` bytes on (a stop job's timer, SIGKILLs). */
function slowStops(consoleLog: string, from: number, processes: string): string {
    const text = readFileSync(consoleLog).subarray(from).toString("utf8").replace(/\r/g, "\n").replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");
    const lines = [...new Set(text.split("\n").filter((l) => /stop job|timed out|SIGKILL|Killing process|still around/i.test(l)).map((l) => l.trim()))];
    const pids = new Set([...text.matchAll(/SIGKILL to PID (\d+)/g)].map((m) => m[1]));
    const where = processes.split("\n").filter((l) => pids.has(l.trim().split(/\s+/)[0]));
    return lines.length > 0 ? [...lines.slice(-15), ...where.map((w) => `before the reboot: ${w.trim()}`)].join("\n") : "(nothing on the console names it)";
}

/** Containers the engine must bring back by itself: a restart policy and a health check to judge them by. */
const comesBack = (r: RecordedResource) =>
    r.type === "docker:index/container:Container" && ["always", "unless-stopped"].includes(String(r.rawInputs.restart)) && r.rawInputs.healthcheck !== undefined;

/**
 * The platform's userland across a restart of the machine (systemctl reboot inside; the test starts it again): systemd
 * stops Docker and the containers, boots again, the volume is mounted from fstab before Docker starts, and Docker
 * brings every container back healthy by its restart policy; smoke passes again. The kernel side of a reboot (the
 * block device, the fstab mount at a real boot) is the VM lane's.
 */
export const nativeRestart: Phase = {
    name: "native host restart: volume before Docker, containers healthy by their restart policy, smoke passes",
    tag: "restart",
    timeoutMs: 15 * 60_000,
    async run(ctx) {
        const ssh = need(ctx.ssh, "SSH");
        const host = need(ctx.native, "the native host");
        const plan = need(ctx.plan, "the plan");
        const started = Date.now();
        const bootId = (await ssh.ok("cat /proc/sys/kernel/random/boot_id")).trim();
        const starts = host.starts;
        const consoleBefore = existsSync(host.consoleLog) ? statSync(host.consoleLog).size : 0;
        // The bootstrap's docker-.scope drop-in (render/cloud-init.ts) is what bounds the stop: systemd must apply it.
        const unit = `docker-$(docker inspect -f '{{.Id}}' ${plan.resources.filter(comesBack).map((r) => String(r.rawInputs.name))[0]}).scope`;
        const scope = (await ssh.ok(`echo "$(docker info -f '{{.CgroupDriver}}') $(systemctl show -p TimeoutStopUSec --value ${unit})"; systemctl show -p Conflicts -p Before --value ${unit}`)).trim().split("\n");
        if (scope[0] !== `systemd ${STOP_GRACE_SECONDS}s`) throw new Error(`a container's scope stops after "${scope[0]}" (cgroup driver, TimeoutStopUSec), not "systemd ${STOP_GRACE_SECONDS}s"`);
        const [conflicts = "", before = ""] = scope.slice(1).map((l) => l.split(/\s+/));
        if (!conflicts.includes("shutdown.target") || !before.includes("shutdown.target") || !before.includes("docker.service"))
            throw new Error(`a container's scope is not in the shutdown transaction (Conflicts=${scope[1]}; Before=${scope[2]}): the bootstrap's docker-.scope drop-in did not apply`);
        const processes = await ssh.ok("ps -e -o pid=,comm=,cgroup=");
        const since = (await ssh.ok("date +%s")).trim();
        await ssh.ok("touch /mnt/data/.vk-restart-marker && systemctl reboot", { timeoutMs: 30_000 }).catch(() => undefined);
        await waitFor("the machine to start again", 5 * 60_000, async () => {
            if (host.exitReason) throw new Error(host.exitReason);
            return host.starts > starts ? true : undefined;
        }, 500);
        const stopped = (Date.now() - started) / 1000;
        ctx.figure("native restart: shutdown", stopped);
        // The stop grace bounds the shutdown; more means a process outside a stopped unit waited for systemd-shutdown's
        // final 90 s spree (before the drop-in's Conflicts=shutdown.target: 93–94 s). The lines name it and the cgroup it
        // was in before the reboot; the checks below still run, the phase fails at its end.
        const slow = stopped > STOP_GRACE_SECONDS + 15 ? `the shutdown took ${stopped.toFixed(0)} s, more than the ${STOP_GRACE_SECONDS} s stop grace + 15 s; what systemd waited for:\n${slowStops(host.consoleLog, consoleBefore, processes)}` : undefined;
        if (slow) ctx.log(slow);
        await sleep(2000);
        await waitFor("SSH after the restart", 5 * 60_000, async () => {
            if (host.exitReason) throw new Error(host.exitReason);
            return (await ssh.canLogIn(10_000)) ? true : undefined;
        }, 1000);
        ctx.log(`stopped in ${stopped.toFixed(0)} s, SSH back after ${Math.round((Date.now() - started) / 1000)} s (boot id ${bootId.slice(0, 8)}… is the host kernel's: unchanged by design)`);
        await waitFor("docker.service active after the restart", 5 * 60_000, async () => ((await ssh.exec("systemctl is-active docker.service", { timeoutMs: 30_000 })).stdout.trim() === "active" ? true : undefined), 2000);
        const order = await ssh.ok(
            [
                "set -eu",
                "test -e /mnt/data/.vk-restart-marker",
                "findmnt -n -o SOURCE,TARGET /mnt/data",
                "m=$(systemctl show -p ActiveEnterTimestampMonotonic --value mnt-data.mount)",
                "d=$(systemctl show -p ActiveEnterTimestampMonotonic --value docker.service)",
                'echo "mnt-data.mount active at ${m}us, docker.service at ${d}us"',
                'test "$m" -gt 0 && test "$d" -gt "$m"',
            ].join("\n"),
        );
        ctx.log(order.trim().replace(/\n/g, "; "));
        const names = plan.resources.filter(comesBack).map((r) => String(r.rawInputs.name));
        await waitFor(`${names.join(", ")} healthy after the restart`, 8 * 60_000, async () => {
            const states = await ssh.ok(`docker inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' ${names.join(" ")}`);
            const bad = states.trim().split("\n").filter((l) => !l.endsWith("running healthy"));
            if (bad.some((l) => l.endsWith("unhealthy") || / exited/.test(l))) throw new Error(`after the restart: ${bad.join("; ")}`);
            return bad.length === 0 ? true : undefined;
        }, 2000);
        ctx.log(`${names.length} containers running healthy again after ${Math.round((Date.now() - started) / 1000)} s`);
        // The stop was Postgres's own shutdown (SIGTERM to every process of its scope, a shutdown checkpoint), not a
        // kill: at start it finds a cleanly shut down cluster, no crash recovery. (Its log of the stop itself is lost:
        // dockerd, which copies the logs, is gone by then.)
        const pg = names.find((n) => n.endsWith("-postgres"));
        if (!pg) throw new Error(`no Postgres container among ${names.join(", ")}`);
        const pgStart = (await ssh.ok(`docker logs --since ${since} ${pg} 2>&1 | grep -E 'database system (was|is) |automatic recovery' || true`)).trim();
        ctx.log(`${pg} after the restart: ${pgStart.split("\n").join(" | ") || "(no line)"}`);
        if (!/database system was shut down at/.test(pgStart) || /not properly shut down|interrupted|automatic recovery/.test(pgStart))
            throw new Error(`${pg} was not shut down cleanly by the reboot (its start after it: ${pgStart || "no line"})`);
        const t = turnOf(plan);
        if (t) {
            // TURN beside Janus (phases/turn.ts): the address unit runs before coturn at boot, coturn's TLS listener is back.
            const tls = `${t.address}:${turnPorts(t).tls}`;
            await waitFor(`coturn listening on ${tls} after the restart`, 2 * 60_000, async () => {
                const r = await ssh.exec(`systemctl is-active coturn.service visualkit-turn-address.service && ss -Hltn src ${tls} | grep -q .`, { timeoutMs: 30_000 });
                return r.code === 0 ? true : undefined;
            }, 2000);
            ctx.log(`coturn active and listening on ${tls} after the restart`);
        }
        ctx.figure("native restart", (Date.now() - started) / 1000);
        const table = await smokeAgainstVm(ctx);
        ctx.log(table.trimEnd().split("\n").pop() ?? "");
        if (slow) throw new Error(slow);
    },
};
