import { hostRoutes, type ServiceSpec } from "./catalog";
import { CHATWOOT_DATABASE } from "./catalog/defaults";
import { deriveDnsRecords, redirectRules } from "./catalog/dns";
import { CaddyConfig } from "./components/caddy-config";
import { CloudflareDns } from "./components/cloudflare-dns";
import { DockerHost } from "./components/docker-host";
import { GeneratedSecrets } from "./components/generated-secrets";
import { hostCapacity } from "./catalog/limits";
import { HetznerHost, hasTurnAddress } from "./components/hetzner-host";
import { ImagePrune } from "./components/image-prune";
import { JanusSecrets } from "./components/janus-secrets";
import { Monitoring } from "./components/monitoring";
import { Prober } from "./components/prober";
import { PagesSite } from "./components/pages-site";
import { WwwRedirect } from "./components/www-redirect";
import { ZoneSettings } from "./components/zone-settings";
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./stack/load";
import { AdoptMap } from "./lib/adopt";
import { publishFile } from "./lib/artifacts";
import type { HostHandle } from "./lib/host";
import { healthChecks } from "./lib/health-checks";
import { MONITORING_RUNBOOK, stackOutputs, type BackupsOutput } from "./lib/outputs";
import { refuseDuplicateRecords } from "./lib/takeover-guard";
import { renderArchitecture } from "./render/architecture";
import { BACKUP_PATHS } from "./render/backups";
import { sshTunnel } from "./render/monitoring";
import { TURN_LIMITS, turnService, turnUrls } from "./render/coturn";
import { DEPLOYERS, type Program as DeployProgram } from "./program/services";
import { PrivateNetwork } from "./components/private-network";
import { renderCost } from "./render/cost";
import { janusAdminUrl, janusSettings, janusSettingsOf } from "./render/janus";

type Loaded = ReturnType<typeof loadConfig>;
/** What every step below reads: the stack's name, its config and catalog, and the hosts created so far. */
type Program = Loaded & DeployProgram;
type HostSpec = Loaded["catalog"]["hosts"][number];

/** A file published per host: its own name on a one-host stack, under the host's folder otherwise. */
function perHost(p: Program, hostName: string, file: string): string {
    return p.catalog.hosts.length === 1 ? file : `${hostName}/${file}`;
}

/**
 * The VisualKit platform. Pulumi calls the exported function and uses what it returns as the stack outputs;
 * the offline render (`npm run render`) and the tests call it the same way under mocks.
 *
 * Normalize → validate → create: config is parsed and validated first, so a bad stack file fails with every
 * problem listed before any resource is registered.
 */
async function main() {
    const loaded = loadConfig();
    const { config, catalog } = loaded;
    const name = `visualkit-${config.stack}`;
    const adopt = new AdoptMap(config.adopt);
    const { zoneId, records } = await takeoverGuard(loaded, adopt);

    const generated = new GeneratedSecrets(`${name}-secrets`);
    const janusConfig = janusSettings(catalog, config);
    const janus = new JanusSecrets(`${name}-janus-secrets`, { plugins: janusConfig.plugins });
    const p: Program = { ...loaded, name, hosts: {}, secrets: { generated, janus, janusConfig } };

    const servers = createHosts(p);
    const { dns, pages } = createCloudflare(p, adopt, zoneId, records);
    checkAdoptMap(p, adopt);
    const caddyOf = createCaddy(p, dns);
    const monitors: Record<string, Monitoring> = {};
    let backups: BackupsOutput | undefined;
    for (const host of catalog.hosts) {
        const created = hostServices(p, host, caddyOf);
        if (!created) continue;
        monitors[host.name] = created.monitoring;
        backups = created.backups ?? backups;
    }
    const { monitoring, prober } = monitoringOutput(p, monitors);
    const turn = turnOutput(p);
    publishReports(p, prober !== undefined);

    // The outputs contract (lib/outputs.ts, checked against outputs.schema.json): other tools rely on its shape.
    return stackOutputs({
        stack: config.stack,
        environment: config.environment,
        catalog,
        hosts: Object.fromEntries(servers.map((s) => [s.name, s])),
        dnsRecords: dns.records,
        pages: Object.fromEntries(pages.map(([site, page]) => [site.id, page])),
        backups,
        monitoring,
        turn,
    });
}

