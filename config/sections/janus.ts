import { isIPv4, isIPv6 } from "node:net";
import type { PortRange } from "../../catalog/input";
import { specialIpv4 } from "../checks";
import type { ConfigReader } from "../reader";
import { checkDomain, isPort, parsePortRange } from "../validators";

/** Janus: its media port range, the STUN server it learns its public address from, and the call-drop override. */
export interface JanusSection {
    /** Absent when the range is unusable: the catalog (whose firewall opens it) cannot be built then. */
    readonly rtpPorts?: PortRange;
    readonly stun?: { readonly host: string; readonly port: number };
    readonly forceRestart?: boolean;
}

export function readJanus(r: ConfigReader): JanusSection {
    const forceRestart = r.bool("janusForceRestart");
    const text = r.str("janusRtpPorts");
    const range = text === undefined ? undefined : parsePortRange(text);
    const why = text === undefined ? undefined : rangeProblem(text, range);
    if (why) r.add("janusRtpPorts", why.problem, r.setCmd("janusRtpPorts", why.example));

    const stunText = r.optStr("janusStunServer");
    let stun: JanusSection["stun"];
    if (stunText !== undefined) {
        const m = stunText.replace(/^stun:/, "").match(/^(?:\[([0-9a-fA-F:.]+)\]|([a-zA-Z0-9.-]+)):(\d+)$/);
        const host = (m?.[1] ?? m?.[2] ?? "").toLowerCase();
        const fix = r.setCmd("janusStunServer", "stun.l.google.com:19302");
        if (!m || !isPort(Number(m[3]))) r.add("janusStunServer", `"${stunText}" is not host:port (stun.l.google.com:19302, 192.0.2.10:3478 or [2001:db8::10]:3478)`, fix);
        else if (m[1] !== undefined ? !isIPv6(host) : !isIPv4(host) && checkDomain(host) !== undefined) r.add("janusStunServer", `"${host}" is not a host name or IP address`, fix);
        else if (specialIpv4(host)) r.add("janusStunServer", `"${host}" is in ${specialIpv4(host)}: a STUN server there cannot tell Janus its public address`, fix);
        else stun = { host, port: Number(m[3]) };
    }
    return { rtpPorts: why ? undefined : range, stun, forceRestart };
}

function rangeProblem(text: string, range: PortRange | undefined): { problem: string; example: string } | undefined {
    if (!range) return { problem: `"${text}" is not a port range such as 10000-60000`, example: "10000-60000" };
    if (!isPort(range.from) || !isPort(range.to)) return { problem: `"${text}" has a port outside 1-65535`, example: "10000-60000" };
    if (range.from > range.to) return { problem: `"${text}" is inverted: the first port is above the last`, example: `${range.to}-${range.from}` };
    if (range.to - range.from < 1) return { problem: `"${text}" has fewer than 2 ports; Janus needs a pair per stream`, example: "10000-60000" };
    return undefined;
}
