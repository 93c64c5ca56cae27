import type { PortRange } from "../../catalog/input";
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
        const m = stunText.replace(/^stun:/, "").match(/^([a-z0-9.-]+):(\d+)$/i);
        if (!m || checkDomain(m[1].toLowerCase()) !== undefined || !isPort(Number(m[2]))) r.add("janusStunServer", `"${stunText}" is not host:port`, r.setCmd("janusStunServer", "stun.l.google.com:19302"));
        else stun = { host: m[1].toLowerCase(), port: Number(m[2]) };
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