/**
 * Takeover guard, before anything is registered: the zone's existing records must be the stack's own or adopted
 * wherever the stack puts a record of its own (Cloudflare would otherwise accept a second A record at `api`).
 */
async function takeoverGuard({ config, catalog }: Loaded, adopt: AdoptMap) {
    const cf = config.cloudflare;
    const records = deriveDnsRecords(catalog, { zone: cf.zone, project: config.project, stack: config.stack, email: config.email, cutoverFromIpv4: config.cutoverFromIpv4 });
    const zoneId = cf.zoneId ?? (await cloudflare.getZone({ filter: { name: cf.zone } })).id;
    await refuseDuplicateRecords({ zoneId, zone: cf.zone, project: config.project, stack: config.stack, records, adopt });
    return { zoneId, records };
}

/** Hosts: one per catalog host, looked up by the name each service gives. */
function createHosts(p: Program): HetznerHost[] {
    const { config, catalog } = p;
    // More than one host: a private network joins them (each at its catalog address); one host has none.
    const net = catalog.privateNetwork
        ? new PrivateNetwork(`${p.name}-private`, { ...catalog.privateNetwork, protect: config.protect, labels: { project: config.project, stack: config.stack } })
        : undefined;
    return catalog.hosts.map((host) => {
        const server = new HetznerHost(`${p.name}-${host.name}`, {
            host,
            catalog,
            serverType: host.machine.serverType,
            location: host.machine.location,
            image: config.server.image,
            backups: config.server.backups,
            rebootstrap: config.server.rebootstrap,
            publishAs: perHost(p, host.name, "cloud-init.yaml"),
            volumeSizeGb: host.machine.volumeSizeGb,
            protect: config.protect,
            sshPublicKeys: config.ssh.publicKeys,
            sshAllowedCidrs: config.ssh.allowedCidrs,
            sshPrivateKey: config.ssh.privateKey,
            labels: { project: config.project, stack: config.stack },
            ...(net && host.privateIp ? { privateNetwork: { subnetId: net.subnetId, ip: host.privateIp } } : {}),
        });
        p.hosts[host.name] = server;
        return server;
    });
}

/** Cloudflare: DNS records from the catalog, e-mail records, Pages projects, www redirect, zone settings. */
function createCloudflare(p: Program, adopt: AdoptMap, zoneId: string, records: ReturnType<typeof deriveDnsRecords>) {
    const { config, catalog, name } = p;
    const cf = config.cloudflare;
    const pages = catalog.pages.map((site) => {
        const pagesSite = new PagesSite(`${name}-pages-${site.id}`, {
            accountId: cf.accountId,
            site,
            git: config.pages.git,
            productionBranch: config.pages.productionBranch,
            buildCommand: config.pages.buildCommand,
            outputDir: config.pages.outputDir,
            adopt,
        });
        return [site, pagesSite] as const;
    });
    const hostFor = (hostName: string): HostHandle => {
        const handle = p.hosts[hostName];
        if (!handle) throw new Error(`index.ts: a catalog service runs on host "${hostName}", but no host of that name was created`);
        return handle;
    };
    const dns = new CloudflareDns(`${name}-dns`, {
        zone: cf.zone,
        zoneId,
        records,
        hosts: Object.fromEntries(catalog.services.map((s) => [s.host, hostFor(s.host)])),
        pagesSubdomains: Object.fromEntries(pages.map(([site, page]) => [site.project, page.subdomain])),
        adopt,
    });
    // Zone-wide things (one redirect entrypoint ruleset, one value per setting) belong to the stack whose domain is
    // the zone (catalog.ownsZone); dev lives inside prod's zone and must not take them over.
    if (catalog.ownsZone) {
        new WwwRedirect(`${name}-redirects`, { zoneId: dns.zoneId, rules: redirectRules(catalog.redirects), description: `Managed by Pulumi ${config.project}/${config.stack}`, adopt });
        new ZoneSettings(`${name}-zone`, { zoneId: dns.zoneId, adopt });
    }
    return { dns, pages };
}

