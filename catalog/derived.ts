import { CONTAINER_PORTS } from "./defaults";
import type { PortId } from "./input";
import type { ContainerHealth, PortSpec, RouteSpec } from "./types";

/**
 * The values every consumer derives from a catalog port or route, each written once: how a port or range reads
 * (`portRangeText`), which port a service listens on inside its container (`containerPortOf`), which port a health
 * check probes (`healthPort`, `probesPort`), a port by its id (`portOf`), and the scheme and URL of a public hostname (`routeScheme`, `routeUrl`,
 * `httpsUrl`). The firewall, the validation messages, Caddy, the architecture picture, the health checks, the Pages
 * build variables and the stack outputs all read them from here, so they cannot disagree.
 */

/** A port or an inclusive range as the firewall, the architecture picture and error messages write it: `3001`, `10000-60000`. */
export function portRangeText(p: Pick<PortSpec, "port" | "endPort">): string {
    return p.port === p.endPort ? String(p.port) : `${p.port}-${p.endPort}`;
}

/**
 * The port a service listens on inside its container, given its host port. `visualkit:ports` moves the host side
 * only: an image with a fixed port of its own (`CONTAINER_PORTS`, Chatwoot's 3000) keeps it; every other port — one
 * the program tells the service, a host-networked Janus port, a range's first port — is the host port itself.
 */
export function containerPortOf(hostPort: number, portId?: PortId): number {
    return (portId === undefined ? undefined : CONTAINER_PORTS[portId]) ?? hostPort;
}

/**
 * The port a container's HTTP or TCP health check probes: the container side of the service port it names, because
 * Docker runs the check inside the container's own network (with host networking both sides are one port).
 */
export function healthPort(ports: readonly PortSpec[], portId: string): number {
    return portOf(ports, portId, "health check").containerPort;
}

/** The catalog port of this id among a service's ports; `owner` says who named it when there is none. */
export function portOf(ports: readonly PortSpec[], portId: string, owner: string): PortSpec {
    const p = ports.find((x) => x.id === portId);
    if (!p) throw new Error(`catalog: ${owner} names unknown port ${portId}`);
    return p;
}

/** Whether a container's health check probes this port (a `command` check probes none). */
export function probesPort(health: ContainerHealth, port: PortSpec): boolean {
    return health.kind !== "command" && health.port === port.containerPort;
}

/** The URL scheme browsers use for a route: `wss` for a WebSocket endpoint, `https` for everything else (all public traffic is TLS). */
export function routeScheme(route: Pick<RouteSpec, "target">): "https" | "wss" {
    return route.target.kind === "proxy" && route.target.websocket ? "wss" : "https";
}

/** Public URL of a route, no trailing slash: `https://api.visualkit.live`, `wss://janus.visualkit.live`. */
export function routeUrl(route: Pick<RouteSpec, "target" | "hostname">): string {
    return `${routeScheme(route)}://${route.hostname}`;
}

/** Public URL of a hostname that only serves pages (a Pages site, a redirect): always `https`. */
export function httpsUrl(hostname: string): string {
    return `https://${hostname}`;
}
