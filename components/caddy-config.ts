import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { renderCaddyfile } from "../render/caddyfile";
import { DEFAULT_CADDY_VERSION } from "../catalog/input";
import type { Catalog } from "../catalog/types";
import { publishFile } from "../lib/artifacts";
import type { HostHandle } from "../lib/host";
import { shellQuote, shippedFile } from "../lib/shipped";
import { REMOTE_COMMAND_DEFAULTS } from "../lib/ssh";

/** The install script, a real file so shellcheck and the tests check what runs on the server. */
export const INSTALL_SCRIPT = "scripts/host/install-caddyfile.sh";

export interface CaddyConfigArgs {
    /** Host Caddy runs on: its routes in the catalog become sites, and the install waits until it is ready. */
    host: HostHandle;
    /** The service catalog; only routes of services on `host.name` are rendered. */
    catalog: Catalog;
    /** Account e-mail Caddy gives the ACME CA (expiry notices). */
    acmeEmail: pulumi.Input<string>;
    /**
     * Caddy version installed on the host; directives newer than it are left out, so a wrong value either loses
     * `stream_close_delay` (too low) or makes the install fail validation (too high).
     * @default DEFAULT_CADDY_VERSION (catalog/input.ts)
     */
    caddyVersion?: pulumi.Input<string>;
    /**
     * Level of Caddy's own log; `debug` is verbose (every TLS and proxy step) and meant for short investigations.
     * @default "info"
     */
    logLevel?: pulumi.Input<"debug" | "info" | "warn">;
    /**
     * DNS records of the hostnames this Caddyfile serves (CloudflareDns.addressRecords); the install waits for them, so
     * Caddy never asks Let's Encrypt for a certificate while a name still resolves elsewhere (failed validations count
     * against Let's Encrypt's rate limits).
     * @default [] (nothing to wait for: a first deploy may then see failed validations until DNS exists)
     */
    dnsRecords?: readonly pulumi.Resource[];
    /**
     * Where certificates come from: `acme` needs the hostnames' public DNS; `internal` is Caddy's own CA, which only
     * clients given its root trust (test hosts, checks before the DNS switch).
     * @default "acme"
     */
    tls?: "acme" | "internal";
    /**
     * Path of the published copy under rendered/<stack>/; give each host its own when there is more than one.
     * @default "Caddyfile"
     */
    publishAs?: string;
}

/**
 * The Caddyfile of one host: rendered from the catalog, published for review, and installed over SSH by
 * validate → backup → move → reload, rolled back on failure. It runs again only when the text changes (or the server is
 * replaced); the server itself is never touched, so a route change is one small in-place step.
 */
export class CaddyConfig extends pulumi.ComponentResource {
    /** The Caddyfile exactly as installed. */
    public readonly caddyfile: pulumi.Output<string>;
    /** SHA-256 of the Caddyfile; the install runs again when it changes. */
    public readonly sha256: pulumi.Output<string>;
    /** What the install script printed (Caddy's reload log and the confirmation line). */
    public readonly installOutput: pulumi.Output<string>;

    constructor(name: string, args: CaddyConfigArgs, opts?: pulumi.ComponentResourceOptions) {
        super("visualkit:caddy:CaddyConfig", name, {}, opts);
        this.caddyfile = pulumi
            .all([args.acmeEmail, args.caddyVersion ?? DEFAULT_CADDY_VERSION, args.logLevel ?? "info"])
            .apply(([acmeEmail, caddyVersion, logLevel]) => renderCaddyfile(args.catalog, { host: args.host.name, acmeEmail, caddyVersion, logLevel, tls: args.tls }));
        this.sha256 = publishFile(args.publishAs ?? "Caddyfile", this.caddyfile);

        const install = new command.remote.Command(
            `${name}-install`,
            {
                ...REMOTE_COMMAND_DEFAULTS,
                connection: args.host.connection,
                // The script travels in the command and the Caddyfile on stdin: one SSH step, no leftover files.
                create: `bash -c ${shellQuote(shippedFile(INSTALL_SCRIPT))} install-caddyfile`,
                stdin: this.caddyfile,
                // The host's instance: a rebuilt server's fresh Caddy must get this Caddyfile again.
                triggers: [this.sha256, args.host.instance],
            },
            { parent: this, dependsOn: [args.host.ready, ...(args.dnsRecords ?? [])] },
        );
        this.installOutput = install.stdout;
        this.registerOutputs({ caddyfile: this.caddyfile, sha256: this.sha256, installOutput: this.installOutput });
    }
}
