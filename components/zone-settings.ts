import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { AdoptMap } from "../lib/adopt";

export interface ZoneSettingsArgs {
    /** Zone the settings apply to; they are zone-wide, so only the stack that owns the zone sets them. */
    zoneId: pulumi.Input<string>;
    /**
     * SSL/TLS mode between Cloudflare and origins of proxied records (Pages, the www redirect).
     * @default "strict" (Full (strict): the origin certificate is validated)
     */
    sslMode?: "full" | "strict";
    /**
     * Lowest TLS version visitors may use on proxied hostnames.
     * @default "1.2"
     */
    minTlsVersion?: "1.2" | "1.3";
    /**
     * Existing Cloudflare objects to import instead of creating (from `visualkit:adopt`, written by `npm run adopt`).
     * @default none: every resource is created, which fails or duplicates when the object already exists
     */
    adopt?: AdoptMap;
}

/**
 * The zone's TLS settings: SSL mode Full (strict), Always Use HTTPS, minimum TLS 1.2. They act on proxied
 * hostnames only; the DNS-only VPS hostnames get their TLS from Caddy.
 */
export class ZoneSettings extends pulumi.ComponentResource {
    /** Setting id → value, as applied. */
    public readonly values: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: ZoneSettingsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("visualkit:cloudflare:ZoneSettings", name, {}, opts);
        const settings: [string, string][] = [
            ["ssl", args.sslMode ?? "strict"],
            ["always_use_https", "on"],
            ["min_tls_version", args.minTlsVersion ?? "1.2"],
        ];
        for (const [settingId, value] of settings) {
            const settingName = `${name}-${settingId.replace(/_/g, "-")}`;
            // Import id '<zone_id>/<setting_id>' (@pulumi/cloudflare 6.22.1 zoneSetting.d.ts): a setting always
            // exists, so adopting it only makes the preview show the old value next to the new one.
            new cloudflare.ZoneSetting(settingName, { zoneId: args.zoneId, settingId, value }, { parent: this, ...args.adopt?.options(settingName) });
        }
        this.values = pulumi.output(Object.fromEntries(settings));
        this.registerOutputs({ values: this.values });
    }
}
