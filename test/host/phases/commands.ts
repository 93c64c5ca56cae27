import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RecordedResource } from "../../../mocks/runtime";
import { need, type Context, type Phase } from "../lib/context";
import { afterContainers, dependencyOrder, type Plan } from "../lib/plan";
import { waitFor } from "../lib/proc";
import { COMMAND_TYPES, replayCommand } from "../lib/remote";

const isCommand = (r: RecordedResource) => COMMAND_TYPES.includes(r.type);

async function replayAll(ctx: Context, plan: Plan, pick: (r: RecordedResource) => boolean): Promise<void> {
    const ssh = need(ctx.ssh, "SSH");
    for (const r of dependencyOrder(plan, (x) => isCommand(x) && pick(x))) {
        const result = await replayCommand(ssh, r);
        const said = (result.stdout.trim().split("\n").pop() ?? "").slice(0, 140);
        ctx.log(`${r.name} (${r.type.split(":").pop()}) ok in ${(result.ms / 1000).toFixed(0)} s${said ? `: ${said}` : ""}`);
    }
}

function named(plan: Plan, suffix: string): RecordedResource {
    const found = plan.resources.filter((r) => isCommand(r) && r.name.endsWith(suffix));
    if (found.length !== 1) throw new Error(`expected one command resource ending in ${suffix}, found ${found.length}`);
    return found[0];
}

export const replayCommands: Phase = {
    name: "replay the remote commands in dependency order",
    tag: "commands",
    timeoutMs: 20 * 60_000,
    async run(ctx) {
        const started = Date.now();
        // A step after a container (its pids limit) runs in the containers phase, as the engine orders it.
        const plan = need(ctx.plan, "the plan");
        await replayAll(ctx, plan, (r) => !afterContainers(plan, r));
        ctx.figure("replay", (Date.now() - started) / 1000);
    },
};

export const removedKey: Phase = {
    name: "a key removed from sshPublicKeys no longer logs in",
    tag: "keys",
    timeoutMs: 5 * 60_000,
    critical: false,
    async run(ctx) {
        const ssh = need(ctx.ssh, "SSH");
        const agents = need(ctx.agents, "the agents");
        const other = ssh.withAgent(agents.other);
        if (!(await other.canLogIn())) throw new Error("the second key cannot log in even before its removal; the check would prove nothing");
        const keys = [...agents.main.publicKeys.values()];
        const second = await ctx.render({ sshPublicKeys: keys });
        const step = named(second, "-authorized-keys");
        if (String(step.rawInputs.stdin).includes([...agents.other.publicKeys.values()][0])) throw new Error("the second render still sends the removed key");
        await replayCommand(ssh, step);
        if (await other.canLogIn()) throw new Error("the removed key still logs in after the authorized-keys step");
        if (!(await ssh.canLogIn())) throw new Error("the remaining key no longer logs in");
        ctx.log("removed key refused, remaining key logs in");
    },
};

/** An HTTPS GET inside the host through Caddy, by hostname (status and body). */
async function viaCaddy(ctx: Context, host: string, path = "/"): Promise<{ status: string; body: string }> {
    const out = await need(ctx.ssh, "SSH").ok(`curl -sk --max-time 20 --resolve ${host}:443:127.0.0.1 -o /tmp/vk-body -w '%{http_code}' https://${host}${path}; echo; cat /tmp/vk-body`);
    const [status, ...body] = out.split("\n");
    return { status, body: body.join("\n") };
}

const domainOf = (plan: Plan) => String((plan.outputs as { domain?: string }).domain ?? "");

