import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

export interface GeneratedSecretsArgs {
    /**
     * Change a value here (any string) to rotate every generated secret on the next `pulumi up`.
     * @default "1"
     */
    rotation?: string;
}

/**
 * Passwords only the platform itself needs (database, Redis, Janus admin, Chatwoot SECRET_KEY_BASE): generated
 * once, kept in the stack's encrypted state, never typed by a person.
 */
export class GeneratedSecrets extends pulumi.ComponentResource {
    public readonly postgresPassword: pulumi.Output<string>;
    public readonly redisPassword: pulumi.Output<string>;
    public readonly janusAdminSecret: pulumi.Output<string>;
    public readonly chatwootSecretKeyBase: pulumi.Output<string>;

    constructor(name: string, args: GeneratedSecretsArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("visualkit:secrets:GeneratedSecrets", name, {}, opts);
        const keepers = { rotation: args.rotation ?? "1" };
        // Letters and digits only: these values end up in URLs (redis://, postgres://) and shell-quoted files.
        const make = (id: string, length: number) =>
            pulumi.secret(new random.RandomPassword(`${name}-${id}`, { length, special: false, keepers }, { parent: this }).result);
        this.postgresPassword = make("postgres", 32);
        this.redisPassword = make("redis", 32);
        this.janusAdminSecret = make("janus-admin", 32);
        this.chatwootSecretKeyBase = make("chatwoot-secret-key-base", 128);
        this.registerOutputs({});
    }
}
