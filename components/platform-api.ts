import * as pulumi from "@pulumi/pulumi";
import type { ImageKey, ServiceSpec } from "../catalog/types";
import type { SecretString } from "../config/secret";
import { envEntries, pullImage, serviceContainer } from "../lib/containers";
import { toPulumiSecrets } from "../lib/secrets";
import { JANUS_CLIENT_ENV, janusAdminKeyEnv } from "../catalog/janus-plugins";
import type { DockerHost } from "./docker-host";

export interface PlatformApiArgs {
    /** Docker engine and platform network of the host the service runs on. */
    docker: DockerHost;
    /** The catalog's `platform-api` service: one container (API and WebSocket server) or two when a WebSocket image is set. */
    service: ServiceSpec;
    /** Image reference per catalog image key; `websocket` is read only when the catalog has a `platform-ws` container. */
    images: Readonly<Partial<Record<ImageKey, string>>>;
    /** Plain environment variables, given to every container of the service. @default {} */
    env?: Readonly<Record<string, string>>;
    /** Secret environment variables (database URLs, API keys), Pulumi secrets end to end. @default {} */
    secretEnv?: Readonly<Record<string, SecretString>>;
    /**
     * What platform-api needs to use Janus (catalog/janus-plugins.ts, JANUS_CLIENT_ENV): its internal API URL, the
     * token-signing secret (it mints callers' tokens) and each plugin's admin key by plugin id (it creates rooms).
     * Left out, platform-api gets no Janus variables. @default undefined
     */
    janus?: { apiUrl: string; tokenSecret: pulumi.Input<string>; adminKeys: Readonly<Record<string, pulumi.Input<string>>> };
    /**
     * Environment the program derives (the TURN URLs, and the TURN secret as a secret), never set in config.
     * @default {}
     */
    derivedEnv?: { readonly plain?: Readonly<Record<string, string>>; readonly secret?: Readonly<Record<string, pulumi.Input<string>>> };
}

/**
 * platform-api (Fastify + tRPC on the API port, its WebSocket server on the WS port), published on loopback for
 * Caddy. The reference runs no separate WebSocket container, so both ports come from this one unless
 * visualkit:imageWebsocket names a separate image (then `platform-ws` publishes the WS port with the same env).
 */
export class PlatformApi extends pulumi.ComponentResource {
    /** Docker names of the service's containers. */
    public readonly containerNames: pulumi.Output<string[]>;

    constructor(name: string, args: PlatformApiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("visualkit:docker:PlatformApi", name, {}, opts);
        const j = args.janus;
        const janusPlain: Record<string, string> = j ? { [JANUS_CLIENT_ENV.platformApiUrl]: j.apiUrl } : {};
        const janusSecret: Record<string, pulumi.Output<string>> = j
            ? {
                  [JANUS_CLIENT_ENV.platformApiTokenSecret]: pulumi.secret(j.tokenSecret),
                  ...Object.fromEntries(Object.entries(j.adminKeys).map(([id, key]) => [janusAdminKeyEnv({ id }), pulumi.secret(key)])),
              }
            : {};
        const derivedSecret = Object.fromEntries(Object.entries(args.derivedEnv?.secret ?? {}).map(([k, v]) => [k, pulumi.secret(v)]));
        const secret = { ...toPulumiSecrets(args.secretEnv ?? {}), ...janusSecret, ...derivedSecret };
        // envEntries refuses a name set twice, so a user variable can never shadow the program's.
        const envs = envEntries({ ...(args.env ?? {}), ...janusPlain, ...(args.derivedEnv?.plain ?? {}) }, secret);

        const containers = args.service.containers.map((spec) => {
            const ref = args.images[spec.image];
            if (!ref) throw new Error(`platform-api: no image configured for ${spec.name} (catalog image key ${spec.image})`);
            const suffix = spec.name.replace(/^platform-/, "");
            const image = pullImage(`${name}-${suffix}-image`, ref, args.docker, { parent: this });
            return serviceContainer(
                `${name}-${suffix}`,
                { service: args.service, container: spec, image: image.imageId, envs, extra: { networksAdvanced: [{ name: args.docker.networkName }] } },
                args.docker,
                { parent: this },
            );
        });

        this.containerNames = pulumi.all(containers.map((c) => c.name));
        this.registerOutputs({ containerNames: this.containerNames });
    }
}