/** Every Cloudflare resource exists by now: an adopt entry nothing asked for is a stale map, not something to ignore. */
function checkAdoptMap({ config }: Program, adopt: AdoptMap): void {
    const unused = adopt.unused();
    if (unused.length > 0) {
        throw new Error(
            `visualkit:adopt in Pulumi.${config.stack}.yaml names resources this stack does not create: ${unused.join(", ")}. ` +
                `Re-run npm run adopt -- ${config.stack} (it rewrites the map), or remove those entries.`,
        );
    }

    // An import left in the map blocks any later replacement of that resource (lib/adopt.ts): say so while it lasts.
    const stillImported = adopt.imported();
    if (stillImported.length > 0) {
        void pulumi.log.warn(
            `visualkit:adopt imports ${stillImported.length} resource(s): ${stillImported.join(", ")}. Once this pulumi up has succeeded, run ` +
                `npm run adopt -- ${config.stack} again (it writes only objects the state does not hold, so the map empties): a resource that still ` +
                `carries an import id cannot be replaced (docs/operation.md "Adopted resources").`,
        );
    }
}

/**
 * Caddy: the Caddyfile rendered from the catalog, installed on each host that serves routes once the names it
 * serves point at that host (Caddy requests their certificates as soon as it loads the file).
 */
function createCaddy(p: Program, dns: CloudflareDns): Record<string, CaddyConfig> {
    const { config, catalog } = p;
    const caddyHosts = catalog.hosts.filter((host) => hostRoutes(catalog, host.name).length > 0);
    const caddyOf: Record<string, CaddyConfig> = {};
    for (const host of caddyHosts) {
        // Names that are not routes (the TURN hostname) get a certificate-only site: Caddy waits for their records too.
        const names = catalog.services.filter((s) => s.host === host.name).flatMap((s) => (s.names ?? []).map((n) => n.hostname));
        caddyOf[host.name] = new CaddyConfig(`${p.name}-${host.name}-caddy`, {
            host: p.hosts[host.name],
            dnsRecords: dns.addressRecords(host.name, [...hostRoutes(catalog, host.name).map(({ route }) => route.hostname), ...names]),
            catalog,
            acmeEmail: config.acmeEmail,
            caddyVersion: config.caddyVersion,
            tls: config.caddyTls,
            logLevel: config.logLevel,
            publishAs: caddyHosts.length === 1 ? "Caddyfile" : `${host.name}/Caddyfile`,
        });
    }
    return caddyOf;
}

/**
 * Docker services on one host: its engine over SSH once the host is ready, the platform network, then the component
 * of each catalog service placed there (program/services.ts, by the service's component kind), its monitoring.
 * Nothing on a host without services.
 */
function hostServices(p: Program, host: HostSpec, caddyOf: Record<string, CaddyConfig>) {
    const { config, catalog, name } = p;
    const placed = catalog.services.filter((s) => s.host === host.name);
    if (placed.length === 0) return undefined;
    const docker = new DockerHost(`${name}-${host.name}-docker`, { host: p.hosts[host.name], spec: host, capacity: hostCapacity(host.machine.serverType), registry: config.registry });
    // Images are kept on `pulumi up` (lib/containers.ts pullImage); this host timer removes the unused ones.
    new ImagePrune(`${name}-${host.name}-image-prune`, { host: p.hosts[host.name], publishAs: perHost(p, host.name, "image-prune") });
    let backups: BackupsOutput | undefined;
    for (const [kind, deploy] of DEPLOYERS) {
        for (const service of placed.filter((s) => s.component === kind)) {
            backups = deploy({ p, host, service, docker, caddy: caddyOf[host.name], perHost: (file) => perHost(p, host.name, file) })?.backups ?? backups;
        }
    }
    const monitoring = hostMonitoring(p, host, placed);
    return { monitoring, backups };
}

