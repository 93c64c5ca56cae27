import { isIPv4, isIPv6 } from "node:net";
import { checkCidr, checkDomain } from "./validators";

/*
 * Format checks for values that reach an API, a file or a command unchanged: addresses and networks, names (images,
 * registries, SMTP, git refs, folders), e-mail and TXT text. Each returns why a value is wrong, or undefined; none
 * throws, whatever it is given (test/config/no-throw.test.ts feeds them random values).
 */

export interface Network {
    readonly version: 4 | 6;
    /** The network address as a number (host bits may be set; `checkCidr` refuses those). */
    readonly value: bigint;
    readonly bits: number;
    /** The address written in its canonical form (RFC 5952 for IPv6). */
    readonly canonical: string;
}

function v4Value(addr: string): bigint {
    return addr.split(".").reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
}

function v6Value(addr: string): bigint | undefined {
    // The WHATWG URL parser expands and validates IPv6 (no zone ids), and prints RFC 5952's canonical form.
    let host: string;
    try {
        host = new URL(`http://[${addr}]/`).hostname.slice(1, -1);
    } catch {
        return undefined;
    }
    const [left, right] = host.includes("::") ? host.split("::") : [host, undefined];
    const l = left ? left.split(":") : [];
    const r = right ? right.split(":") : [];
    const groups = right === undefined ? l : [...l, ...Array<string>(8 - l.length - r.length).fill("0"), ...r];
    if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
    return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function canonicalV6(addr: string): string {
    try {
        return new URL(`http://[${addr}]/`).hostname.slice(1, -1);
    } catch {
        return addr;
    }
}

/** A CIDR as a network, or why it is not one. Zone ids, leading zeros and uppercase hex are refused with the fix. */
export function parseNetwork(text: unknown): Network | string {
    if (typeof text !== "string") return "is not text";
    if (text.includes("%")) return "has an IPv6 zone id (%…), which names an interface of one machine and means nothing to a firewall";
    const m = text.match(/^([^/]+)\/(\d{1,3})$/);
    if (!m) return "is not a CIDR such as 203.0.113.7/32 or 2001:db8::/64";
    const [, addr, bitsText] = m;
    const bits = Number(bitsText);
    if (String(bits) !== bitsText) return `has the prefix length /${bitsText}; write /${bits}`;
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(addr) && addr.split(".").some((o) => /^0\d/.test(o))) {
        // Some parsers read 010 as octal 8, others as 10: written so, the rule means different networks to different tools.
        return `has an octet with a leading zero; write ${addr.split(".").map((o) => String(Number(o))).join(".")}/${bits}`;
    }
    if (isIPv4(addr)) {
        if (bits > 32) return "has a prefix length above 32";
        return { version: 4, value: v4Value(addr), bits, canonical: addr };
    }
    if (isIPv6(addr)) {
        const value = v6Value(addr);
        if (value === undefined) return "is not a CIDR such as 203.0.113.7/32 or 2001:db8::/64";
        if (bits > 128) return "has a prefix length above 128";
        return { version: 6, value, bits, canonical: canonicalV6(addr) };
    }
    return "is not a CIDR such as 203.0.113.7/32 or 2001:db8::/64";
}

interface Range {
    readonly net: Network;
    readonly what: string;
}

function range(cidr: string, what: string): Range {
    return { net: parseNetwork(cidr) as Network, what };
}

/** Addresses that are not one public host or network: where a firewall rule or a DNS record for them is wrong. */
const SPECIAL: readonly Range[] = [
    range("0.0.0.0/8", "the unspecified/this-network range"),
    range("10.0.0.0/8", "a private range (RFC 1918)"),
    range("100.64.0.0/10", "the carrier-grade NAT range (RFC 6598)"),
    range("127.0.0.0/8", "the loopback range"),
    range("169.254.0.0/16", "the link-local range"),
    range("172.16.0.0/12", "a private range (RFC 1918)"),
    range("192.168.0.0/16", "a private range (RFC 1918)"),
    range("224.0.0.0/4", "the multicast range"),
    range("240.0.0.0/4", "the reserved range (240/4, broadcast included)"),
    range("::/128", "the unspecified address"),
    range("::1/128", "the loopback address"),
    range("::ffff:0:0/96", "an IPv4-mapped IPv6 range"),
    range("fc00::/7", "a unique-local (private) range"),
    range("fe80::/10", "the link-local range"),
    range("ff00::/8", "the multicast range"),
];

