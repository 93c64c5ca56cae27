import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { need, type Context, type Phase } from "../lib/context";
import { run } from "../lib/proc";

const CADDY_ROOT = "/var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt";

/** `npm run smoke` on the plan's own outputs, connecting to the VM's Caddy and trusting its internal CA. */
export async function smokeAgainstVm(ctx: Context): Promise<string> {
    const ssh = need(ctx.ssh, "SSH");
    const plan = need(ctx.plan, "the plan");
    const ca = join(ctx.dir, "caddy-root.crt");
    writeFileSync(ca, await ssh.ok(`cat ${CADDY_ROOT}`));
    const outputs = join(ctx.dir, "outputs.json");
    writeFileSync(outputs, JSON.stringify(plan.outputs, null, 2));
    const address = `127.0.0.1:${need(ctx.httpsPort, "the forwarded HTTPS port")}`;
    const r = await run("npm", ["run", "-s", "smoke", "--", outputs, "--address", address, "--ca", ca, "--timeout", "30000"], { cwd: ctx.root, timeoutMs: 180_000 });
    if (r.code !== 0) throw new Error(`npm run smoke exited ${r.code}:\n${r.stdout}${r.stderr}`);
    return r.stdout;
}

export const smoke: Phase = {
    name: "npm run smoke passes against the VM (Caddy's internal CA)",
    timeoutMs: 5 * 60_000,
    async run(ctx) {
        const table = await smokeAgainstVm(ctx);
        for (const line of table.trimEnd().split("\n")) ctx.log(line);
    },
};
