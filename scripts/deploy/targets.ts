import { buildCatalog } from "../../catalog";
import { DEFAULT_HOSTNAMES, DEFAULT_PORTS, type CatalogImages } from "../../catalog/input";
import type { ImageKey, ServiceSpec } from "../../catalog/types";
import { IMAGE_KEYS } from "../../config/sections/images";

/**
 * What the day-2 commands (deploy, rollback, ssh, exec, console) may name: a catalog service id (`platform-api`,
 * `chatwoot`) or one of its containers (`chatwoot-postgres`, `platform-ws`). Read from the catalog itself, so a
 * service added there is deployable without a change here. Service ids, container names, image keys and hosts do
 * not depend on a stack's values (ports, hostnames, images do), so the catalog is built from placeholders with every
 * optional container present (a separate WebSocket image).
 */
export interface Target {
    /** The name as the user wrote it. */
    readonly name: string;
    readonly service: ServiceSpec;
    /** The container: the named one, or the service's first (its app: platform-api, chatwoot-rails). */
    readonly container: string;
    /** The image key its image comes from (`platformApi`), and the stack file key (`visualkit:imagePlatformApi`). */
    readonly imageKey: ImageKey;
    readonly configKey: string;
}

function catalogServices(): readonly ServiceSpec[] {
    const images = Object.fromEntries(Object.keys(IMAGE_KEYS).map((k) => [k, `example/${k.toLowerCase()}:1.0.0`])) as unknown as CatalogImages;
    return buildCatalog({
        domain: "example.com",
        zone: "example.com",
        ports: { ...DEFAULT_PORTS },
        hostnames: { ...DEFAULT_HOSTNAMES },
        janus: { rtpPorts: { from: 20000, to: 20100 } },
        images,
        pages: { enabled: false, projectSuffix: "", appsDir: "apps" },
        standbyReplicas: false,
    }).services;
}

/** Every name a command accepts, for error messages. */
export function targetNames(withContainers = true): string[] {
    return catalogServices().flatMap((s) => (s.containers.length === 0 ? [] : [s.id, ...(withContainers ? s.containers.map((c) => c.name).filter((n) => n !== s.id) : [])]));
}

/** The service or container called `name`; a clear error naming the choices otherwise. */
export function findTarget(name: string): Target {
    for (const service of catalogServices()) {
        const container = service.id === name ? service.containers[0] : service.containers.find((c) => c.name === name);
        if (container) return { name, service, container: container.name, imageKey: container.image, configKey: `visualkit:${IMAGE_KEYS[container.image]}` };
        if (service.id === name) throw new Error(`service ${name} runs no container (its files are served by Caddy); see docs/deploy.md for its release path`);
    }
    throw new Error(`no service or container ${JSON.stringify(name)} in the catalog; choose one of: ${targetNames().join(", ")}`);
}
