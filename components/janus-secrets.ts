import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { JanusPluginSpec } from "../catalog/janus-plugins";

export interface JanusSecretsArgs {
    /** The plugins Janus loads (the catalog's allow-list); each gets its own admin key. */
    plugins: readonly JanusPluginSpec[];
}

/**
 * The secrets of Janus's public API, generated once and kept in the stack's encrypted state: the key that signs
 * callers' tokens (`token_auth_secret`, held by platform-api and vk-agent) and one `admin_key` per loaded plugin (held
 * by platform-api only: creating rooms, RTP forwarding). Like GeneratedSecrets they never change by accident; rotating
 * one is `pulumi up --replace <resource>`, which replaces Janus (calls drop) and the containers that hold it.
 */
export class JanusSecrets extends pulumi.ComponentResource {
    public readonly tokenSecret: pulumi.Output<string>;
    /** By plugin id (`audiobridge`). */
    public readonly adminKeys: Readonly<Record<string, pulumi.Output<string>>>;

    constructor(name: string, args: JanusSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("visualkit:secrets:JanusSecrets", name, {}, opts);
        // Letters and digits only: the values go into libconfig strings and environment variables unquoted.
        const make = (id: string, length: number) => pulumi.secret(new random.RandomPassword(`${name}-${id}`, { length, special: false }, { parent: this }).result);
        this.tokenSecret = make("token-secret", 48);
        this.adminKeys = Object.fromEntries(args.plugins.map((p) => [p.id, make(`${p.id}-admin-key`, 32)]));
        this.registerOutputs({});
    }
}
