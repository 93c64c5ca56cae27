import { hostRoutes } from "./catalog";
import { CHATWOOT_DATABASE, DATA_FOLDERS } from "./catalog/defaults";
import { deriveDnsRecords, redirectRules } from "./catalog/dns";
import { CaddyConfig } from "./components/caddy-config";
import { Backups } from "./components/backups";
import { Chatwoot } from "./components/chatwoot";
import { CloudflareDns } from "./components/cloudflare-dns";
import { DockerHost } from "./components/docker-host";
import { GeneratedSecrets } from "./components/generated-secrets";
import { hostCapacity } from "./catalog/limits";
import { HetznerHost } from "./components/hetzner-host";
import { ImagePrune } from "./components/image-prune";
import { JanusGateway } from "./components/janus-gateway";
import { JanusSecrets } from "./components/janus-secrets";
import { Monitoring } from "./components/monitoring";
import { Prober } from "./components/prober";
import { PagesSite } from "./components/pages-site";
import { PlatformApi } from "./components/platform-api";
import { VkAgent } from "./components/vk-agent";
import { WidgetCdn } from "./components/widget-cdn";
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
import { renderCost } from "./render/cost";
import { janusAdminUrl, janusApiUrl, janusSettings } from "./render/janus";
import { widgetReleasesFolder } from "./render/widget-cdn";

/**
 * The VisualKit platform. Pulumi calls the exported function and uses what it returns as the stack outputs;
 * the offline render (`npm run render`) and the tests call it the same way under mocks.
 *
 * Normalize → validate → create: config is parsed and validated first, so a bad stack file fails with every
 * problem listed before any resource is registered.
 */
