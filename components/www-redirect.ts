import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { RedirectRule } from "../catalog/dns";
import type { AdoptMap } from "../lib/adopt";

export interface WwwRedirectArgs {
    /** Zone the redirect ruleset belongs to. */
    zoneId: pulumi.Input<string>;
    /** The rules, from `redirectRules` (catalog/dns.ts); each matches one hostname exactly. */
    rules: readonly RedirectRule[];
    /** Shown on the ruleset in the dashboard: which project and stack own it. */
    description: string;
    /**
     * Existing Cloudflare objects to import instead of creating (from `visualkit:adopt`, written by `npm run adopt`).
     * @default none: every resource is created, which fails or duplicates when the object already exists
     */
    adopt?: AdoptMap;
}

/**
 * The zone's dynamic-redirect entrypoint ruleset (www → apex with 301, path and query kept), replacing the
 * reference's Railway app. A zone has exactly one entrypoint ruleset per phase, so only the stack that owns the
 * zone creates this (see `ownsZone` in catalog/dns.ts); it replaces any redirect rules made in the dashboard.
 */
export class WwwRedirect extends pulumi.ComponentResource {
    public readonly rulesetId: pulumi.Output<string>;

    constructor(name: string, args: WwwRedirectArgs, opts?: pulumi.ComponentResourceOptions) {
        super("visualkit:cloudflare:WwwRedirect", name, {}, opts);
        const ruleset = new cloudflare.Ruleset(
            `${name}-ruleset`,
            {
                zoneId: args.zoneId,
                kind: "zone",
                phase: "http_request_dynamic_redirect",
                name: "default",
                description: args.description,
                // ref, description and enabled are set although optional: the API fills in what is left out and the
                // provider then reports an update on every run (pulumi/pulumi-cloudflare#939).
                rules: args.rules.map((r) => ({
                    ref: r.ref,
                    description: r.description,
                    enabled: true,
                    expression: r.expression,
                    action: "redirect",
                    actionParameters: {
                        fromValue: {
                            statusCode: r.statusCode,
                            preserveQueryString: r.preserveQueryString,
                            targetUrl: { expression: r.targetExpression },
                        },
                    },
                })),
            },
            // Import id 'zones/<zone_id>/<ruleset_id>' (@pulumi/cloudflare 6.22.1 ruleset.d.ts): a phase entrypoint
            // made in the dashboard must be adopted, a second one cannot be created.
            { parent: this, ...args.adopt?.options(`${name}-ruleset`) },
        );
        this.rulesetId = ruleset.id;
        this.registerOutputs({ rulesetId: this.rulesetId });
    }
}
