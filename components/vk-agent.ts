import * as pulumi from "@pulumi/pulumi";
import { portOf } from "../catalog/derived";
import type { HostSpec, ServiceSpec } from "../catalog/types";
import type { SecretString } from "../config/secret";
import { envEntries, pullImage, serviceContainer } from "../lib/containers";
import { toPulumiSecret } from "../lib/secrets";
import { JANUS_CLIENT_ENV } from "../catalog/janus-plugins";
import type { DockerHost } from "./docker-host";

/** Google's SDK reads GEMINI_API_KEY; the agent's own settings use the VK_AGENT_ prefix. Both get the key. */
export const GEMINI_KEY_ENV = ["GEMINI_API_KEY", "VK_AGENT_GEMINI_API_KEY"] as const;

export interface VkAgentArgs {
    /** Docker engine and platform network of the host the agent runs on. */
    docker: DockerHost;
    /** The catalog's `vk-agent` service: API port, RTP port and its fixed address on the platform network. */
    service: ServiceSpec;
    /** The catalog's `janus` service, whose WebSocket listener the agent connects to. */
    janus: ServiceSpec;
    /** The catalog host's platform network; Janus must listen on its gateway for the agent to reach it. */
    network: HostSpec["network"];
    /** Image reference of vk-agent. */
    image: string;
    /** Plain environment variables; the three Janus/RTP variables are derived and may not be set here. @default {} */
    env?: Readonly<Record<string, string>>;
    /** Gemini API key, passed as a secret environment variable. */
    geminiApiKey: SecretString;
    /** Janus's token-signing secret (JanusSecrets), as VK_AGENT_JANUS_TOKEN_SECRET: the agent mints its own token. */
    janusTokenSecret: pulumi.Input<string>;
}

/**
 * The addresses the agent needs, derived from the catalog and the network. `rtpAddress` is the copy's own fixed
 * address (the primary's `networkAddress`, or its standby's): each copy tells Janus where to send its calls' RTP.
 */
export function vkAgentDerivedEnv(service: ServiceSpec, janus: ServiceSpec, network: HostSpec["network"], rtpAddress = service.networkAddress): Record<string, string> {
    const port = (s: ServiceSpec, id: string) => portOf(s.ports, id, s.id);
    // Janus sends the call's RTP to the agent's address on this host's bridge: the two share a host. Janus listens on
    // the bridge gateway, or on its host's private address once the stack has a private network (the container
    // reaches either, both being the host's own).
    if (janus.host !== service.host) {
        throw new Error(`catalog: Janus runs on ${janus.host}, vk-agent on ${service.host}; Janus sends RTP to vk-agent over its host's bridge ${network.subnet}`);
    }
    if (!rtpAddress) throw new Error("catalog: vk-agent needs a fixed networkAddress, Janus sends the call's RTP there");
    const janusHost = janus.bindAddress.includes(":") ? `[${janus.bindAddress}]` : janus.bindAddress;
    return {
        VK_AGENT_JANUS_WS_URL: `ws://${janusHost}:${port(janus, "ws").port}`,
        VK_AGENT_RTP_HOST: rtpAddress,
        VK_AGENT_RTP_PORT: String(port(service, "rtp").containerPort),
    };
}

/**
 * vk-agent, the voice bridge between Janus and Gemini: its API published on loopback for Caddy, its RTP port only on
 * the platform network at a fixed address (the reference published 5005/udp to the whole internet).
 */
export class VkAgent extends pulumi.ComponentResource {
    public readonly containerName: pulumi.Output<string>;
    /** Where Janus must send the call's RTP (`address:port` on the platform network). */
    public readonly rtpEndpoint: pulumi.Output<string>;

    constructor(name: string, args: VkAgentArgs, opts?: pulumi.ComponentResourceOptions) {
        super("visualkit:docker:VkAgent", name, {}, opts);
        const derived = vkAgentDerivedEnv(args.service, args.janus, args.network);
        for (const key of [...Object.keys(derived), ...GEMINI_KEY_ENV, JANUS_CLIENT_ENV.vkAgentTokenSecret]) {
            if (args.env && key in args.env) throw new Error(`visualkit:vkAgentEnv.${key} is set by the program (from the catalog or geminiApiKey); remove it from the stack file`);
        }
        const key = toPulumiSecret(args.geminiApiKey);
        const secretEnv = { ...Object.fromEntries(GEMINI_KEY_ENV.map((k) => [k, key])), [JANUS_CLIENT_ENV.vkAgentTokenSecret]: pulumi.secret(args.janusTokenSecret) };

        const spec = args.service.containers[0];
        const image = pullImage(`${name}-image`, args.image, args.docker, { parent: this });
        const container = serviceContainer(
            `${name}-container`,
            {
                service: args.service,
                container: spec,
                image: image.imageId,
                perReplica: (replica) => ({
                    envs: envEntries({ ...(args.env ?? {}), ...vkAgentDerivedEnv(args.service, args.janus, args.network, replica.networkAddress) }, secretEnv),
                    extra: { networksAdvanced: [{ name: args.docker.networkName, ipv4Address: replica.networkAddress }] },
                }),
            },
            args.docker,
            { parent: this },
        );

        this.containerName = container.name;
        this.rtpEndpoint = pulumi.output(`${derived.VK_AGENT_RTP_HOST}:${derived.VK_AGENT_RTP_PORT}`);
        this.registerOutputs({ containerName: this.containerName, rtpEndpoint: this.rtpEndpoint });
    }
}