async function main() {
    const { config, catalog } = loadConfig();
    const name = `visualkit-${config.stack}`;
    const cf = config.cloudflare;

    // Takeover guard, before anything is registered: the zone's existing records must be the stack's own or adopted
    // wherever the stack puts a record of its own (Cloudflare would otherwise accept a second A record at `api`).
    const adopt = new AdoptMap(config.adopt);
    const records = deriveDnsRecords(catalog, { zone: cf.zone, project: config.project, stack: config.stack, email: config.email, cutoverFromIpv4: config.cutoverFromIpv4 });
    const zoneId = cf.zoneId ?? (await cloudflare.getZone({ filter: { name: cf.zone } })).id;
    await refuseDuplicateRecords({ zoneId, zone: cf.zone, project: config.project, stack: config.stack, records, adopt });


    const secrets = new GeneratedSecrets(`${name}-secrets`);
    const janusConfig = janusSettings(catalog, config);
    const janusSecrets = new JanusSecrets(`${name}-janus-secrets`, { plugins: janusConfig.plugins });

    // Hosts: one per catalog host, looked up by the name each service gives.
    const hosts: Record<string, HostHandle> = {};
    let backups: BackupsOutput | undefined;
    const monitors: Record<string, Monitoring> = {};
    const servers = catalog.hosts.map((host) => {
        const server = new HetznerHost(`${name}-${host.name}`, {
            host,
            catalog,
            serverType: config.server.type,
            location: config.server.location,
            image: config.server.image,
            backups: config.server.backups,
            rebootstrap: config.server.rebootstrap,
            publishAs: catalog.hosts.length === 1 ? "cloud-init.yaml" : `${host.name}/cloud-init.yaml`,
            volumeSizeGb: config.server.volumeSizeGb,
            protect: config.protect,
            sshPublicKeys: config.ssh.publicKeys,
            sshAllowedCidrs: config.ssh.allowedCidrs,
            sshPrivateKey: config.ssh.privateKey,
            labels: { project: config.project, stack: config.stack },
        });
        hosts[host.name] = server;
        return server;
    });

    // Cloudflare: DNS records from the catalog, e-mail records, Pages projects, www redirect, zone settings.
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
        const handle = hosts[hostName];
        if (!handle) throw new Error(`index.ts: a catalog service runs on host "${hostName}", but no host of that name was created`);
        return handle;
    };
    const dns = new CloudflareDns(`${name}-dns`, {
        zone: cf.zone,
        zoneId,
        records,
        hosts: Object.fromEntries(catalog.services.map((s) => [s.host, hostFor(s.host)])),
        pagesSubdomains: Object.fromEntries(pages.map(([site, p]) => [site.project, p.subdomain])),
        adopt,
    });
    // Zone-wide things (one redirect entrypoint ruleset, one value per setting) belong to the stack whose domain is
    // the zone (catalog.ownsZone); dev lives inside prod's zone and must not take them over.
    if (catalog.ownsZone) {
        new WwwRedirect(`${name}-redirects`, { zoneId: dns.zoneId, rules: redirectRules(catalog.redirects), description: `Managed by Pulumi ${config.project}/${config.stack}`, adopt });
        new ZoneSettings(`${name}-zone`, { zoneId: dns.zoneId, adopt });
    }
    // Every Cloudflare resource exists by now: an entry nothing asked for is a stale map, not something to ignore.
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

    // Caddy: the Caddyfile rendered from the catalog, installed on each host that serves routes once the names it
    // serves point at that host (Caddy requests their certificates as soon as it loads the file).
    const caddyHosts = catalog.hosts.filter((host) => hostRoutes(catalog, host.name).length > 0);
    for (const host of caddyHosts) {
        new CaddyConfig(`${name}-${host.name}-caddy`, {
            host: hosts[host.name],
            dnsRecords: dns.addressRecords(host.name, hostRoutes(catalog, host.name).map(({ route }) => route.hostname)),
            catalog,
            acmeEmail: config.acmeEmail,
            caddyVersion: config.caddyVersion,
            tls: config.caddyTls,
            logLevel: config.logLevel,
            publishAs: caddyHosts.length === 1 ? "Caddyfile" : `${host.name}/Caddyfile`,
        });
    }

    // Docker services on each host: its engine over SSH once the host is ready, the platform network, then one
    // component per catalog service placed there.
    for (const host of catalog.hosts) {
        const placed = new Map(catalog.services.filter((s) => s.host === host.name).map((s) => [s.id, s]));
        if (placed.size === 0) continue;
        const instance = servers.find((s) => s.name === host.name)!.serverId;
        const docker = new DockerHost(`${name}-${host.name}-docker`, { host: hosts[host.name], spec: host, instance, capacity: hostCapacity(config.server.type), registry: config.registry });
        // Images are kept on `pulumi up` (lib/containers.ts pullImage); this host timer removes the unused ones.
        new ImagePrune(`${name}-${host.name}-image-prune`, { host: hosts[host.name], instance, publishAs: catalog.hosts.length === 1 ? "image-prune" : `${host.name}/image-prune` });
        const platformApi = placed.get("platform-api");
        if (platformApi) {
            new PlatformApi(`${name}-platform-api`, {
                docker,
                service: platformApi,
                images: config.images,
                env: config.env.platformApi,
                secretEnv: config.secretEnv.platformApi,
                janus: { apiUrl: janusApiUrl(janusConfig), tokenSecret: janusSecrets.tokenSecret, adminKeys: janusSecrets.adminKeys },
            });
        }
        const janus = catalog.services.find((s) => s.id === "janus");
        const vkAgent = placed.get("vk-agent");
        if (vkAgent && janus) {
            new VkAgent(`${name}-vk-agent`, {
                docker,
                service: vkAgent,
                janus,
                network: host.network,
                image: config.images.vkAgent,
                env: config.env.vkAgent,
                geminiApiKey: config.geminiApiKey,
                janusTokenSecret: janusSecrets.tokenSecret,
            });
        }
        if (janus && placed.has("janus")) {
            new JanusGateway(`${name}-janus`, {
                docker,
                host: hosts[host.name],
                service: janus,
                settings: janusConfig,
                image: config.images.janus,
                adminSecret: secrets.janusAdminSecret,
                apiSecrets: { tokenSecret: janusSecrets.tokenSecret, adminKeys: janusSecrets.adminKeys },
                forceRestart: config.janusForceRestart,
            });
        }
        const chatwoot = placed.get("chatwoot");
        if (chatwoot) {
            new Chatwoot(`${name}-chatwoot`, {
                docker,
                service: chatwoot,
                host,
                images: config.images,
                secrets: { postgresPassword: secrets.postgresPassword, redisPassword: secrets.redisPassword, secretKeyBase: secrets.chatwootSecretKeyBase },
                smtp: config.chatwoot.smtp,
            });
        }
        if (chatwoot) {
            // Backups live where Chatwoot's data does: its database, its uploads and the widget CDN releases.
            const container = (suffix: string) => `chatwoot-${suffix}`;
            const cdnFolder = `${host.dataDir}/${DATA_FOLDERS.widgetCdn}`;
            new Backups(`${name}-${host.name}-backups`, {
                host: hosts[host.name],
                instance,
                config: config.backups,
                publishAs: catalog.hosts.length === 1 ? "backup" : `${host.name}/backup`,
                data: {
                    tag: `visualkit-${config.stack}`,
                    paths: [`${host.dataDir}/${DATA_FOLDERS.chatwootStorage}`, cdnFolder, widgetReleasesFolder(cdnFolder)],
                    dumpDir: `${host.dataDir}/.visualkit-backup-dump`,
                    postgres: { container: container("postgres"), user: CHATWOOT_DATABASE.user, database: CHATWOOT_DATABASE.name },
                    // Every copy that writes: rails (and its standby copy) and sidekiq.
                    writers: chatwoot.containers
                        .filter((c) => [container("rails"), container("sidekiq")].includes(c.name))
                        .flatMap((c) => [c.name, ...(c.standby ? [c.standby.name] : [])]),
                },
            });
            const b = config.backups;
            backups = {
                enabled: b !== undefined,
                repository: b?.repository ?? "",
                host: host.name,
                schedule: b?.schedule ?? "",
                drillSchedule: b?.drillSchedule ?? "",
                retention: b?.keep ?? { daily: 0, weekly: 0, monthly: 0 },
                statusFile: b ? BACKUP_PATHS.status : "",
            };
        }
        // Metrics and alerts on every host with services: what runs there, its routes, its backups.
        const janusHere = janus && placed.has("janus") ? janusSettings(catalog, config) : undefined;
        const janusHost = janusHere && (janusHere.bindAddress.includes(":") ? `[${janusHere.bindAddress}]` : janusHere.bindAddress);
        monitors[host.name] = new Monitoring(`${name}-${host.name}-monitoring`, {
            host: hosts[host.name],
            instance,
            publishAs: catalog.hosts.length === 1 ? "monitoring" : `${host.name}/monitoring`,
            layout: {
                stack: config.stack,
                host: host.name,
                dataDir: host.dataDir,
                hostnames: hostRoutes(catalog, host.name).map(({ route }) => route.hostname),
                janus: janusHere && { apiUrl: `http://${janusHost}:${janusHere.ports.http}/janus`, adminUrl: janusAdminUrl(janusHere) },
                postgres: chatwoot && { container: "chatwoot-postgres", user: CHATWOOT_DATABASE.user, database: CHATWOOT_DATABASE.name },
                redis: chatwoot && { container: "chatwoot-redis" },
                backupStatus: chatwoot && config.backups ? BACKUP_PATHS.status : undefined,
            },
            routing: { alertEmail: config.monitoring.alertEmail, smtp: config.chatwoot.smtp, webhookUrl: config.monitoring.webhookUrl, heartbeatUrl: config.monitoring.heartbeatUrl },
            secrets: { janusAdminSecret: janusHere && secrets.janusAdminSecret, janusTokenSecret: janusHere && janusSecrets.tokenSecret, postgresPassword: chatwoot && secrets.postgresPassword, redisPassword: chatwoot && secrets.redisPassword },
        });
        const cdn = placed.get("widget-cdn")?.routes.find((r) => r.target.kind === "static");
        if (cdn && cdn.target.kind === "static") {
            new WidgetCdn(`${name}-widget-cdn`, {
                host: hosts[host.name],
                instance,
                folder: `${host.dataDir}/${DATA_FOLDERS.widgetCdn}`,
                root: cdn.target.root,
                sourceDir: config.widgetCdnSourceDir,
            });
        }
    }

    // The outside prober: only with a webhook on the internet to tell (it has no other way to reach a person; a
    // webhook on a private address is out of its reach).
    const checks = healthChecks(catalog);
    const prober =
        config.monitoring.prober && config.monitoring.webhookUrl && checks.length > 0
            ? new Prober(`${name}-prober`, { accountId: cf.accountId, stack: config.stack, checks, webhookUrl: config.monitoring.webhookUrl })
            : undefined;
    const monitoring = {
        runbook: MONITORING_RUNBOOK,
        hosts: Object.fromEntries(
            Object.entries(monitors).map(([hostName, m]) => [
                hostName,
                { prometheus: m.prometheusUrl, alertmanager: m.alertmanagerUrl, tunnel: hosts[hostName].ipv4.apply((ip) => sshTunnel(ip)) },
            ]),
        ),
        alertsReach: Object.values(monitors)[0]?.alertsReach ?? ["nobody"],
        prober: { enabled: prober !== undefined, worker: prober?.scriptName ?? "", schedule: prober?.schedule ?? "", checks: prober ? checks.length : 0 },
        logs: `npm run logs -- ${config.stack} <container>`,
    };

    // The architecture picture (rendered/<stack>/architecture.md), drawn from the same catalog as everything above.
    publishFile("architecture.md", renderArchitecture(catalog, { stack: config.stack }));
    // The monthly cost (rendered/<stack>/cost.md), from the same config; the pull-request comment compares it with main's.
    publishFile(
        "cost.md",
        renderCost({
            stack: config.stack,
            hosts: catalog.hosts.map((h) => ({ name: h.name, serverType: config.server.type, backups: config.server.backups, volumeSizeGb: config.server.volumeSizeGb })),
            pagesProjects: catalog.pages.length,
            // Hetzner Object Storage is billed per bucket when the backups go to S3 (a Storage Box is a separate product).
            backupObjectStorage: config.backups?.repository.startsWith("s3:") ?? false,
            backupBox: config.backups?.appendOnly ?? false,
            prober: prober !== undefined,
        }),
    );

    // The outputs contract (lib/outputs.ts, checked against outputs.schema.json): other tools rely on its shape.
    return stackOutputs({
        stack: config.stack,
        environment: config.environment,
        catalog,
        hosts: Object.fromEntries(servers.map((s) => [s.name, s])),
        dnsRecords: dns.records,
        pages: Object.fromEntries(pages.map(([site, p]) => [site.id, p])),
        backups,
        monitoring,
    });
}

export = main;