/** Metrics and alerts on every host with services: what runs there, its routes, its backups. */
function hostMonitoring(p: Program, host: HostSpec, placed: readonly ServiceSpec[]): Monitoring {
    const { config, catalog, secrets } = p;
    const chatwoot = placed.find((s) => s.component === "chatwoot");
    const janus = placed.find((s) => s.component === "janus");
    const janusHere = janus && janusSettingsOf(janus, config);
    const janusHost = janusHere && (janusHere.bindAddress.includes(":") ? `[${janusHere.bindAddress}]` : janusHere.bindAddress);
    return new Monitoring(`${p.name}-${host.name}-monitoring`, {
        host: p.hosts[host.name],
        publishAs: perHost(p, host.name, "monitoring"),
        layout: {
            stack: config.stack,
            host: host.name,
            dataDir: host.dataDir,
            hostnames: hostRoutes(catalog, host.name).map(({ route }) => route.hostname),
            janus: janusHere && { apiUrl: `http://${janusHost}:${janusHere.ports.http}/janus`, adminUrl: janusAdminUrl(janusHere) },
            postgres: chatwoot && { container: "chatwoot-postgres", user: CHATWOOT_DATABASE.user },
            redis: chatwoot && { container: "chatwoot-redis" },
            backupStatus: chatwoot && config.backups ? BACKUP_PATHS.status : undefined,
        },
        routing: { alertEmail: config.monitoring.alertEmail, smtp: config.chatwoot.smtp, webhookUrl: config.monitoring.webhookUrl, heartbeatUrl: config.monitoring.heartbeatUrl },
        secrets: {
            janusAdminSecret: janusHere && secrets.generated.janusAdminSecret,
            janusTokenSecret: janusHere && secrets.janus.tokenSecret,
            redisPassword: chatwoot && secrets.generated.redisPassword,
        },
    });
}

/**
 * The monitoring output, and the outside prober: only with a webhook on the internet to tell (it has no other way
 * to reach a person; a webhook on a private address is out of its reach).
 */
function monitoringOutput(p: Program, monitors: Record<string, Monitoring>) {
    const { config, catalog } = p;
    const checks = healthChecks(catalog);
    const prober =
        config.monitoring.prober && config.monitoring.webhookUrl && checks.length > 0
            ? new Prober(`${p.name}-prober`, { accountId: config.cloudflare.accountId, stack: config.stack, checks, webhookUrl: config.monitoring.webhookUrl })
            : undefined;
    const monitoring = {
        runbook: MONITORING_RUNBOOK,
        hosts: Object.fromEntries(
            Object.entries(monitors).map(([hostName, m]) => [
                hostName,
                { prometheus: m.prometheusUrl, alertmanager: m.alertmanagerUrl, tunnel: p.hosts[hostName].ipv4.apply((ip) => sshTunnel(ip)) },
            ]),
        ),
        alertsReach: Object.values(monitors)[0]?.alertsReach ?? ["nobody"],
        prober: { enabled: prober !== undefined, worker: prober?.scriptName ?? "", schedule: prober?.schedule ?? "", checks: prober ? checks.length : 0 },
        logs: `npm run logs -- ${config.stack} <container>`,
    };
    return { monitoring, prober };
}

/** TURN: URLs and where the secret is, for platform-api's operators and other tools (never the secret). */
function turnOutput(p: Program) {
    const turnPublic = turnService(p.catalog);
    const turnHost = p.catalog.services.find((s) => s.id === "turn")?.host;
    const turnAddress = turnHost ? p.hosts[turnHost]?.turnIpv4 : undefined;
    return turnPublic && turnAddress
        ? {
              urls: turnUrls(turnPublic.hostname, turnPublic.ports, turnPublic.tlsAlias),
              hostname: turnPublic.hostname,
              address: turnAddress,
              secret: `generated once in the stack's encrypted state (${p.name}-secrets-turn-secret); in turnserver.conf on the host and platform-api's TURN_SECRET`,
              credentialTtlSeconds: TURN_LIMITS.credentialTtlSeconds,
          }
        : undefined;
}

/** The architecture picture and the monthly cost (rendered/<stack>/), drawn from the same catalog and config. */
function publishReports({ config, catalog }: Program, prober: boolean): void {
    publishFile("architecture.md", renderArchitecture(catalog, { stack: config.stack }));
    // The pull-request comment compares cost.md with main's.
    publishFile(
        "cost.md",
        renderCost({
            stack: config.stack,
            hosts: catalog.hosts.map((h) => ({ name: h.name, serverType: h.machine.serverType, backups: config.server.backups, volumeSizeGb: h.machine.volumeSizeGb, turnIpv4: hasTurnAddress(catalog, h.name) })),
            pagesProjects: catalog.pages.length,
            // Hetzner Object Storage is billed per bucket when the backups go to S3 (a Storage Box is a separate product).
            backupObjectStorage: config.backups?.repository.startsWith("s3:") ?? false,
            backupBox: config.backups?.appendOnly ?? false,
            prober,
        }),
    );
}

export = main;
