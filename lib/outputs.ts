import * as pulumi from "@pulumi/pulumi";
import { httpsUrl, routeUrl } from "../catalog/derived";
import type { Catalog } from "../catalog/types";
import type { Environment } from "../config/types";
import { publishedFiles, sha256 } from "./artifacts";
import { healthChecks, type HealthCheck } from "./health-checks";

/**
 * The stack outputs contract: what `pulumi stack output --json` prints and other tools (the smoke checker, CI,
 * StackReferences) rely on. Flat, small, documented in outputs.schema.json, which a test validates the rendered
 * outputs of both stacks against. Adding a key is a minor change (add it to the schema too); renaming or removing
 * one, or changing a value's shape, bumps OUTPUTS_SCHEMA_VERSION.
 */
export const OUTPUTS_SCHEMA_VERSION = 1;
export const MONITORING_RUNBOOK = "docs/monitoring.md";

/** One host; `hosts` is keyed by the catalog host name (`main`). */
export interface HostOutput {
    /** Hetzner server name, e.g. `visualkit-prod-main`. */
    readonly name: string;
    /** Hetzner server id. */
    readonly id: string;
    readonly ipv4: string;
    readonly ipv6: string;
    readonly location: string;
    readonly type: string;
    /** Ready-to-run login command, e.g. `ssh root@203.0.113.10`. */
    readonly ssh: string;
    /** The host's SSH public key (`ssh-ed25519 AAAA… visualkit-main`); tools put `<ipv4> <sshHostKey>` in known_hosts. */
    readonly sshHostKey: string;
    /** Its address on the private network; only when the stack has more than one host. */
    readonly privateIp?: string;
}

export interface DnsRecordOutput {
    readonly name: string;
    readonly type: string;
    readonly content: string;
    readonly proxied: boolean;
    readonly priority?: number;
}

export interface PagesProjectOutput {
    /** Catalog site id: landing, dashboard or meeting. */
    readonly site: string;
    readonly name: string;
    readonly url: string;
    readonly pagesDevUrl: string;
}

/** Where the backups go, without credentials; the freshness check (npm run smoke -- --backups) reads statusFile on `host`. */
export interface BackupsOutput {
    readonly enabled: boolean;
    /** restic repository (s3:… or sftp:…); "" when backups are off. */
    readonly repository: string;
    /** Catalog host whose data is backed up (where Chatwoot runs). */
    readonly host: string;
    /** systemd OnCalendar expressions of the backup and the restore drill; "" when off. */
    readonly schedule: string;
    readonly drillSchedule: string;
    readonly retention: { readonly daily: number; readonly weekly: number; readonly monthly: number };
    /** Status file on the host with the last backup's and drill's results. */
    readonly statusFile: string;
}

/** Where the dashboards and alerts live (docs/monitoring.md); everything on a host listens on its loopback. */
export interface MonitoringOutput {
    /** The on-call page: each alert, what it means, the first command to run. */
    readonly runbook: string;
    /** Prometheus and Alertmanager by catalog host name, with the SSH tunnel that reaches them. */
    readonly hosts: Readonly<Record<string, { readonly prometheus: string; readonly alertmanager: string; readonly tunnel: string }>>;
    /** Who hears the alerts, without secrets: `e-mail to …`, `webhook`, `heartbeat`, or `nobody`. */
    readonly alertsReach: readonly string[];
    /** The outside prober (a Cloudflare Worker); worker "" when off. */
    readonly prober: { readonly enabled: boolean; readonly worker: string; readonly schedule: string; readonly checks: number };
    /** How to read a container's logs, which survive its replacement. */
    readonly logs: string;
}

/** The TURN service (docs/turn.md): what a client or a tool needs, and where the secret is — never the secret. */
export interface TurnOutput {
    /** ICE server URLs in order of preference: TLS on 443 first (passes firewalls that allow only HTTPS). */
    readonly urls: readonly string[];
    readonly hostname: string;
    /** The TURN address (a Hetzner Floating IPv4); coturn listens and relays there only. */
    readonly address: string;
    /** Where the shared secret lives, in words: the secret itself is never an output. */
    readonly secret: string;
    /** Lifetime of a credential platform-api mints (TURN_CREDENTIAL_TTL_SECONDS). */
    readonly credentialTtlSeconds: number;
}

export interface StackOutputs {
    readonly schemaVersion: typeof OUTPUTS_SCHEMA_VERSION;
    readonly stack: string;
    readonly environment: Environment;
    readonly domain: string;
    /** The first catalog host, where every service runs today; `hosts` has them all. */
    readonly host: HostOutput;
    readonly hosts: Readonly<Record<string, HostOutput>>;
    /** Every public URL by route, site or redirect id. */
    readonly endpoints: Readonly<Record<string, string>>;
    readonly healthChecks: readonly HealthCheck[];
    readonly dnsRecords: readonly DnsRecordOutput[];
    readonly pagesProjects: readonly PagesProjectOutput[];
    readonly backups: BackupsOutput;
    readonly monitoring: MonitoringOutput;
    /** The TURN service; absent when the catalog has none. */
    readonly turn?: TurnOutput;
    /** The private network joining the hosts; absent with one host. */
    readonly privateNetwork?: Catalog["privateNetwork"];
    /** Media cells (docs/hosts.md); absent without any. */
    readonly mediaCells?: Catalog["mediaCells"];
    /** SHA-256 (hex) of every generated file by its path under rendered/<stack>/. */
    readonly files: Readonly<Record<string, string>>;
}