/** The documentation ranges (RFC 5737, RFC 3849): the committed stack files' placeholders. */
export const DOCUMENTATION_RANGES: readonly Range[] = [
    range("192.0.2.0/24", "a documentation range (RFC 5737)"),
    range("198.51.100.0/24", "a documentation range (RFC 5737)"),
    range("203.0.113.0/24", "a documentation range (RFC 5737)"),
    range("2001:db8::/32", "the documentation range (RFC 3849)"),
];

/** The named range that holds all of `n`, if any. */
export function within(n: Network, ranges: readonly Range[]): Range | undefined {
    return ranges.find((r) => {
        if (r.net.version !== n.version || n.bits < r.net.bits) return false;
        const width = n.version === 4 ? 32 : 128;
        const shift = BigInt(width - r.net.bits);
        return n.value >> shift === r.net.value >> shift;
    });
}

/** A CIDR SSH may come from: canonical, no host bits, not loopback/private/link-local/mapped. */
export function checkSshSource(cidr: unknown): string | undefined {
    const n = parseNetwork(cidr);
    if (typeof n === "string") return n;
    // The general CIDR rules (host bits, and whatever else validators.checkCidr refuses) before the SSH-specific ones.
    const general = checkCidr(String(cidr));
    if (general) return general;
    const special = n.bits > 0 ? within(n, SPECIAL) : undefined;
    if (special?.what === "an IPv4-mapped IPv6 range") {
        const v4 = Number(n.value & 0xffffffffn);
        return `is ${special.what}: IPv4 clients reach the server over IPv4, so write it as ${[v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255].join(".")}/${Math.max(0, n.bits - 96)}`;
    }
    if (special) return `is ${special.what}: the firewall sees SSH clients by their public address, never by this one, so this rule lets nobody in`;
    return undefined;
}

/** The special range (private, loopback, documentation, …) an IPv4 address lies in, if any. */
export function specialIpv4(addr: string): string | undefined {
    if (!isIPv4(addr)) return undefined;
    return within({ version: 4, value: v4Value(addr), bits: 32, canonical: addr }, [...SPECIAL, ...DOCUMENTATION_RANGES])?.what;
}

/** A public unicast IPv4 address a DNS A record may point at. */
export function checkPublicIpv4(addr: unknown): string | undefined {
    if (typeof addr !== "string" || !isIPv4(addr)) return "is not an IPv4 address such as 178.156.151.139";
    const special = specialIpv4(addr);
    return special ? `is in ${special}, not the old server's public address: every service record would point nowhere` : undefined;
}

/** host or host:port for a container registry: no scheme, no path, lowercase. */
export function checkRegistryHost(v: string): string | undefined {
    const m = v.match(/^([^:/]+)(?::(\d{1,5}))?$/);
    if (!m) return v.includes("://") || v.includes("/") ? "is not a registry host: give the host alone, without https:// or a path (ghcr.io)" : "is not a registry host such as ghcr.io or registry.example.com:5000";
    const [, host, port] = m;
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return "has a port outside 1-65535";
    if (host !== "localhost" && checkDomain(host) !== undefined && !isIPv4(host)) return "is not a registry host such as ghcr.io (lowercase host name)";
    return undefined;
}

/** An SMTP server: a host name or an IPv4 address (the port is chatwootSmtpPort). */
export function checkMailHost(v: string): string | undefined {
    if (isIPv4(v)) return undefined;
    if (v.includes(":")) return "is not a host name: give the port in visualkit:chatwootSmtpPort, not here";
    return checkDomain(v) === undefined ? undefined : "is not a host name such as smtp.zoho.eu";
}

/** Control characters (a newline in a mail header is header injection; in a TXT value, a broken record). */
export function hasControl(v: string): boolean {
    return /[\u0000-\u001f\u007f]/.test(v);
}

/**
 * The local part Caddy, Let's Encrypt and mail headers all take as it is: letters, digits and . _ % + - , no dot at
 * either end or twice in a row, at most 64 characters. Caddy expands `{$VAR}` and `{env.VAR}` in its config and
 * refuses a backtick, so those never reach it.
 */
