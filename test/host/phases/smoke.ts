import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { need, type Context, type Phase } from "../lib/context";
import type { Plan } from "../lib/plan";
import { run } from "../lib/proc";

/** Caddy's internal CA issues 12-hour certificates and renews them itself: only an expired one is a finding. */
const INTERNAL_CA_DAYS = ["--warn-days", "0", "--fail-days", "0"];
const CADDY_ROOT = "/var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt";

/** Caddy's internal root certificate from the host, as a file here (what a user passes with --ca). */
export async function fetchCaddyRoot(ctx: Context): Promise<string> {
    const ca = join(ctx.dir, "caddy-root.crt");
    writeFileSync(ca, await need(ctx.ssh, "SSH").ok(`cat ${CADDY_ROOT}`));
    return ca;
}

/** `npm run smoke` on the plan's own outputs, connecting to the native host's Caddy and trusting its internal CA. */
export async function smokeAgainstVm(ctx: Context, opts: { extra?: readonly string[]; env?: NodeJS.ProcessEnv; plan?: Plan } = {}): Promise<string> {
    const plan = opts.plan ?? need(ctx.plan, "the plan");
    const { extra = [], env } = opts;
    const ca = await fetchCaddyRoot(ctx);
    const outputs = join(ctx.dir, "outputs.json");
    writeFileSync(outputs, JSON.stringify(plan.outputs, null, 2));
    const address = `127.0.0.1:${need(ctx.httpsPort, "the forwarded HTTPS port")}`;
    const r = await run("npm", ["run", "-s", "smoke", "--", outputs, "--address", address, "--ca", ca, "--timeout", "30000", ...INTERNAL_CA_DAYS, ...extra], { cwd: ctx.root, timeoutMs: 180_000, env });
    if (r.code !== 0) throw new Error(`npm run smoke exited ${r.code}:\n${r.stdout}${r.stderr}`);
    return r.stdout;
}

export const smoke: Phase = {
    name: "npm run smoke passes against the host (Caddy's internal CA)",
    tag: "smoke",
    timeoutMs: 5 * 60_000,
    async run(ctx) {
        const table = await smokeAgainstVm(ctx);
        for (const line of table.trimEnd().split("\n")) ctx.log(line);
    },
};
