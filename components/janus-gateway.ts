import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceSpec } from "../catalog/types";
import { publishFile } from "../lib/artifacts";
import { pullImage, serviceContainer } from "../lib/containers";
import type { HostHandle } from "../lib/host";
import { shellQuote, shippedFile } from "../lib/shipped";
import { REMOTE_COMMAND_DEFAULTS } from "../lib/ssh";
import { JANUS_IMAGE_UID, janusAdminUrl, janusFileNames, janusSecretFileNames, renderJanusFiles, type JanusSettings } from "../render/janus";
import type { DockerHost } from "./docker-host";

export interface JanusGatewayArgs {
    /** Docker engine of the host; Janus uses host networking, the platform network only for its gateway address. */
    docker: DockerHost;
    /** The catalog's `janus` service (container name, health check). */
    service: ServiceSpec;
    /** Rendering settings, from `janusSettings(catalog, config)`: listeners, RTP range, STUN, log level, folders. */
    settings: JanusSettings;
    /**
     * Janus image; it must have the layout of images/janus/Dockerfile (configs in /etc/janus, plugins under
     * /usr/lib/janus) and curl for the health check.
     */
    image: string;
    /** Admin API secret (from GeneratedSecrets); it ends up in janus.jcfg and on the call guard's stdin only. */
    adminSecret: pulumi.Input<string>;
    /** Token-signing secret and the plugins' admin keys by plugin id (from JanusSecrets); they end up in the 0400 files only. */
    apiSecrets: { tokenSecret: pulumi.Input<string>; adminKeys: Readonly<Record<string, pulumi.Input<string>>> };
    /** The host Janus runs on: the call guard asks its admin API over SSH before Janus is replaced. */
    host: HostHandle;
    /**
     * Replace Janus even while calls are in progress (they drop). Off, a deployment that would replace a Janus with
     * calls stops before touching it and says how to retry.
     * @default false
     */
    forceRestart?: boolean;
    /** Folder under rendered/<stack>/ the configs are published in; one per media cell. @default "janus" */
    publishDir?: string;
}

/** The deploy-time call guard, run on the host with `python3 -c` (Debian's cloud-init brings python3). */
export const CALL_GUARD_SCRIPT = "scripts/host/janus-calls-guard.py";

/**
 * The Janus WebRTC gateway on host networking (its media range is wide; publishing 50 000 UDP ports through Docker
 * would be slow and pointless). Its HTTP, WebSocket and admin listeners bind to the platform network's gateway,
 * reachable by Caddy on the host and by vk-agent, never by the internet. The rendered configs are uploaded into the
 * container at creation: a config change replaces this one container and touches nothing else.
 */
export class JanusGateway extends pulumi.ComponentResource {
    public readonly containerName: pulumi.Output<string>;
    /** SHA-256 of each deployed config file (plain: a hash reveals nothing of the secret inside). */
    public readonly configHashes: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: JanusGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("visualkit:docker:JanusGateway", name, {}, opts);
        const s = args.settings;
        const names = janusFileNames(s);
        const secretFiles = new Set(janusSecretFileNames(s));
        const rendered = pulumi
            .all([args.adminSecret, args.apiSecrets.tokenSecret, pulumi.all(args.apiSecrets.adminKeys), args.host.ipv4, args.host.ipv6])
            // Candidates on the host's public addresses only (render/janus.ts, iceAddresses).
            .apply(([adminSecret, tokenSecret, adminKeys, ipv4, ipv6]) => renderJanusFiles({ ...s, iceAddresses: [ipv4, ipv6] }, { adminSecret, tokenSecret, adminKeys }));
        // Files without a secret stay plain, so their text shows in previews and rendered/.
        const texts: Record<string, pulumi.Output<string>> = Object.fromEntries(
            names.map((f) => [f, secretFiles.has(f) ? pulumi.secret(rendered.apply((r) => r[f])) : pulumi.unsecret(rendered.apply((r) => r[f]))]),
        );
        const hashes = Object.fromEntries(names.map((f) => [f, publishFile(`${args.publishDir ?? "janus"}/${f}`, texts[f])]));

        const image = pullImage(`${name}-image`, args.image, args.docker, { parent: this });
        // Replacing Janus drops every call in progress. Before each replacement (its triggers are what replaces the
        // container: the image, the configs, the machine) the guard asks the running Janus for live PeerConnections
        // and stops the deployment while there are any, unless forced.
        const force = args.forceRestart ?? false;
        const guard = new command.remote.Command(
            `${name}-call-guard`,
            {
                ...REMOTE_COMMAND_DEFAULTS,
                connection: args.host.connection,
                create: `python3 -c ${shellQuote(shippedFile(CALL_GUARD_SCRIPT))} ${shellQuote(janusAdminUrl(s))} ${shellQuote(`--container=${args.service.containers[0].name}`)}${force ? " --force" : ""}`,
                stdin: pulumi.secret(args.adminSecret),
                triggers: [image.imageId, ...names.map((f) => hashes[f]), args.host.instance],
            },
            { parent: this, dependsOn: [args.host.ready] },
        );
        const container = serviceContainer(
            `${name}-container`,
            {
                service: args.service,
                container: args.service.containers[0],
                image: image.imageId,
                hostNetwork: true,
                extra: {
                    uploads: names.map((f) => ({
                        file: `${s.layout.configs}/${f}`,
                        content: texts[f],
                        // Only the image's Janus user may read the files holding a secret.
                        owner: String(JANUS_IMAGE_UID),
                        permissions: secretFiles.has(f) ? "0400" : "0444",
                    })),
                },
            },
            args.docker,
            // Host networking gives no implicit ordering: its listeners bind the platform network's gateway, an address
            // the host has only once that network exists, so on a new server Janus must wait for it.
            { parent: this, dependsOn: [args.docker.network, guard] },
        );

        this.containerName = container.name;
        this.configHashes = pulumi.all(hashes);
        this.registerOutputs({ containerName: this.containerName, configHashes: this.configHashes });
    }
}
