import type * as pulumi from "@pulumi/pulumi";
import { CHATWOOT_DATABASE, DATA_FOLDERS } from "../catalog/defaults";
import { pitrLayout } from "../catalog/pitr";
import type { Catalog, ComponentKind, HostSpec, ServiceSpec } from "../catalog/types";
import type { PlatformConfig } from "../config/types";
import { Backups } from "../components/backups";
import type { CaddyConfig } from "../components/caddy-config";
import { Chatwoot } from "../components/chatwoot";
import type { DockerHost } from "../components/docker-host";
import type { GeneratedSecrets } from "../components/generated-secrets";
import { JanusGateway } from "../components/janus-gateway";
import type { JanusSecrets } from "../components/janus-secrets";
import { PlatformApi } from "../components/platform-api";
import { TurnServer } from "../components/turn-server";
import { VkAgent } from "../components/vk-agent";
import { WidgetCdn } from "../components/widget-cdn";
import { BACKUP_PATHS } from "../render/backups";
import { TURN_LIMITS, turnService, turnUrls } from "../render/coturn";
import { janusApiUrl, janusSettingsOf, type janusSettings } from "../render/janus";
import { widgetReleasesFolder } from "../render/widget-cdn";
import type { HostHandle } from "../lib/host";
import type { BackupsOutput } from "../lib/outputs";

/**
 * The component each kind of catalog service is deployed with (ServiceSpec.component): index.ts iterates the catalog
 * and calls these, so it names no service. Adding a service is a catalog entry and, when it needs one, a component and
 * a line here (docs/add-a-service.md). Resource names are `<stack>-<service id>` as before this table existed.
 */

export type Secrets = { generated: GeneratedSecrets; janus: JanusSecrets; janusConfig: ReturnType<typeof janusSettings> };

/** What every deployer reads: the stack's name, its config and catalog, the hosts created so far. */
export interface Program {
    readonly config: PlatformConfig;
    readonly catalog: Catalog;
    readonly name: string;
    readonly hosts: Record<string, HostHandle>;
    readonly secrets: Secrets;
}

export interface DeployContext {
    readonly p: Program;
    readonly host: HostSpec;
    readonly service: ServiceSpec;
    readonly docker: DockerHost;
    /** The host's Caddy, when it serves routes. */
    readonly caddy?: CaddyConfig;
    /** A file published per host: its own name on a one-host stack, under the host's folder otherwise. */
    readonly perHost: (file: string) => string;
}

/** What a deployment reports back to index.ts (the backups output, from the service whose data is backed up). */
export interface Deployed {
    readonly backups?: BackupsOutput;
}

export type Deployer = (ctx: DeployContext) => Deployed | void;

/** The Janus of a service's own host (vk-agent's peer, TURN's relay target). */
export function janusOnHost(catalog: Catalog, host: string): ServiceSpec | undefined {
    return catalog.services.find((s) => s.component === "janus" && s.host === host);
}

/**
 * The cells platform-api may assign new calls to, as its MEDIA_CELLS variable (JSON): every cell not draining, with
 * the public URL callers connect to and the private API URL platform-api creates rooms at. Absent without cells.
 */
export function mediaCellsEnv(catalog: Catalog): string | undefined {
    if (catalog.mediaCells.length === 0) return undefined;
    return JSON.stringify(catalog.mediaCells.filter((c) => !c.drain).map((c) => ({ name: c.name, janusUrl: c.janusUrl, janusApiUrl: c.janusApiUrl })));
}

function platformApi({ p, service, docker }: DeployContext): void {
    const { config, catalog, name, secrets } = p;
    // TURN REST credentials are minted per call by platform-api (docs/turn.md): the URLs plain, the secret secret.
    const turn = turnService(catalog);
    const cells = mediaCellsEnv(catalog);
    const plain: Record<string, string> = {
        ...(turn ? { TURN_URLS: turnUrls(turn.hostname, turn.ports, turn.tlsAlias).join(","), TURN_CREDENTIAL_TTL_SECONDS: String(TURN_LIMITS.credentialTtlSeconds) } : {}),
        ...(cells !== undefined ? { MEDIA_CELLS: cells } : {}),
    };
    const secret: Record<string, pulumi.Input<string>> = turn ? { TURN_SECRET: secrets.generated.turnSecret } : {};
    const derivedEnv = turn || cells !== undefined ? { plain, secret } : undefined;
    // With cells, JANUS_API_URL is the first cell taking calls (apps not yet reading MEDIA_CELLS keep working).
    const active = catalog.mediaCells.find((c) => !c.drain) ?? catalog.mediaCells[0];
    new PlatformApi(`${name}-${service.id}`, {
        docker,
        service,
        images: config.images,
        env: config.env.platformApi,
        secretEnv: config.secretEnv.platformApi,
        janus: { apiUrl: active ? active.janusApiUrl : janusApiUrl(secrets.janusConfig), tokenSecret: secrets.janus.tokenSecret, adminKeys: secrets.janus.adminKeys },
        derivedEnv,
    });
}

