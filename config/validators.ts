import { isIPv4, isIPv6 } from "node:net";
import type { PortRange } from "../catalog/input";

/** Pure format checks shared by config parsing and the catalog checks. Each returns a reason, or undefined when fine. */

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function checkLabel(label: string): string | undefined {
    if (!LABEL.test(label)) {
        return "is not a hostname label (lowercase letters, digits and inner hyphens, at most 63 characters)";
    }
    return undefined;
}

export function checkDomain(domain: string): string | undefined {
    const labels = domain.split(".");
    if (domain.length > 253 || labels.length < 2 || labels.some((l) => !LABEL.test(l)) || !/^[a-z]{2,63}$/.test(labels[labels.length - 1])) {
        return "is not a lowercase domain name such as visualkit.live";
    }
    return undefined;
}

function ipv6ToBigInt(addr: string): bigint {
    // Expand "::" and an embedded IPv4 tail, then read eight 16-bit groups.
    let head = addr;
    const v4 = head.match(/(\d+\.\d+\.\d+\.\d+)$/);
    if (v4) {
        const o = v4[1].split(".").map(Number);
        head = head.slice(0, -v4[1].length) + ((o[0] << 8) | o[1]).toString(16) + ":" + ((o[2] << 8) | o[3]).toString(16);
    }
    const [left, right] = head.includes("::") ? head.split("::") : [head, undefined];
    const l = left ? left.split(":") : [];
    const r = right ? right.split(":") : [];
    const groups = right === undefined ? l : [...l, ...Array(8 - l.length - r.length).fill("0"), ...r];
    return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || "0", 16)), 0n);
}

/** A CIDR such as 203.0.113.0/24 or 2001:db8::/32, with no host bits set (Hetzner rejects those). */
export function checkCidr(cidr: string): string | undefined {
    // A zone id (fe80::%eth0) passes isIPv6 but is no network: refused here, before the arithmetic below.
    if (cidr.includes("%")) return "has an IPv6 zone id (%…), which names an interface of one machine and means nothing to a firewall";
    const m = cidr.match(/^([^/]+)\/(\d{1,3})$/);
    if (!m) return "is not a CIDR such as 203.0.113.7/32 or 2001:db8::/64";
    const [, addr, bitsText] = m;
    const bits = Number(bitsText);
    let value: bigint;
    let width: number;
    if (isIPv4(addr)) {
        value = addr.split(".").reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
        width = 32;
    } else if (isIPv6(addr)) {
        value = ipv6ToBigInt(addr);
        width = 128;
    } else {
        return "is not a CIDR such as 203.0.113.7/32 or 2001:db8::/64";
    }
    if (bits > width) return `has a prefix length above ${width}`;
    const hostMask = (1n << BigInt(width - bits)) - 1n;
    if ((value & hostMask) !== 0n) return "has host bits set; use the network address of the range";
    return undefined;
}

const SSH_KEY_TYPES = new Set([
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
]);

/** An OpenSSH public key line: "<type> <base64 blob> [comment]", whose blob names the same type. */
export function checkSshPublicKey(line: string): string | undefined {
    // A line break (or carriage return, escape…) inside one entry would make one configured key two lines on the
    // server: Hetzner would get one key and authorized_keys a hidden second. Tabs are ordinary separators.
    const control = /[\u0000-\u0008\u000a-\u001f\u007f]/.exec(line);
    if (control) return `holds a control character (U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}): one entry is one key on one line`;
    const parts = line.trim().split(/\s+/);
    const fail = "is not an OpenSSH public key (the one line of ~/.ssh/id_ed25519.pub: 'ssh-ed25519 AAAA... comment')";
    if (parts.length < 2 || !SSH_KEY_TYPES.has(parts[0]) || !/^[A-Za-z0-9+/]+={0,3}$/.test(parts[1])) return fail;
    const blob = Buffer.from(parts[1], "base64");
    if (blob.length < 4) return fail;
    const len = blob.readUInt32BE(0);
    if (blob.toString("latin1", 4, 4 + len) !== parts[0]) return fail;
    return undefined;
}

export interface ImageRef {
    readonly repository: string;
    readonly tag?: string;
    readonly digest?: string;
}

const IMAGE_REF =
    /^((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/;

export function parseImageRef(ref: string): ImageRef | undefined {
    const m = ref.match(IMAGE_REF);
    if (!m) return undefined;
    return { repository: m[1], tag: m[2], digest: m[3] };
}

/** Tags that name a branch or channel, not a release: they move, so prod refuses them. */
const MOVING_TAGS = /^(latest|main|master|develop|dev|edge|nightly|stable|beta|alpha|canary|rc|next|unstable|testing)(-|$)/;

/**
 * Pinned: a digest, or a tag holding a full major.minor.patch version (1.2.3, v4.7.0, 0.8.0-pg16, 1.1.2-debian12)
 * that does not start with a branch or channel name (latest, main, edge, stable, …). `:1`, `pg16` and `7.4-alpine`
 * move with every release of their line, so they are not pinned.
 */
export function isPinned(ref: ImageRef): boolean {
    if (ref.digest !== undefined) return true;
    return ref.tag !== undefined && /(^|[^0-9.])v?\d+\.\d+\.\d+/.test(ref.tag) && !MOVING_TAGS.test(ref.tag);
}

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Env var names that carry credentials: their values must come from Pulumi secrets, never plain config. */
export const SECRET_ENV_NAME = /(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|_KEY$|^KEY$)/i;

export function parsePortRange(text: string): PortRange | undefined {
    const m = text.trim().match(/^(\d{1,5})\s*-\s*(\d{1,5})$/);
    return m ? { from: Number(m[1]), to: Number(m[2]) } : undefined;
}

export function isPort(n: number): boolean {
    return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** A DKIM TXT record: tag list with v=DKIM1 first (when present), a known key type, and a base64 public key. */
export function checkDkim(value: string): string | undefined {
    const tags = new Map<string, string>();
    for (const part of value.split(";").map((p) => p.trim()).filter(Boolean)) {
        const eq = part.indexOf("=");
        if (eq < 1) return "is not a DKIM record: every part must be tag=value";
        tags.set(part.slice(0, eq).trim(), part.slice(eq + 1).replace(/\s+/g, ""));
    }
    if (tags.get("v") !== undefined && tags.get("v") !== "DKIM1") return "is not a DKIM record: v must be DKIM1";
    const k = tags.get("k");
    if (k !== undefined && k !== "rsa" && k !== "ed25519") return "is not a DKIM record: k must be rsa or ed25519";
    const p = tags.get("p");
    if (!p || !/^[A-Za-z0-9+/]+={0,2}$/.test(p)) return "is not a DKIM record: it needs p=<base64 public key> (v=DKIM1; k=rsa; p=MIIB...)";
    return undefined;
}
