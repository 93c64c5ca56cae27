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
    /** SSH connection for day-2 steps (`@pulumi/command` remote commands, file copies). */
    readonly connection: pulumi.Output<command.types.input.remote.ConnectionArgs>;
    /** Resolves once cloud-init has finished and Docker and Caddy answer; depend on it for anything on the box. */
    readonly ready: pulumi.Resource;
}