/** Each leaf may still be unresolved: Pulumi resolves the returned object before it stores the outputs. */
type Unresolved<T> = T extends string | number | boolean
    ? pulumi.Input<T>
    : T extends readonly (infer U)[]
      ? pulumi.Input<readonly U[]> | readonly Unresolved<U>[]
      : { readonly [K in keyof T]: Unresolved<T[K]> };

/** What a host component offers (HetznerHost); structural so the contract does not depend on one implementation. */
export interface HostSource {
    readonly serverName: pulumi.Input<string>;
    readonly serverId: pulumi.Input<string>;
    readonly ipv4: pulumi.Input<string>;
    readonly ipv6: pulumi.Input<string>;
    readonly location: pulumi.Input<string>;
    readonly serverType: pulumi.Input<string>;
    readonly ssh: pulumi.Input<string>;
    readonly sshHostKey: pulumi.Input<string>;
    /** Fixed address on the private network, when there is one. */
    readonly privateIp?: string;
}

/** What a Pages component offers (PagesSite) for one catalog site. */
export interface PagesSource {
    readonly projectName: pulumi.Input<string>;
    readonly pagesDevUrl: pulumi.Input<string>;
}

export interface OutputsInput {
    readonly stack: string;
    readonly environment: Environment;
    readonly catalog: Catalog;
    /** Hosts by catalog name; every catalog host must be here. */
    readonly hosts: Readonly<Record<string, HostSource>>;
    /**
     * The zone's records as created (CloudflareDns.records).
     * @default [] (no Cloudflare component wired)
     */
    readonly dnsRecords?: pulumi.Input<readonly DnsRecordOutput[]>;
    /**
     * Pages projects by catalog site id; when given, every catalog site must be there.
     * @default {} and no pagesProjects (no Pages component wired)
     */
    readonly pages?: Readonly<Record<string, PagesSource>>;
    /**
     * Where the backups go (plain values from the config).
     * @default off, on the first catalog host
     */
    readonly backups?: BackupsOutput;
    /**
     * Where the dashboards and alerts live.
     * @default no host monitored, prober off
     */
    readonly monitoring?: Unresolved<MonitoringOutput>;
    /**
     * The TURN service, its address still unresolved.
     * @default absent
     */
    readonly turn?: Unresolved<TurnOutput>;
}

/** Every public URL: VPS routes (https/wss), Pages sites and redirects from the catalog. */
export function endpointsOf(catalog: Catalog): Record<string, string> {
    return Object.fromEntries([
        ...catalog.services.flatMap((s) => s.routes.map((r) => [r.id, routeUrl(r)])),
        ...catalog.pages.map((p) => [p.id, httpsUrl(p.hostname)]),
        ...catalog.redirects.map((r) => [r.id, httpsUrl(r.hostname)]),
    ]);
}

function hostOutput(host: HostSource): Unresolved<HostOutput> {
    return { name: host.serverName, id: host.serverId, ipv4: host.ipv4, ipv6: host.ipv6, location: host.location, type: host.serverType, ssh: host.ssh, sshHostKey: host.sshHostKey, ...(host.privateIp ? { privateIp: host.privateIp } : {}) };
}

/** The hashes of every file published so far; call it after every component is constructed. */
function fileHashes(): Record<string, pulumi.Output<string>> {
    const files = [...publishedFiles().entries()].sort(([a], [b]) => a.localeCompare(b));
    // A hash reveals nothing of a secret the file embeds, and tools compare hashes in plain text.
    return Object.fromEntries(files.map(([path, text]) => [path, pulumi.unsecret(text.apply(sha256))]));
}

export function stackOutputs(input: OutputsInput): Unresolved<StackOutputs> {
    const { catalog } = input;
    const missing = catalog.hosts.filter((h) => !input.hosts[h.name]).map((h) => h.name);
    if (missing.length > 0) throw new Error(`stack outputs: no host component for catalog host(s) ${missing.join(", ")}`);
    const hosts = Object.fromEntries(catalog.hosts.map((h) => [h.name, hostOutput(input.hosts[h.name])]));
    return {
        schemaVersion: OUTPUTS_SCHEMA_VERSION,
        stack: input.stack,
        environment: input.environment,
        domain: catalog.domain,
        host: hosts[catalog.hosts[0].name],
        hosts,
        endpoints: endpointsOf(catalog),
        healthChecks: healthChecks(catalog),
        dnsRecords: input.dnsRecords ?? [],
        pagesProjects: (input.pages ? catalog.pages : []).map((site) => {
            const source = input.pages?.[site.id];
            if (!source) throw new Error(`stack outputs: no Pages component for site ${site.id}`);
            return { site: site.id, name: source.projectName, url: httpsUrl(site.hostname), pagesDevUrl: source.pagesDevUrl };
        }),
        ...(input.turn ? { turn: input.turn } : {}),
        ...(catalog.privateNetwork ? { privateNetwork: catalog.privateNetwork } : {}),
        ...(catalog.mediaCells.length > 0 ? { mediaCells: catalog.mediaCells } : {}),
        backups: input.backups ?? { enabled: false, repository: "", host: catalog.hosts[0].name, schedule: "", drillSchedule: "", retention: { daily: 0, weekly: 0, monthly: 0 }, statusFile: "" },
        monitoring: input.monitoring ?? { runbook: MONITORING_RUNBOOK, hosts: {}, alertsReach: ["nobody"], prober: { enabled: false, worker: "", schedule: "", checks: 0 }, logs: "" },
        files: fileHashes(),
    };
}
