import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { HostCapacity } from "../catalog/limits";
import type { HostSpec } from "../catalog/types";
import type { SecretString } from "../config/secret";
import { DOCKER_SCOPE_STOP } from "../render/cloud-init";
import { instanceLabels, type Engine } from "../lib/containers";
import type { HostHandle } from "../lib/host";
import { toPulumiSecret } from "../lib/secrets";
import { shellQuote, shippedFile } from "../lib/shipped";
import { REMOTE_COMMAND_DEFAULTS } from "../lib/ssh";
import { pinnedHostKeyOptions } from "../lib/ssh-host-key";

/**
 * Options for the `ssh` the Docker provider runs. The provider hands them to docker/cli's connection helper, which
 * runs `ssh -l root <these> -o … -T -- <ip> docker system dial-stdio` with no shell in between
 * (cli/connhelper/connhelper.go v28.5.2 lines 48-62, ssh/ssh.go lines 103-134; commandconn.go line 49 execs it).
 * The server must present `hostKey`, the key the program gave it (lib/ssh-host-key.ts): nothing in ~/.ssh decides,
 * and a rebuilt server on the same IPs comes back with the same key. The login key comes from the ssh-agent
 * (SSH_AUTH_SOCK): on a laptop the usual agent, in CI an agent loaded with the deploy key. Needs OpenSSH ≥ 8.5 on the
 * machine running `pulumi up` (KnownHostsCommand).
 */
export function dockerSshOpts(hostKey: string): string[] {
    return [...pinnedHostKeyOptions(hostKey), "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20", "-o", "ServerAliveInterval=30"];
}

export interface DockerHostArgs {
    /** The host whose Docker engine is driven; nothing is sent to it before `host.ready`. */
    host: HostHandle;
    /** Its catalog entry: the platform bridge network (name, subnet, gateway, dynamic range). */
    spec: HostSpec;
    /** The server type's RAM and vCPUs (catalog/limits.ts hostCapacity): every container's limits are shares of them. */
    capacity: HostCapacity;
    /**
     * Private registry login for image pulls; the password is kept as a secret in the provider's config.
     * @default undefined (public images only)
     */
    registry?: { readonly server: string; readonly username: string; readonly password: SecretString };
}

/**
 * The Docker engine of one host, reached over SSH, and the platform's user bridge network on it. The network's
 * fixed subnet and gateway are what let the host-networked Janus and the vk-agent container find each other at
 * addresses known before deployment.
 */
export class DockerHost extends pulumi.ComponentResource implements Engine {
    public readonly provider: docker.Provider;
    public readonly instance: pulumi.Output<string>;
    public readonly capacity: HostCapacity;
    public readonly connection: pulumi.Output<command.types.input.remote.ConnectionArgs>;
    public readonly network: docker.Network;
    /** Name of the platform network, for containers' `networksAdvanced`. */
    public readonly networkName: pulumi.Output<string>;
    /** The network's gateway: the host's own address on the bridge. */
    public readonly gateway: pulumi.Output<string>;

    constructor(name: string, args: DockerHostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("visualkit:docker:DockerHost", name, {}, opts);
        const net = args.spec.network;
        this.instance = args.host.instance;
        this.capacity = args.capacity;
        this.connection = args.host.connection;
        this.provider = new docker.Provider(
            `${name}-provider`,
            {
                host: pulumi.interpolate`ssh://root@${args.host.ipv4}`,
                sshOpts: args.host.sshHostKey.apply(dockerSshOpts),
                ...(args.registry
                    ? {
                          registryAuth: [
                              { address: args.registry.server, username: args.registry.username, password: toPulumiSecret(args.registry.password) },
                          ],
                      }
                    : {}),
            },
            { parent: this, dependsOn: [args.host.ready] },
        );
        this.network = new docker.Network(
            `${name}-network`,
            {
                name: net.name,
                driver: "bridge",
                // Dynamic addresses come from ipRange only, so a fixed address (vk-agent's) can never be taken first.
                ipamConfigs: [{ subnet: net.subnet, gateway: net.gateway, ipRange: net.ipRange }],
                labels: instanceLabels(this),
            },
            { parent: this, provider: this.provider },
        );
        // How a reboot stops the containers (render/cloud-init.ts DOCKER_SCOPE_STOP says why): cloud-init writes it on
        // new servers; this writes it on servers bootstrapped before it (an unchanged file is left alone, so re-runs
        // after a key rotation change nothing). Nothing waits for it: it matters only at the next shutdown.
        new command.remote.Command(
            `${name}-scope-stop`,
            {
                ...REMOTE_COMMAND_DEFAULTS,
                connection: this.connection,
                create: `bash -c ${shellQuote(shippedFile("scripts/host/install-unit-file.sh"))} install-unit-file ${shellQuote(DOCKER_SCOPE_STOP.path)}`,
                stdin: DOCKER_SCOPE_STOP.content,
                // The host's instance (HostHandle.instance): a rebuilt server gets it from its cloud-init; rewriting it is harmless.
                triggers: [this.instance],
            },
            { parent: this, dependsOn: [args.host.ready] },
        );
        this.networkName = this.network.name;
        this.gateway = pulumi.output(net.gateway);
        this.registerOutputs({ networkName: this.networkName, gateway: this.gateway, instance: this.instance });
    }
}