export function checkMailbox(email: string): string | undefined {
    const at = email.lastIndexOf("@");
    if (at < 1 || email.length > 254) return "is not an e-mail address such as ops@visualkit.live";
    const local = email.slice(0, at);
    if (local.length > 64) return "has a part before the @ longer than 64 characters";
    if (!/^[A-Za-z0-9._%+-]+$/.test(local)) return "has characters before the @ other than letters, digits and . _ % + - (Caddy would expand {…} or refuse ` and \" in its config)";
    if (local.startsWith(".") || local.endsWith(".") || local.includes("..")) return "has a dot at the start or end of the part before the @, or two in a row";
    if (checkDomain(email.slice(at + 1)) !== undefined) return "has no lowercase domain after the @ (ops@visualkit.live)";
    return undefined;
}

/** "Name <address>" or a bare address, for a From header: no control characters, no quotes or brackets in the name. */
export function checkSender(v: string): string | undefined {
    if (hasControl(v)) return "holds a line break or another control character, which would add mail headers of its own";
    const m = v.match(/^([^<>"]*?)\s*<([^<>]+)>$/);
    const address = m ? m[2] : v;
    if (m && m[1].trim() === "") return "has <address> with no name before it: write VisualKit <support@visualkit.live> or the bare address";
    const why = checkMailbox(address);
    return why ? `has the address "${address}", which ${why}` : undefined;
}

/** A folder inside the repository: relative, no `..`, no leading `/`, plain characters. */
export function checkRepoFolder(v: string): string | undefined {
    if (v === "") return "is empty";
    if (v.startsWith("/") || /^[A-Za-z]:/.test(v)) return "is an absolute path; give a folder inside the repository, such as apps";
    const parts = v.replace(/\/$/, "").split("/");
    if (parts.some((p) => p === ".." || p === ".")) return "steps out of (or around) the repository with . or ..; give a folder inside it, such as apps";
    if (parts.some((p) => !/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(p))) return "has characters other than letters, digits and . _ - in a folder name, or an empty one (//)";
    return undefined;
}

/** A branch name git accepts (git check-ref-format's rules, for one branch). */
export function checkBranch(v: string): string | undefined {
    const fail = "is not a branch name git accepts (no spaces, .., ~ ^ : ? * [ \\, not starting with - or /)";
    if (v === "" || v.length > 244 || v === "@" || v.startsWith("-") || v.startsWith("/") || v.endsWith("/") || v.endsWith(".") || v.endsWith(".lock")) return fail;
    if (/[\u0000-\u0020\u007f~^:?*[\\]/.test(v) || v.includes("..") || v.includes("//") || v.includes("@{") || v.split("/").some((p) => p.startsWith("."))) return fail;
    return undefined;
}

/** A GitHub owner (user or organization). */
export function checkGitOwner(v: string): string | undefined {
    return /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/.test(v) ? undefined : "is not a GitHub user or organization name (letters, digits and inner hyphens, at most 39)";
}

/** A GitHub repository name, without its owner. */
export function checkGitRepo(v: string): string | undefined {
    if (v.includes("/")) return "holds owner/repository; give the repository alone here and the owner in visualkit:pagesGitOwner";
    if (v === "." || v === ".." || !/^[A-Za-z0-9._-]{1,100}$/.test(v)) return "is not a GitHub repository name (letters, digits and . _ -, at most 100)";
    return undefined;
}

/** Text that goes into a DNS TXT record as it is: no quotes, backslashes or control characters, ASCII only. */
export function checkTxt(v: string): string | undefined {
    if (hasControl(v)) return "holds a line break or another control character, which a TXT record cannot carry";
    if (/["\\]/.test(v)) return "holds a quote or a backslash; write the value without quotes (the record is quoted for you)";
    if (/[^\u0020-\u007e]/.test(v)) return "holds characters outside ASCII, which mail servers read differently";
    return undefined;
}

/** An SPF record that does not authorize the whole Internet. */
export function checkSpf(v: string): string | undefined {
    if (!v.startsWith("v=spf1 ")) return "is not an SPF record (it starts with 'v=spf1 ')";
    const txt = checkTxt(v);
    if (txt) return txt;
    const terms = v.split(/\s+/).slice(1);
    if (terms.some((t) => t === "+all" || t === "all")) return "ends in +all (or all), which lets anyone on the Internet send mail as the domain";
    return undefined;
}
