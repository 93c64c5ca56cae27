import type * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";

/**
 * What the rest of the program needs from a host, whatever creates it. Services name their host in the catalog;
 * index.ts looks the handle up by that name, so a second host is a new entry, not a rewrite.
 */
export interface HostHandle {
    /** Catalog host name (`main`). */
    readonly name: string;
    readonly ipv4: pulumi.Output<string>;
    readonly ipv6: pulumi.Output<string>;
    /**
     * The host's SSH public key (`ssh-ed25519 AAAA… visualkit-<host>`), known before the server exists; every SSH
     * connection to the host refuses any other key (lib/ssh-host-key.ts).
     */
    readonly sshHostKey: pulumi.Output<string>;
    /** The host's dedicated TURN address (a Hetzner Floating IP), when a TURN service runs there (docs/turn.md). */
    readonly turnIpv4?: pulumi.Output<string>;
    /** SSH connection for day-2 steps (`@pulumi/command` remote commands, file copies). */
    readonly connection: pulumi.Output<command.types.input.remote.ConnectionArgs>;
    /** Resolves once cloud-init has finished and Docker and Caddy answer; depend on it for anything on the box. */
    readonly ready: pulumi.Resource;
    /**
     * The machine behind the addresses (the Hetzner server's id): the one signal that the host was rebuilt. The IPs
     * and the host key outlive a server, so `connection` looks the same on a new, empty machine; this changes only
     * then. Every remote step lists it in its `triggers` (a trigger change replaces the step, and the replacement runs
     * `create`: pulumi-command v1.2.1 common/inputs.go:10 `replaceOnChanges`, remote/commandController.go:31-59), and
     * every Docker image, network and container carries it (lib/containers.ts `instanceLabels`), so a rebuilt server
     * gets all of them again while an `up` on the same machine re-runs none.
     */
    readonly instance: pulumi.Output<string>;
}

/** Hetzner routes a /64 to the server and configures its first address, `<prefix>::1`, on the interface. */
export function ipv6HostAddress(network: string): string {
    const prefix = network.split("/")[0];
    if (!prefix.endsWith("::")) throw new Error(`unexpected IPv6 network "${network}": expected a /64 such as 2001:db8:1:2::/64`);
    return `${prefix}1`;
}
