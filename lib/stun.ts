import { createHash, createHmac, randomBytes } from "node:crypto";

/**
 * The few STUN/TURN messages (RFC 8489, RFC 8656) the TURN health check and its tests send: a Binding request
 * (unauthenticated, proves the TLS listener answers STUN), and Allocate and CreatePermission with long-term
 * credentials (proves a minted credential opens a relay and which peers the server refuses). Messages on a TCP or TLS
 * stream are framed by their own length, so `StunReader` cuts them out of the byte stream.
 */

export const MAGIC_COOKIE = 0x2112a442;
export const METHOD = { binding: 0x001, allocate: 0x003, refresh: 0x004, createPermission: 0x008 } as const;
export const ATTR = {
    username: 0x0006,
    messageIntegrity: 0x0008,
    errorCode: 0x0009,
    lifetime: 0x000d,
    xorPeerAddress: 0x0012,
    realm: 0x0014,
    nonce: 0x0015,
    xorRelayedAddress: 0x0016,
    requestedTransport: 0x0019,
    xorMappedAddress: 0x0020,
    software: 0x8022,
    fingerprint: 0x8028,
} as const;
/** UDP (17) in REQUESTED-TRANSPORT: the only relay transport WebRTC uses. */
export const TRANSPORT_UDP = 17;

export type StunClass = "request" | "success" | "error" | "indication";

export interface StunMessage {
    readonly method: number;
    readonly cls: StunClass;
    readonly transactionId: Buffer;
    readonly attributes: readonly { readonly type: number; readonly value: Buffer }[];
}

const CLASS_BITS: Record<StunClass, number> = { request: 0x0000, indication: 0x0010, success: 0x0100, error: 0x0110 };

function messageType(method: number, cls: StunClass): number {
    const m = method & 0x0fff;
    return ((m & 0x0f80) << 2) | ((m & 0x0070) << 1) | (m & 0x000f) | CLASS_BITS[cls];
}

function attribute(type: number, value: Buffer): Buffer {
    const head = Buffer.alloc(4);
    head.writeUInt16BE(type, 0);
    head.writeUInt16BE(value.length, 2);
    return Buffer.concat([head, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
}

/** Long-term credential key: MD5(username ":" realm ":" password) (RFC 8489 §9.2.2). */
export function longTermKey(username: string, realm: string, password: string): Buffer {
    return createHash("md5").update(`${username}:${realm}:${password}`).digest();
}

/** Encodes a request; with `key`, MESSAGE-INTEGRITY over everything before it. */
export function encode(method: number, attrs: readonly { type: number; value: Buffer }[], key?: Buffer, transactionId: Buffer = randomBytes(12)): Buffer {
    const body = Buffer.concat(attrs.map((a) => attribute(a.type, a.value)));
    const header = (length: number) => {
        const h = Buffer.alloc(20);
        h.writeUInt16BE(messageType(method, "request"), 0);
        h.writeUInt16BE(length, 2);
        h.writeUInt32BE(MAGIC_COOKIE, 4);
        transactionId.copy(h, 8);
        return h;
    };
    if (!key) return Buffer.concat([header(body.length), body]);
    // The length in the header covers the MESSAGE-INTEGRITY attribute (24 bytes) when the HMAC is computed.
    const signed = Buffer.concat([header(body.length + 24), body]);
    const mac = createHmac("sha1", key).update(signed).digest();
    return Buffer.concat([signed, attribute(ATTR.messageIntegrity, mac)]);
}

export function decode(buf: Buffer): StunMessage {
    if (buf.length < 20 || buf.readUInt32BE(4) !== MAGIC_COOKIE) throw new Error("not a STUN message");
    const type = buf.readUInt16BE(0);
    const cls = (Object.entries(CLASS_BITS).find(([, bits]) => (type & 0x0110) === bits)?.[0] ?? "request") as StunClass;
    const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
    const attributes: { type: number; value: Buffer }[] = [];
    const end = 20 + buf.readUInt16BE(2);
    for (let at = 20; at + 4 <= end; ) {
        const t = buf.readUInt16BE(at);
        const len = buf.readUInt16BE(at + 2);
        attributes.push({ type: t, value: buf.subarray(at + 4, at + 4 + len) });
        at += 4 + len + ((4 - (len % 4)) % 4);
    }
    return { method, cls, transactionId: buf.subarray(8, 20), attributes };
}

export function attr(m: StunMessage, type: number): Buffer | undefined {
    return m.attributes.find((a) => a.type === type)?.value;
}

/** ERROR-CODE as a number (401, 403, 438, ...), or undefined. */
export function errorCode(m: StunMessage): number | undefined {
    const v = attr(m, ATTR.errorCode);
    return v ? (v[2] & 0x07) * 100 + v[3] : undefined;
}

/** An XOR-*-ADDRESS value (IPv4 or IPv6) as address and port. */
export function xorAddress(value: Buffer, transactionId: Buffer): { address: string; port: number } {
    const port = value.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16);
    const mask = Buffer.concat([Buffer.from([0x21, 0x12, 0xa4, 0x42]), transactionId]);
    const raw = value.subarray(4).map((b, i) => b ^ mask[i]);
    if (value[1] === 0x01) return { address: [...raw.subarray(0, 4)].join("."), port };
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((raw[i] << 8) | raw[i + 1]).toString(16));
    return { address: groups.join(":"), port };
}

/** XOR-PEER-ADDRESS for an IPv4 peer. */
export function xorPeerAddress(address: string, port: number): Buffer {
    const octets = address.split(".").map(Number);
    if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) throw new Error(`stun: ${address} is not an IPv4 address`);
    const v = Buffer.alloc(8);
    v[1] = 0x01;
    v.writeUInt16BE(port ^ (MAGIC_COOKIE >>> 16), 2);
    v.writeUInt32BE((((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) ^ MAGIC_COOKIE) >>> 0, 4);
    return v;
}

/** Cuts whole STUN messages out of a TCP/TLS byte stream. */
export class StunReader {
    private buffer = Buffer.alloc(0);
    push(chunk: Buffer): StunMessage[] {
        this.buffer = Buffer.concat([this.buffer, chunk]);
        const out: StunMessage[] = [];
        while (this.buffer.length >= 20) {
            const total = 20 + this.buffer.readUInt16BE(2);
            if (this.buffer.length < total) break;
            out.push(decode(this.buffer.subarray(0, total)));
            this.buffer = this.buffer.subarray(total);
        }
        return out;
    }
}
