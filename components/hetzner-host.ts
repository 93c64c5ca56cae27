import { createHash } from "node:crypto";
import * as command from "@pulumi/command";
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { firewallRules } from "../catalog/firewall";
import type { Catalog, HostSpec } from "../catalog/types";
import type { SecretString } from "../config/secret";
import { publishFile } from "../lib/artifacts";
import { ipv6HostAddress, type HostHandle } from "../lib/host";
import { shippedFile } from "../lib/shipped";
import { REMOTE_COMMAND_DEFAULTS, sshConnection } from "../lib/ssh";
import { ed25519HostKey } from "../lib/ssh-host-key";
import { hostLayout, renderCloudInit } from "../render/cloud-init";

export interface HetznerHostArgs {
    /** The catalog host this server is: its name (the `role` label) and the data volume's mount point. */
    host: HostSpec;
    /** The service catalog; the firewall opens what the services on this host expose and nothing else. */
    catalog: Catalog;
    /**
     * Hetzner server type, e.g. `cx22`. A change resizes the server in place: it is stopped for a minute or two, and
     * its disk grows with it, so it cannot go back to a smaller type later.
     */
    serverType: string;
    /** Hetzner location of the server, its IPs and its volume; a change replaces all of them. */
    location: string;
    /** OS image for new servers; cloud-init targets Debian 12. @default "debian-12" */
    image?: string;
    /** Hetzner automatic backups: seven daily snapshots for +20% of the server price. @default false */
    backups?: boolean;
    /**
     * Let a changed bootstrap (user data, SSH keys, image) replace the server; the IPs and the volume stay, and every
     * day-2 step re-runs on the new server. Off, those changes are ignored and a running server is never rebuilt.
     * @default false
     */
    rebootstrap?: boolean;
    /**
     * Path under rendered/<stack>/ the user data is published as; one per host once there is more than one.
     * @default "cloud-init.yaml"
     */
    publishAs?: string;
    /** Size of the data volume in GB (at least 10); it can grow (then run resize2fs on the host), never shrink. */
    volumeSizeGb: number;
    /**
     * Pulumi `protect` plus Hetzner's delete protection on both IPs and the volume (which is also kept when the stack
     * is destroyed), Hetzner's delete and rebuild protection on the server. Turning it off takes a `pulumi up` before
     * anything can be deleted.
     * @default false
     */
    protect?: boolean;
    /** OpenSSH public keys that may log in as root: given to a new server, and kept in sync on a running one. */
    sshPublicKeys: readonly string[];
    /** CIDRs allowed to reach SSH; the machine running `pulumi up` must be inside one of them. */
    sshAllowedCidrs: readonly string[];
    /**
     * Private key for the SSH steps, sent as a secret; when absent the command provider logs in through the ssh-agent
     * of the shell running `pulumi up` (SSH_AUTH_SOCK), which the Docker provider's `ssh` needs anyway.
     * @default undefined
     */
    sshPrivateKey?: SecretString;
    /** Labels on every Hetzner resource, e.g. project and stack; `role` is set to the host's name. @default {} */
    labels?: Record<string, string>;
    /**
     * The private network subnet (PrivateNetwork) and this host's fixed address in it; the readiness step waits for
     * the attachment, so services binding the private address (a media cell's Janus) find it. Any change of either
     * replaces the attachment (terraform-provider-hcloud v1.67.0 internal/server/resource_network.go: server_id,
     * network_id, subnet_id and ip all RequiresReplace). @default none (a one-host stack has no private network)
     */
    privateNetwork?: { subnetId: pulumi.Input<string>; ip: string };
    /** How long the readiness check waits for cloud-init, Docker and Caddy on a new server. @default 900 */
    readyTimeoutSeconds?: number;
}

/**
 * One Hetzner Cloud host: SSH keys, IPv4 and IPv6 primary IPs that outlive the server, the server bootstrapped by
 * cloud-init, a firewall derived from the catalog, a persistent data volume, a readiness step that everything
 * deployed onto the host depends on, and root's authorized_keys kept equal to the configured keys.
 */
