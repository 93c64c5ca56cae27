import { DEFAULT_HOSTNAMES, DEFAULT_PORTS, type CatalogInput, type PortId, type RouteId } from "../../catalog/input";
import type { ConfigReader } from "../reader";
import { checkLabel, isPort } from "../validators";

/** The catalog's ports and hostname labels: its defaults with the stack's overrides by id (invalid ones reported, defaults kept). */
export type RoutingSection = Pick<CatalogInput, "ports" | "hostnames">;

export function readRouting(r: ConfigReader): RoutingSection {
    const ports: Record<string, number> = { ...DEFAULT_PORTS };
    for (const [id, v] of Object.entries(r.obj("ports"))) {
        if (!(id in DEFAULT_PORTS)) {
            r.add(`ports.${id}`, "is not a port id", `use one of ${Object.keys(DEFAULT_PORTS).join(", ")}`);
        } else if (typeof v !== "number" || !isPort(v)) {
            r.add(`ports.${id}`, `${JSON.stringify(v)} is not a port between 1 and 65535`, `pulumi config set --path 'visualkit:ports.${id}' ${DEFAULT_PORTS[id as PortId]} -s ${r.stack}`);
        } else {
            ports[id] = v;
        }
    }
    const hostnames: Record<string, string> = { ...DEFAULT_HOSTNAMES };
    for (const [id, v] of Object.entries(r.strMap("hostnames"))) {
        const set = `pulumi config set --path 'visualkit:hostnames.${id}' ${DEFAULT_HOSTNAMES[id as RouteId]} -s ${r.stack}`;
        if (!(id in DEFAULT_HOSTNAMES)) {
            r.add(`hostnames.${id}`, "is not a route id", `use one of ${Object.keys(DEFAULT_HOSTNAMES).join(", ")}`);
        } else if (v !== "@" && checkLabel(v) !== undefined) {
            r.add(`hostnames.${id}`, `${JSON.stringify(v)} ${checkLabel(v)}`, set);
        } else if (id === "www" && v === "@") {
            // www redirects to the domain itself: at the apex it would redirect to itself, forever.
            r.add("hostnames.www", `"@" puts the www redirect at the domain itself, which it redirects to: every request would loop`, set);
        } else {
            hostnames[id] = v;
        }
    }
    return { ports: ports as Record<PortId, number>, hostnames: hostnames as Record<RouteId, string> };
}
