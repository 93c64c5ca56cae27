import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { DnsContent, DnsRecordSpec } from "../catalog/dns";
import type { AdoptMap } from "../lib/adopt";
import type { HostHandle } from "../lib/host";
import type { DnsRecordOutput } from "../lib/outputs";

export interface CloudflareDnsArgs {
    /** Zone name, e.g. `visualkit.live`; looked up through the API when `zoneId` is not given. */
    zone: string;
    /**
     * Zone id (32 hex characters); skips the lookup, which needs a token allowed to list zones.
     * @default looked up by `zone`
     */
    zoneId?: string;
    /** The records to manage, from `deriveDnsRecords` (catalog/dns.ts); their number is fixed at preview time. */
    records: readonly DnsRecordSpec[];
    /** Hosts by catalog name; a record that points at a host missing here is an error, not a silent skip. */
    hosts: Readonly<Record<string, Pick<HostHandle, "ipv4" | "ipv6" | "turnIpv4">>>;
    /**
     * The pages.dev subdomain of each Pages project by project name (from `PagesProject.subdomain`).
     * @default {} (no Pages records may then be derived)
     */
    pagesSubdomains?: Readonly<Record<string, pulumi.Input<string>>>;
    /**
     * Existing Cloudflare objects to import instead of creating (from `visualkit:adopt`, written by `npm run adopt`).
     * @default none: every resource is created, which fails or duplicates when the object already exists
     */
    adopt?: AdoptMap;
}

/**
 * Every DNS record of the stack in one Cloudflare zone, with automatic TTL. The record set is decided by the pure
 * derivation in catalog/dns.ts; this component only resolves addresses and registers one `DnsRecord` per entry.
 */
export class CloudflareDns extends pulumi.ComponentResource {
    public readonly zoneId: pulumi.Output<string>;
    public readonly records: pulumi.Output<DnsRecordOutput[]>;
    /** The A and AAAA records pointing at a catalog host, by host name; what a service on that host is reached by. */
    private readonly addressRecordsByHost = new Map<string, { hostname: string; record: cloudflare.DnsRecord }[]>();

    constructor(name: string, args: CloudflareDnsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("visualkit:cloudflare:CloudflareDns", name, {}, opts);
        this.zoneId = args.zoneId
            ? pulumi.output(args.zoneId)
            : cloudflare.getZoneOutput({ filter: { name: args.zone } }, { parent: this }).apply((z) => z.id);

        const resolve = (r: DnsRecordSpec, c: DnsContent): pulumi.Input<string> => {
            switch (c.kind) {
                case "literal":
                    return c.value;
                case "hostAddress": {
                    const host = args.hosts[c.host];
                    if (!host) throw new Error(`CloudflareDns: record ${r.hostname} ${r.type} points at host "${c.host}", which has no HostHandle in index.ts`);
                    const address = host[c.family];
                    if (!address) throw new Error(`CloudflareDns: record ${r.hostname} ${r.type} needs the ${c.family} of host "${c.host}", which that host does not have`);
                    return address;
                }
                case "pagesSubdomain": {
                    const sub = args.pagesSubdomains?.[c.project];
                    if (sub === undefined) throw new Error(`CloudflareDns: record ${r.hostname} CNAME points at Pages project "${c.project}", which was not created`);
                    return sub;
                }
            }
        };

        const outputs = args.records.map((r) => {
            const recordName = `${name}-${r.key}`;
            const record = new cloudflare.DnsRecord(
                recordName,
                {
                    zoneId: this.zoneId,
                    // The fully qualified name: the API stores names that way, and a short name or `@` shows as a
                    // change on every preview (cloudflare/terraform-provider-cloudflare#5440, #7289).
                    name: r.hostname,
                    type: r.type,
                    content: resolve(r, r.content),
                    proxied: r.proxied,
                    ...(r.priority !== undefined ? { priority: r.priority } : {}),
                    ttl: 1,
                    comment: r.comment,
                },
                // Import id '<zone_id>/<dns_record_id>' (@pulumi/cloudflare 6.22.1 dnsRecord.d.ts).
                { parent: this, ...args.adopt?.options(recordName) },
            );
            if (r.content.kind === "hostAddress") {
                const list = this.addressRecordsByHost.get(r.content.host) ?? [];
                list.push({ hostname: r.hostname, record });
                this.addressRecordsByHost.set(r.content.host, list);
            }
            return pulumi.output({ name: r.hostname, type: r.type, content: record.content, proxied: r.proxied, priority: r.priority });
        });
        this.records = pulumi.all(outputs).apply((list) => list.map((o) => (o.priority === undefined ? { name: o.name, type: o.type, content: o.content, proxied: o.proxied } : o)));
        this.registerOutputs({ zoneId: this.zoneId, records: this.records });
    }

    /**
     * The A/AAAA records that point the given hostnames at `host`, for ordering what needs them to resolve (Caddy asks
     * Let's Encrypt for certificates): records of other hosts, Pages CNAMEs and e-mail records are never included.
     */
    addressRecords(host: string, hostnames: readonly string[]): cloudflare.DnsRecord[] {
        const wanted = new Set(hostnames);
        return (this.addressRecordsByHost.get(host) ?? []).filter((r) => wanted.has(r.hostname)).map((r) => r.record);
    }
}