export class HetznerHost extends pulumi.ComponentResource implements HostHandle {
    public readonly name: string;
    public readonly serverId: pulumi.Output<string>;
    public readonly serverName: pulumi.Output<string>;
    public readonly location: pulumi.Output<string>;
    public readonly serverType: pulumi.Output<string>;
    public readonly ipv4: pulumi.Output<string>;
    public readonly ipv6: pulumi.Output<string>;
    public readonly sshHostKey: pulumi.Output<string>;
    /** The TURN address (a Floating IPv4), when the catalog runs a TURN service on this host. */
    public readonly turnIpv4?: pulumi.Output<string>;
    public readonly volumeId: pulumi.Output<string>;
    /** Its fixed address on the private network, when the stack has one. */
    public readonly privateIp?: string;
    /** `ssh root@<ipv4>`, ready to paste. */
    public readonly ssh: pulumi.Output<string>;
    public readonly connection: pulumi.Output<command.types.input.remote.ConnectionArgs>;
    public readonly ready: pulumi.Resource;
    public readonly instance: pulumi.Output<string>;

    constructor(name: string, args: HetznerHostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("visualkit:hetzner:HetznerHost", name, {}, opts);
        const protect = args.protect ?? false;
        const labels = { ...(args.labels ?? {}), role: args.host.name };
        const location = args.location;
        this.name = args.host.name;

        const { publicKeys, keys } = sshKeys(name, args.sshPublicKeys, labels, this);

        // No assigneeType: without assigneeId the provider only warns that it is unused, on every run
        // (terraform-provider-hcloud v1.67.0 internal/primaryip/resource.go:178-183); the server's publicNets assign them.
        const primaryIp = (type: "ipv4" | "ipv6") =>
            new hcloud.PrimaryIp(
                `${name}-${type}`,
                { name: `${name}-${type}`, type, location, autoDelete: false, deleteProtection: protect, labels },
                { parent: this, protect },
            );
        const ipv4 = primaryIp("ipv4");
        const ipv6 = primaryIp("ipv6");

        const volume = new hcloud.Volume(
            `${name}-data`,
            { name: `${name}-data`, size: args.volumeSizeGb, location, automount: false, deleteProtection: protect, labels },
            { parent: this, protect, retainOnDelete: protect },
        );

        const { userData, sshHostKey } = bootstrap(name, args, volume, this);
        this.sshHostKey = sshHostKey;
        const server = createServer(name, args, { labels, keys, userData, ipv4, ipv6 }, this);

        if (hasTurnAddress(args.catalog, args.host.name)) this.turnIpv4 = turnAddress(name, server, labels, protect, this);

        const volumeAttachment = new hcloud.VolumeAttachment(
            `${name}-data-attachment`,
            { serverId: server.id.apply(Number), volumeId: volume.id.apply(Number), automount: false },
            { parent: this },
        );

        // A separate attachment, not the server's own `networks` block: one owner per attachment (the server resource
        // diffs its block only while it is set, internal/server/resource.go), and adding a host's network later is an
        // attachment, never a change of the server.
        const privateAttachment = args.privateNetwork
            ? new hcloud.ServerNetwork(`${name}-private`, { serverId: server.id.apply(Number), subnetId: args.privateNetwork.subnetId, ip: args.privateNetwork.ip }, { parent: this })
            : undefined;
        this.privateIp = args.privateNetwork?.ip;

        this.serverId = server.id;
        this.instance = server.id;
        this.serverName = server.name;
        this.location = server.location;
        this.serverType = server.serverType;
        this.ipv4 = ipv4.ipAddress;
        this.ipv6 = ipv6.ipNetwork.apply(ipv6HostAddress);
        this.volumeId = volume.id;
        this.ssh = pulumi.interpolate`ssh root@${this.ipv4}`;
        this.connection = sshConnection(this.ipv4, this.sshHostKey, args.sshPrivateKey);

        this.ready = remoteSteps(name, args, this.connection, server, privateAttachment ? [volumeAttachment, privateAttachment] : [volumeAttachment], [...publicKeys.values()].map((k) => k.line), this);

        this.registerOutputs({
            serverId: this.serverId,
            serverName: this.serverName,
            location: this.location,
            serverType: this.serverType,
            ipv4: this.ipv4,
            ipv6: this.ipv6,
            turnIpv4: this.turnIpv4,
            volumeId: this.volumeId,
            ssh: this.ssh,
            sshHostKey: this.sshHostKey,
        });
    }
}

