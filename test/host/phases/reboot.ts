import type { RecordedResource } from "../../../mocks/runtime";
import { need, type Phase } from "../lib/context";
import { sleep, waitFor } from "../lib/proc";
import { smokeAgainstVm } from "./smoke";

/** Containers the engine must bring back by itself: a restart policy and a health check to judge them by. */
const comesBack = (r: RecordedResource) =>
    r.type === "docker:index/container:Container" && ["always", "unless-stopped"].includes(String(r.rawInputs.restart)) && r.rawInputs.healthcheck !== undefined;

export const reboot: Phase = {
    name: "reboot: volume from fstab before Docker, containers healthy, smoke passes",
    tag: "reboot",
    timeoutMs: 20 * 60_000,
    async run(ctx) {
        const ssh = need(ctx.ssh, "SSH");
        const vm = need(ctx.vm, "the VM");
        const plan = need(ctx.plan, "the plan");
        const started = Date.now();
        const bootId = (await ssh.ok("cat /proc/sys/kernel/random/boot_id")).trim();
        await ssh.exec("systemctl reboot", { timeoutMs: 30_000 });
        await sleep(10_000);
        await waitFor("SSH after the reboot", 10 * 60_000, async () => {
            if (vm.exitReason) throw new Error(vm.exitReason);
            const r = await ssh.exec("cat /proc/sys/kernel/random/boot_id", { timeoutMs: 30_000 });
            return r.code === 0 && r.stdout.trim() !== bootId ? true : undefined;
        }, 5000);
        ctx.log(`back after ${Math.round((Date.now() - started) / 1000)} s`);
        // SSH answers long before the boot is over under emulation: Docker restarting every container takes minutes.
        await waitFor("docker.service active after the reboot", 10 * 60_000, async () => ((await ssh.exec("systemctl is-active docker.service", { timeoutMs: 30_000 })).stdout.trim() === "active" ? true : undefined), 5000);
        ctx.log(`docker.service active after ${Math.round((Date.now() - started) / 1000)} s`);

        const order = await ssh.ok(
            [
                "set -eu",
                "findmnt -n -o SOURCE,TARGET /mnt/data",
                "m=$(systemctl show -p ActiveEnterTimestampMonotonic --value mnt-data.mount)",
                "d=$(systemctl show -p ActiveEnterTimestampMonotonic --value docker.service)",
                'echo "mnt-data.mount active at ${m}us, docker.service at ${d}us"',
                'test "$m" -gt 0 && test "$d" -gt "$m"',
            ].join("\n"),
        );
        ctx.log(order.trim().replace(/\n/g, "; "));

        const names = plan.resources.filter(comesBack).map((r) => String(r.rawInputs.name));
        await waitFor(`${names.join(", ")} healthy after the reboot`, 12 * 60_000, async () => {
            const states = await ssh.ok(`docker inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' ${names.join(" ")}`);
            const bad = states.trim().split("\n").filter((l) => !l.endsWith("running healthy"));
            if (bad.some((l) => l.endsWith("unhealthy") || / exited/.test(l))) throw new Error(`after the reboot: ${bad.join("; ")}`);
            return bad.length === 0 ? true : undefined;
        }, 5000);
        ctx.log(`${names.length} containers running healthy again`);
        ctx.figure("reboot", (Date.now() - started) / 1000);
        const table = await smokeAgainstVm(ctx);
        ctx.log(table.trimEnd().split("\n").pop() ?? "");
    },
};