export const caddyInstall: Phase = {
    name: "a broken Caddyfile is refused, a good one goes live by reload",
    tag: "caddy",
    timeoutMs: 8 * 60_000,
    critical: false,
    async run(ctx) {
        const ssh = need(ctx.ssh, "SSH");
        const plan = need(ctx.plan, "the plan");
        const install = named(plan, "-caddy-install");
        const good = String(install.rawInputs.stdin);
        const state = async () => ({
            pid: (await ssh.ok("systemctl show -p MainPID --value caddy")).trim(),
            file: (await ssh.ok("sha256sum < /etc/caddy/Caddyfile")).split(" ")[0],
            config: (await ssh.ok("curl -s --unix-socket /var/lib/caddy/admin/caddy.sock -H 'Host: ' http://localhost/config/ | sha256sum")).split(" ")[0],
        });
        const before = await state();
        const sha = createHash("sha256").update(good).digest("hex");
        if (before.file !== sha) throw new Error("/etc/caddy/Caddyfile is not the rendered Caddyfile after the replay");

        const broken = `${good}\nbroken.invalid {\n\treverse_proxy {\n`;
        const refused = await replayCommand(ssh, { ...install, rawInputs: { ...install.rawInputs, stdin: broken } }).then(
            () => false,
            () => true,
        );
        if (!refused) throw new Error("the install step accepted a broken Caddyfile");
        const afterBroken = await state();
        if (JSON.stringify(afterBroken) !== JSON.stringify(before)) throw new Error(`Caddy changed after a refused Caddyfile: ${JSON.stringify({ before, afterBroken })}`);
        if ((await ssh.ok("systemctl is-active caddy")).trim() !== "active") throw new Error("Caddy is not active after the refused Caddyfile");
        ctx.log("broken Caddyfile refused; same file, same running config, same process");

        const probeHost = `reload-probe.${domainOf(plan)}`;
        const marker = `reloaded-${Date.now()}`;
        const next = `${good}\n${probeHost} {\n\ttls internal\n\trespond "${marker}"\n}\n`;
        await replayCommand(ssh, { ...install, rawInputs: { ...install.rawInputs, stdin: next } });
        const served = await waitFor(`${probeHost} to answer`, 120_000, async () => {
            const r = await viaCaddy(ctx, probeHost);
            return r.body.includes(marker) ? r : undefined;
        });
        const afterGood = await state();
        if (afterGood.pid !== before.pid) throw new Error(`Caddy was restarted (pid ${before.pid} → ${afterGood.pid}), not reloaded`);
        ctx.log(`good Caddyfile live by reload (same pid ${afterGood.pid}): ${probeHost} → ${served.status}`);
        // Back to the program's own Caddyfile for the phases after this one.
        await replayCommand(ssh, install);
    },
};

export const cdnSwitch: Phase = {
    name: "a CDN release switch is atomic and keeps the previous release",
    tag: "cdn",
    timeoutMs: 10 * 60_000,
    critical: false,
    async run(ctx) {
        const ssh = need(ctx.ssh, "SSH");
        const releaseDir = (n: number) => {
            const d = join(ctx.dir, `widget-${n}`);
            mkdirSync(d, { recursive: true });
            writeFileSync(join(d, "widget.js"), `/* widget release ${n} */\n`);
            return d;
        };
        const isCdn = (r: RecordedResource) => r.parent?.endsWith("-widget-cdn") ?? false;
        const first = await ctx.render({ widgetCdnSourceDir: releaseDir(1) });
        await replayAll(ctx, first, isCdn);
        const file = "/opt/widget-cdn/widget.js";
        if (!(await ssh.ok(`cat ${file}`)).includes("release 1")) throw new Error(`${file} is not release 1 after the first sync`);

        // A reader inside the host: reads the served file as fast as it can and counts what it saw.
        await ssh.ok(
            `rm -f /tmp/vk-reader.*; setsid -f bash -c 'n=0; while [ ! -e /tmp/vk-reader.stop ]; do if c=$(cat ${file} 2>/dev/null); then echo "$c"; else echo MISS; fi; done >/tmp/vk-reader.log 2>&1' </dev/null >/dev/null 2>&1`,
        );
        await waitFor("the reader loop to start", 60_000, async () => ((await ssh.ok("wc -l < /tmp/vk-reader.log")).trim() !== "0" ? true : undefined), 500);
        const second = await ctx.render({ widgetCdnSourceDir: releaseDir(2) });
        await replayAll(ctx, second, (r) => isCdn(r) && !r.name.endsWith("-folder"));
        await waitFor("the reader to see release 2", 60_000, async () => ((await ssh.ok("tail -n 1 /tmp/vk-reader.log")).includes("release 2") ? true : undefined), 500);
        const counts = await ssh.ok("touch /tmp/vk-reader.stop; sleep 1; sort /tmp/vk-reader.log | uniq -c");
        ctx.log(`reader saw: ${counts.trim().replace(/\s+/g, " ")}`);
        if (counts.includes("MISS")) throw new Error(`the reader missed the file during the switch:\n${counts}`);
        if (!counts.includes("release 1") || !counts.includes("release 2")) throw new Error(`the reader did not see both releases:\n${counts}`);
        const kept = await ssh.ok("grep -l 'release 1' /mnt/data/widget-cdn-releases/*/widget.js");
        ctx.log(`previous release kept: ${kept.trim()}`);
        const served = await viaCaddy(ctx, `cdn.${domainOf(second)}`, "/widget.js");
        if (served.status !== "200" || !served.body.includes("release 2")) throw new Error(`Caddy serves ${served.status} ${served.body.slice(0, 80)} for widget.js, not release 2`);
        ctx.log("Caddy serves release 2");
    },
};