/**
 * TURN needs TCP 443 on an address Caddy does not own (docs/turn.md): a server has one primary IPv4, so the second one
 * is a Floating IP. It outlives the server like the primary IPs; a replaced server gets it reassigned.
 */
function turnAddress(name: string, server: hcloud.Server, labels: Record<string, string>, protect: boolean, parent: pulumi.Resource): pulumi.Output<string> {
    return new hcloud.FloatingIp(
        `${name}-turn-ipv4`,
        { name: `${name}-turn-ipv4`, type: "ipv4", serverId: server.id.apply(Number), description: "TURN address: coturn on UDP/TCP 3478, TLS 5349 and 443", deleteProtection: protect, labels },
        { parent, protect },
    ).ipAddress;
}

/** Standard input of scripts/host/install-authorized-keys.sh: a header with the key count, then one key per line. */
export function authorizedKeysInput(lines: readonly string[]): string {
    return [`# visualkit-authorized-keys: ${lines.length}`, ...lines].map((l) => `${l}\n`).join("");
}

/** Whether a service on the host has a name at the dedicated TURN address (then the host gets a Floating IPv4). */
export function hasTurnAddress(catalog: Catalog, host: string): boolean {
    return catalog.services.some((s) => s.host === host && (s.names ?? []).some((n) => n.address === "turnIpv4"));
}

/** One Hetzner key per distinct public key. */
function sshKeys(name: string, lines: readonly string[], labels: Record<string, string>, parent: pulumi.Resource) {
    // Only "type blob", named by its hash: Hetzner refuses a second key with the same blob, so neither a comment
    // edit nor removing another key from the list may replace a key.
    const publicKeys = new Map<string, { publicKey: string; line: string }>();
    for (const line of lines.map((l) => l.trim())) {
        const publicKey = line.split(/\s+/).slice(0, 2).join(" ");
        const id = createHash("sha256").update(publicKey).digest("hex").slice(0, 8);
        if (!publicKeys.has(id)) publicKeys.set(id, { publicKey, line });
    }
    const keys = [...publicKeys].map(
        ([id, { publicKey }]) => new hcloud.SshKey(`${name}-ssh-${id}`, { name: `${name}-${id}`, publicKey, labels }, { parent }),
    );
    return { publicKeys, keys };
}

/** The server behind its firewall, on the primary IPs, booting from the user data. */
function createServer(
    name: string,
    args: HetznerHostArgs,
    with_: { labels: Record<string, string>; keys: hcloud.SshKey[]; userData: pulumi.Output<string>; ipv4: hcloud.PrimaryIp; ipv6: hcloud.PrimaryIp },
    parent: pulumi.Resource,
): hcloud.Server {
    const { labels, keys, userData, ipv4, ipv6 } = with_;
    const protect = args.protect ?? false;
    const location = args.location;
    // The rules live on the Firewall alone: a rule change updates it in place and never touches the server.
    const firewall = new hcloud.Firewall(
        `${name}-firewall`,
        {
            name,
            labels,
            rules: firewallRules(args.catalog, args.host.name, args.sshAllowedCidrs).map((r) => ({
                direction: "in",
                protocol: r.protocol,
                port: r.port,
                sourceIps: [...r.sourceIps],
                description: r.description,
            })),
        },
        { parent },
    );
    const server = new hcloud.Server(
        `${name}-server`,
        {
            name,
            serverType: args.serverType,
            location,
            image: args.image ?? "debian-12",
            backups: args.backups ?? false,
            labels,
            sshKeys: keys.map((k) => k.id),
            // Applied by Hetzner when the server is created, so it never boots unprotected; a FirewallAttachment
            // would attach it only after the server exists, leaving every port open for its first minute (the
            // SDK's FirewallAttachment docs). Both on one firewall fight: the server detaches what the attachment
            // attached (hetznercloud/terraform-provider-hcloud#828), so there is no attachment.
            firewallIds: [firewall.id.apply(Number)],
            userData,
            publicNets: [{ ipv4Enabled: true, ipv4: ipv4.id.apply(Number), ipv6Enabled: true, ipv6: ipv6.id.apply(Number) }],
            deleteProtection: protect,
            rebuildProtection: protect,
            // Lets Docker stop the containers (and Postgres flush) before the server is deleted.
            shutdownBeforeDeletion: true,
        },
        {
            parent,
            // hcloud replaces the server when userData, sshKeys or image change (https://github.com/pulumi/pulumi-hcloud/issues/482,
            // upstream hetznercloud/terraform-provider-hcloud#372 and #737). All three are bootstrap: a running server gets
            // day-2 changes over SSH and the Docker API, never a rebuild. Ignored inputs keep their recorded values even
            // when the server is replaced for another reason, so applying a new bootstrap takes `rebootstrap`.
            ignoreChanges: args.rebootstrap ? [] : ["userData", "sshKeys", "image"],
            // The primary IPs can be assigned to one server at a time and the name is unique per project, so a
            // replacement must delete the old server before it creates the new one.
            deleteBeforeReplace: true,
        },
    );
    return server;
}

