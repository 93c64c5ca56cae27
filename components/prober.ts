import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { SecretString } from "../config/secret";
import { publishFile } from "../lib/artifacts";
import type { HealthCheck } from "../lib/health-checks";
import { toPulumiSecret } from "../lib/secrets";
import { shippedFile } from "../lib/shipped";

/** The Worker's module, a real file so the tests run exactly this text in workerd. */
export const PROBER_SCRIPT = "prober/worker.js";
/** Every 5 minutes: 288 runs a day, each a handful of subrequests, far inside the Workers free plan. */
export const PROBER_SCHEDULE = "*/5 * * * *";
/** A route slower than this counts as down. */
export const PROBER_TIMEOUT_MS = 10_000;
/** The runtime behaviour the Worker was tested against (test/prober/worker.test.ts). */
export const PROBER_COMPATIBILITY_DATE = "2024-09-23";

export interface ProberArgs {
    /** Cloudflare account that runs the Worker (visualkit:cloudflareAccountId). */
    accountId: pulumi.Input<string>;
    /** Stack name, shown in every message. */
    stack: string;
    /** What is checked: the stack's public health checks (the same list `npm run smoke` runs). */
    checks: readonly HealthCheck[];
    /** Where failures are POSTed (visualkit:alertWebhookUrl); a secret binding of the Worker. */
    webhookUrl: SecretString;
    /**
     * Cron expression of the runs (UTC).
     * @default PROBER_SCHEDULE, every 5 minutes
     */
    schedule?: string;
}

/**
 * The outside prober: a Cloudflare Worker with a cron trigger that checks every public route from Cloudflare's network
 * and POSTs failures to the alert webhook. It does not run on the server, so it reports what nothing on the server can:
 * the server, its network or its monitoring being down. It keeps no state: while a route fails, every run posts.
 */
export class Prober extends pulumi.ComponentResource {
    public readonly scriptName: pulumi.Output<string>;
    public readonly schedule: pulumi.Output<string>;

    constructor(name: string, args: ProberArgs, opts?: pulumi.ComponentResourceOptions) {
        super("visualkit:monitoring:Prober", name, {}, opts);
        const content = shippedFile(PROBER_SCRIPT);
        const checks = JSON.stringify(args.checks);
        publishFile("prober/worker.js", content);
        publishFile("prober/checks.json", `${JSON.stringify(args.checks, null, 2)}\n`);
        const schedule = args.schedule ?? PROBER_SCHEDULE;
        const script = new cloudflare.WorkersScript(
            `${name}-script`,
            {
                accountId: args.accountId,
                scriptName: name,
                content,
                mainModule: "worker.js",
                compatibilityDate: PROBER_COMPATIBILITY_DATE,
                bindings: [
                    { name: "CHECKS", type: "plain_text", text: checks },
                    { name: "STACK", type: "plain_text", text: args.stack },
                    { name: "TIMEOUT_MS", type: "plain_text", text: String(PROBER_TIMEOUT_MS) },
                    { name: "ALERT_WEBHOOK_URL", type: "secret_text", text: toPulumiSecret(args.webhookUrl) },
                ],
            },
            { parent: this },
        );
        new cloudflare.WorkersCronTrigger(`${name}-cron`, { accountId: args.accountId, scriptName: script.scriptName, schedules: [{ cron: schedule }] }, { parent: this });
        this.scriptName = script.scriptName;
        this.schedule = pulumi.output(schedule);
        this.registerOutputs({ scriptName: this.scriptName, schedule: this.schedule });
    }
}