function turnServer({ p, host, caddy, perHost }: DeployContext): void {
    const { catalog, name, secrets } = p;
    const spec = turnService(catalog);
    if (!spec) return;
    new TurnServer(`${name}-${host.name}-turn`, {
        host: p.hosts[host.name],
        service: spec,
        secret: secrets.generated.turnSecret,
        publishAs: perHost("coturn/turnserver.conf"),
        dependsOn: caddy ? [caddy] : [],
    });
}

function vkAgent({ p, host, service, docker }: DeployContext): void {
    const { config, catalog, name, secrets } = p;
    const janus = janusOnHost(catalog, host.name);
    if (!janus) return;
    new VkAgent(`${name}-${service.id}`, {
        docker,
        service,
        janus,
        network: host.network,
        image: config.images.vkAgent,
        env: config.env.vkAgent,
        geminiApiKey: config.geminiApiKey,
        janusTokenSecret: secrets.janus.tokenSecret,
    });
}

function janusGateway({ p, host, service, docker }: DeployContext): void {
    const { config, name, secrets } = p;
    new JanusGateway(`${name}-${service.id}`, {
        docker,
        host: p.hosts[host.name],
        service,
        settings: service.cell ? janusSettingsOf(service, config) : secrets.janusConfig,
        image: config.images.janus,
        adminSecret: secrets.generated.janusAdminSecret,
        apiSecrets: { tokenSecret: secrets.janus.tokenSecret, adminKeys: secrets.janus.adminKeys },
        forceRestart: config.janusForceRestart,
        ...(service.cell ? { publishDir: `janus-${service.cell}` } : {}),
    });
}

/** Chatwoot and its backups, which live where its data does: its database, its uploads and the widget CDN releases. */
function chatwoot({ p, host, service, docker, perHost }: DeployContext): Deployed {
    const { config, name, secrets } = p;
    new Chatwoot(`${name}-${service.id}`, {
        docker,
        service,
        host,
        images: config.images,
        secrets: { postgresPassword: secrets.generated.postgresPassword, redisPassword: secrets.generated.redisPassword, secretKeyBase: secrets.generated.chatwootSecretKeyBase },
        smtp: config.chatwoot.smtp,
    });
    const container = (suffix: string) => `chatwoot-${suffix}`;
    const cdnFolder = `${host.dataDir}/${DATA_FOLDERS.widgetCdn}`;
    new Backups(`${name}-${host.name}-backups`, {
        host: p.hosts[host.name],
        config: config.backups,
        publishAs: perHost("backup"),
        data: {
            tag: `visualkit-${config.stack}`,
            paths: [`${host.dataDir}/${DATA_FOLDERS.chatwootStorage}`, cdnFolder, widgetReleasesFolder(cdnFolder)],
            dumpDir: `${host.dataDir}/.visualkit-backup-dump`,
            postgres: { container: container("postgres"), user: CHATWOOT_DATABASE.user, database: CHATWOOT_DATABASE.name },
            // Point-in-time recovery: the same folders the Postgres container mounts (catalog/pitr.ts).
            pitr: pitrLayout(host.dataDir),
            // Every copy that writes: rails (and its standby copy) and sidekiq.
            writers: service.containers
                .filter((c) => [container("rails"), container("sidekiq")].includes(c.name))
                .flatMap((c) => [c.name, ...(c.standby ? [c.standby.name] : [])]),
        },
    });
    const b = config.backups;
    return {
        backups: {
            enabled: b !== undefined,
            repository: b?.repository ?? "",
            host: host.name,
            schedule: b?.schedule ?? "",
            drillSchedule: b?.drillSchedule ?? "",
            retention: b?.keep ?? { daily: 0, weekly: 0, monthly: 0 },
            statusFile: b ? BACKUP_PATHS.status : "",
        },
    };
}

function widgetCdn({ p, host, service }: DeployContext): void {
    const cdn = service.routes.find((r) => r.target.kind === "static");
    if (!cdn || cdn.target.kind !== "static") return;
    new WidgetCdn(`${p.name}-${service.id}`, {
        host: p.hosts[host.name],
        folder: `${host.dataDir}/${DATA_FOLDERS.widgetCdn}`,
        root: cdn.target.root,
        sourceDir: p.config.widgetCdnSourceDir,
    });
}

/**
 * One deployer per component kind, in the order index.ts runs them on a host (the order the program registered them
 * in before this table, so today's stacks render the same).
 */
export const DEPLOYERS: readonly (readonly [ComponentKind, Deployer])[] = [
    ["platform-api", platformApi],
    ["turn", turnServer],
    ["vk-agent", vkAgent],
    ["janus", janusGateway],
    ["chatwoot", chatwoot],
    ["widget-cdn", widgetCdn],
];