/** Waits for the booted host, then keeps root's authorized keys equal to the config; returns the wait. */
function remoteSteps(
    name: string,
    args: HetznerHostArgs,
    connection: pulumi.Output<command.types.input.remote.ConnectionArgs>,
    server: hcloud.Server,
    attachments: pulumi.Resource[],
    keyLines: string[],
    parent: pulumi.Resource,
): command.remote.Command {
    const timeout = args.readyTimeoutSeconds ?? 900;
    const ready = new command.remote.Command(
        `${name}-ready`,
        {
            ...REMOTE_COMMAND_DEFAULTS,
            connection: connection,
            create: `bash -s -- ${timeout}`,
            stdin: shippedFile("scripts/host/wait-ready.sh"),
            // The host's instance (HostHandle.instance): a new server behind the same IPs must be waited for.
            triggers: [server.id],
        },
        { parent, dependsOn: [server, ...attachments] },
    );
    // The server's sshKeys are fixed at creation (see ignoreChanges above); this keeps root's keys equal to the
    // config on every `pulumi up`, so removing a key revokes it.
    new command.remote.Command(
        `${name}-authorized-keys`,
        {
            ...REMOTE_COMMAND_DEFAULTS,
            connection: connection,
            create: shippedFile("scripts/host/install-authorized-keys.sh"),
            // The header tells the script how many keys to expect (it refuses any other count).
            stdin: authorizedKeysInput(keyLines),
            // The host's instance: a new server behind the same IPs starts from its creation-time keys, so sync it too.
            triggers: [server.id],
        },
        { parent, dependsOn: [ready] },
    );
    return ready;
}

/** The cloud-init user data (published, secret) and the host key it installs, whose public half clients pin. */
function bootstrap(name: string, args: HetznerHostArgs, volume: hcloud.Volume, parent: pulumi.Resource) {
    // The host key is the state's, not the server's: generated once (like GeneratedSecrets), it outlives any server
    // behind these IPs, so a rebuilt server presents the key every client already pins. The user data carries the
    // private half and is a secret; the public half is not.
    const hostKeySecret = new random.RandomPassword(`${name}-ssh-host-key`, { length: 64, special: false }, { parent }).result;
    const hostKey = pulumi.secret(hostKeySecret).apply((secret) => ed25519HostKey(secret, `visualkit-${args.host.name}`));
    const sshHostKey = pulumi.unsecret(hostKey.apply((k) => k.publicKey));
    const userData = pulumi.secret(
        pulumi
            .all([volume.linuxDevice, hostKey])
            .apply(([volumeDevice, key]) => renderCloudInit({ volumeDevice, mountScript: shippedFile("scripts/host/mount-data-volume.sh"), hostKey: key, ...hostLayout(args.host) })),
    );
    publishFile(args.publishAs ?? "cloud-init.yaml", userData);
    return { userData, sshHostKey };
}
