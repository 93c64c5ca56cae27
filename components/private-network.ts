import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";

export interface PrivateNetworkArgs {
    /** The network's whole range, e.g. `10.0.0.0/16` (catalog/defaults.ts PRIVATE_NETWORK). */
    ipRange: string;
    /** The one subnet the hosts sit in, inside `ipRange`, e.g. `10.0.1.0/24`. */
    subnet: string;
    /** Hetzner network zone of the subnet (`eu-central` for fsn1, nbg1, hel1); the hosts must be in it. */
    zone: string;
    /**
     * Hetzner's delete protection on the network (a protected network keeps every host's private address).
     * @default false
     */
    protect?: boolean;
    /** Labels on the network. @default {} */
    labels?: Record<string, string>;
}

/**
 * The Hetzner private network joining a stack's hosts (free of charge). Each host attaches itself with a fixed
 * address (HetznerHost `privateNetwork`), so traffic between hosts — platform-api to a media cell's Janus API — never
 * uses a public address. Hetzner Cloud Firewalls filter public interfaces only; the private interface is reachable
 * from the stack's own hosts alone.
 *
 * In hetznercloud/terraform-provider-hcloud v1.67.0 every input of a subnet forces a new one
 * (internal/network/resource_subnet.go: type, network_id, network_zone, ip_range are ForceNew) and its id is
 * `<network id>-<ip range>`: the range and zone are fixed for the network's life.
 */
export class PrivateNetwork extends pulumi.ComponentResource {
    public readonly networkId: pulumi.Output<string>;
    /** What a server attachment names (`hcloud.ServerNetwork.subnetId`). */
    public readonly subnetId: pulumi.Output<string>;
    public readonly ipRange: string;

    constructor(name: string, args: PrivateNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("visualkit:hetzner:PrivateNetwork", name, {}, opts);
        const protect = args.protect ?? false;
        const network = new hcloud.Network(`${name}-network`, { name, ipRange: args.ipRange, deleteProtection: protect, labels: args.labels ?? {} }, { parent: this, protect });
        const subnet = new hcloud.NetworkSubnet(
            `${name}-subnet`,
            { networkId: network.id.apply(Number), type: "cloud", networkZone: args.zone, ipRange: args.subnet },
            { parent: this, protect },
        );
        this.networkId = network.id;
        this.subnetId = subnet.id;
        this.ipRange = args.ipRange;
        this.registerOutputs({ networkId: this.networkId, subnetId: this.subnetId });
    }
}
