import { hostRoutes, routeUrl } from "../catalog";
import type { Catalog } from "../catalog/types";

/**
 * The public health checks of the platform, derived from each catalog route's `check`. Plain data: the stack
 * outputs carry this list and `npm run smoke` runs it, so a renamed hostname or a new service changes what the
 * smoke checker probes without anyone editing a curl line.
 */
export interface HealthCheck {
    /** Route id, e.g. `api` or `janusApi`. */
    readonly name: string;
    /** Full URL including the path, e.g. `https://api.visualkit.live/health` or `wss://janus.visualkit.live/`. */
    readonly url: string;
    readonly kind: "http" | "websocket";
    /** Status a healthy endpoint answers with (101 for a WebSocket handshake). */
    readonly expectStatus: number;
    /** Subprotocol the client offers and the server must accept (Janus only speaks `janus-protocol`). */
    readonly subprotocol?: string;
}

export function healthChecks(catalog: Catalog): HealthCheck[] {
    return hostRoutes(catalog).flatMap(({ route }) => {
        const check = route.check;
        if (!check) return [];
        return [
            {
                name: route.id,
                url: `${routeUrl(route)}${check.path}`,
                kind: check.kind,
                expectStatus: check.expectStatus,
                ...(check.subprotocol ? { subprotocol: check.subprotocol } : {}),
            },
        ];
    });
}
