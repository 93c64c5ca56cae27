import { isIPv4 } from "node:net";
import { MAIN_HOST, type HostInput, type MediaCellInput, type PortRange } from "../../catalog/input";
import { describe, type ConfigReader } from "../reader";
import { checkLabel, isPort, parsePortRange } from "../validators";
import { HETZNER_LOCATIONS } from "./server";

/** Host and cell names become resource names and DNS labels (`janus-<cell>`): short, lowercase, no dots. */
const NAME = /^[a-z][a-z0-9-]{0,19}$/;

/** What each host falls back to: the stack's single-host keys (visualkit:serverType, serverLocation, volumeSizeGb). */
export interface HostDefaults {
    readonly type?: string;
    readonly location?: string;
    readonly volumeSizeGb?: number;
}

/**
 * `visualkit:hosts` and `visualkit:mediaCells` (docs/hosts.md). Absent, the stack has one host, `main`, from the
 * single-host keys, and no cells: today's stacks. Only shapes and values are checked here; whether a placed service
 * exists, is placed twice or a cell's host is declared is for catalog/placement.ts, which knows the services.
 */
export function readHosts(r: ConfigReader, defaults: HostDefaults): { hosts?: HostInput[]; mediaCells?: MediaCellInput[] } {
    const rawHosts = r.obj("hosts");
    const rawCells = r.obj("mediaCells");
    const hosts: HostInput[] = [];
    for (const [name, v] of Object.entries(rawHosts)) {
        const key = `hosts.${name}`;
        if (!NAME.test(name)) {
            r.add(key, `"${name}" is not a host name (a lowercase letter, then up to 19 lowercase letters, digits or hyphens)`, `rename it in Pulumi.${r.stack}.yaml, e.g. media-a`);
            continue;
        }
        const h = fields(r, key, v ?? {}, ["type", "location", "volumeSizeGb", "services", "privateIp"]);
        if (!h) continue;
        const type = h.type === undefined ? defaults.type : text(r, `${key}.type`, h.type);
        const location = h.location === undefined ? defaults.location : text(r, `${key}.location`, h.location);
        if (location !== undefined && !(HETZNER_LOCATIONS as readonly string[]).includes(location)) {
            r.add(`${key}.location`, `"${location}" is not a Hetzner location (${HETZNER_LOCATIONS.join(", ")})`, `pulumi config set --path 'visualkit:${key}.location' nbg1 -s ${r.stack}`);
        }
        let volumeSizeGb = defaults.volumeSizeGb;
        if (h.volumeSizeGb !== undefined) {
            volumeSizeGb = typeof h.volumeSizeGb === "number" && Number.isInteger(h.volumeSizeGb) && h.volumeSizeGb >= 10 && h.volumeSizeGb <= 10240 ? h.volumeSizeGb : undefined;
            if (volumeSizeGb === undefined) r.add(`${key}.volumeSizeGb`, `is ${describe(h.volumeSizeGb)}; Hetzner volumes are 10 to 10240 GB`, `pulumi config set --path 'visualkit:${key}.volumeSizeGb' 10 -s ${r.stack}`);
        }
        let services: string[] | undefined;
        if (h.services !== undefined) {
            if (!Array.isArray(h.services) || h.services.some((s) => typeof s !== "string")) {
                r.add(`${key}.services`, "must be a list of service ids", `write it as a YAML list, e.g. services: [platform-api, chatwoot]`);
            } else services = h.services.map((s: string) => s.trim());
        }
        const privateIp = h.privateIp === undefined ? undefined : text(r, `${key}.privateIp`, h.privateIp);
        if (type === undefined || location === undefined || volumeSizeGb === undefined) continue;
        hosts.push({ name, serverType: type, location, volumeSizeGb, ...(services ? { services } : {}), ...(privateIp ? { privateIp } : {}) });
    }
    for (const h of hosts) {
        if (h.privateIp !== undefined && !isIPv4(h.privateIp)) r.add(`hosts.${h.name}.privateIp`, `"${h.privateIp}" is not an IPv4 address`, `leave it out (it is derived), or write one inside 10.0.1.0/24`);
    }

    const mediaCells: MediaCellInput[] = [];
    for (const [name, v] of Object.entries(rawCells)) {
        const key = `mediaCells.${name}`;
        if (!NAME.test(name) || checkLabel(`janus-${name}`) !== undefined) {
            r.add(key, `"${name}" is not a cell name (a lowercase letter, then up to 19 lowercase letters, digits or hyphens): it becomes janus-${name}.<domain>`, `rename it in Pulumi.${r.stack}.yaml, e.g. a`);
            continue;
        }
        const c = fields(r, key, v ?? {}, ["host", "rtpPorts", "drain"]);
        if (!c) continue;
        const host = c.host === undefined ? undefined : text(r, `${key}.host`, c.host);
        if (c.host === undefined) r.add(`${key}.host`, "is missing: a media cell runs on a host of its own", `add host: <a name under visualkit:hosts> to visualkit:${key} in Pulumi.${r.stack}.yaml`);
        const rtpText = c.rtpPorts === undefined ? undefined : text(r, `${key}.rtpPorts`, c.rtpPorts);
        if (c.rtpPorts === undefined) r.add(`${key}.rtpPorts`, "is missing: each cell has its own RTP range (the firewall of its host opens exactly it)", `add rtpPorts: "20000-29999" to visualkit:${key} in Pulumi.${r.stack}.yaml`);
        const range: PortRange | undefined = rtpText === undefined ? undefined : parsePortRange(rtpText);
        if (rtpText !== undefined && (!range || !isPort(range.from) || !isPort(range.to) || range.to - range.from < 1)) {
            r.add(`${key}.rtpPorts`, `"${rtpText}" is not a port range of at least 2 ports such as 20000-29999`, `pulumi config set --path 'visualkit:${key}.rtpPorts' 20000-29999 -s ${r.stack}`);
        }
        if (c.drain !== undefined && typeof c.drain !== "boolean") r.add(`${key}.drain`, `must be true or false, not ${describe(c.drain)}`, `pulumi config set --path 'visualkit:${key}.drain' true -s ${r.stack}`);
        if (host === undefined || !range || !isPort(range.from) || !isPort(range.to) || range.to - range.from < 1) continue;
        mediaCells.push({ name, host, rtpPorts: range, drain: c.drain === true });
    }
    // No visualkit:hosts: the one host of today's stacks, from the single-host keys.
    const { type, location, volumeSizeGb } = defaults;
    const single = type !== undefined && location !== undefined && volumeSizeGb !== undefined ? [{ name: MAIN_HOST, serverType: type, location, volumeSizeGb }] : undefined;
    return { hosts: Object.keys(rawHosts).length > 0 ? hosts : single, mediaCells: mediaCells.length > 0 ? mediaCells : undefined };
}

/** A map with known fields only; anything else is reported (a typo would silently be ignored otherwise). */
function fields(r: ConfigReader, key: string, v: unknown, known: readonly string[]): Record<string, unknown> | undefined {
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
        r.add(key, `must be a map (${known.join(", ")}), not ${describe(v)}`, `write it as a YAML map under visualkit:${key} in Pulumi.${r.stack}.yaml`);
        return undefined;
    }
    for (const k of Object.keys(v)) if (!known.includes(k)) r.add(`${key}.${k}`, `is not a field of ${key} (known: ${known.join(", ")})`, `remove it, or correct the spelling`);
    return v as Record<string, unknown>;
}

function text(r: ConfigReader, key: string, v: unknown): string | undefined {
    if (typeof v === "string") return v.trim();
    r.add(key, `is ${describe(v)}, not text`, `quote it in Pulumi.${r.stack}.yaml`);
    return undefined;
}
