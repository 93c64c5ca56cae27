import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

/** Nothing to choose: the lengths and alphabet are fixed so the values never change by accident. */
export type GeneratedSecretsArgs = Record<string, never>;

/**
 * Passwords only the platform itself needs (database, Redis, Janus admin, Chatwoot SECRET_KEY_BASE): generated
 * once, kept in the stack's encrypted state, never typed by a person.
 *
 * They are never regenerated on purpose: Postgres and Redis take their password only when their data folder is
 * first created on the volume, so a new value would lock Chatwoot out. Rotating one means changing it inside the
 * service first (`ALTER USER`, `CONFIG SET requirepass`) and then replacing the resource with `pulumi up --replace`.
 */
export class GeneratedSecrets extends pulumi.ComponentResource {
    public readonly postgresPassword: pulumi.Output<string>;
    public readonly redisPassword: pulumi.Output<string>;
    public readonly janusAdminSecret: pulumi.Output<string>;
    public readonly chatwootSecretKeyBase: pulumi.Output<string>;
    /** coturn's `static-auth-secret`, shared with platform-api (TURN_SECRET), which mints per-call credentials with it. */
    public readonly turnSecret: pulumi.Output<string>;

    constructor(name: string, args: GeneratedSecretsArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("visualkit:secrets:GeneratedSecrets", name, args, opts);
        // Letters and digits only: these values end up in URLs (redis://, postgres://) and shell-quoted files.
        const make = (id: string, length: number) =>
            pulumi.secret(new random.RandomPassword(`${name}-${id}`, { length, special: false }, { parent: this }).result);
        this.postgresPassword = make("postgres", 32);
        this.redisPassword = make("redis", 32);
        this.janusAdminSecret = make("janus-admin", 32);
        this.chatwootSecretKeyBase = make("chatwoot-secret-key-base", 128);
        // Rotating it: replace it and both sides change in one `up` (coturn's config, platform-api's env); credentials
        // minted before stop working at once, so rotate between calls.
        this.turnSecret = make("turn-secret", 48);
        this.registerOutputs({});
    }
}
