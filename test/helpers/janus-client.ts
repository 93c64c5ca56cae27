import { createHmac } from "node:crypto";
import { createSocket } from "node:dgram";
import { createServer } from "node:net";

/**
 * A minimal client of Janus's HTTP API (what an attacker or vk-agent sends), plus loopback listeners that tell
 * whether Janus reached out to them (RTSP over TCP, SIP and RTP over UDP).
 */

export type Reply = Record<string, any>;

/** Credentials added to every request: a token (`token_auth`) or nothing (an anonymous caller). */
export interface Credentials {
    readonly token?: string;
}

let transactions = 0;

export class JanusHttpClient {
    constructor(
        readonly base: string,
        readonly credentials: Credentials = {},
    ) {}

    async request(path: string, body: Record<string, unknown>): Promise<Reply> {
        const r = await fetch(`${this.base}${path}`, {
            method: "POST",
            body: JSON.stringify({ transaction: `t-${++transactions}`, ...(this.credentials.token ? { token: this.credentials.token } : {}), ...body }),
        });
        return (await r.json()) as Reply;
    }

    /** A session, or the error reply. */
    async create(): Promise<{ session?: number; reply: Reply }> {
        const reply = await this.request("", { janus: "create" });
        return { session: reply.janus === "success" ? reply.data.id : undefined, reply };
    }

    /** A handle on `plugin` in a new session, or the refusal (of the session or of the attach). */
    async attach(plugin: string): Promise<{ session?: number; handle?: number; reply: Reply }> {
        const { session, reply } = await this.create();
        if (session === undefined) return { reply };
        const attached = await this.request(`/${session}`, { janus: "attach", plugin });
        return { session, handle: attached.janus === "success" ? attached.data.id : undefined, reply: attached };
    }

    /**
     * A synchronous plugin request (create, register, join...) and its answer. Asynchronous requests (join, register)
     * are answered by an event; this long-polls the session for it.
     */
    async message(session: number, handle: number, body: Record<string, unknown>): Promise<Reply> {
        const reply = await this.request(`/${session}/${handle}`, { janus: "message", body });
        if (reply.janus !== "ack") return reply;
        for (let i = 0; i < 20; i++) {
            const r = await fetch(`${this.base}/${session}?maxev=1${this.credentials.token ? `&token=${encodeURIComponent(this.credentials.token)}` : ""}`);
            const event = (await r.json()) as Reply;
            if (event.janus === "event" && event.transaction === reply.transaction) return event;
            if (event.janus === "event") return event;
        }
        throw new Error(`no event after ${JSON.stringify(body)}`);
    }
}

/** A TCP listener on 127.0.0.1 that counts connections (an RTSP server Janus should never reach). */
export async function tcpWitness(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
    let count = 0;
    const server = createServer((socket) => {
        count++;
        socket.destroy();
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const port = (server.address() as { port: number }).port;
    return { port, connections: () => count, close: () => new Promise((ok) => server.close(() => ok())) };
}

/**
 * A UDP socket on 127.0.0.1 that counts datagrams (a SIP proxy or RTP sink Janus should never send to, or vk-agent's
 * RTP port); `send` sends from this very socket (Janus connects a plain-RTP socket to the participant's address).
 */
export async function udpWitness(): Promise<{ port: number; datagrams: () => number; send: (port: number, data: Buffer) => Promise<void>; close: () => Promise<void> }> {
    let count = 0;
    const socket = createSocket("udp4");
    socket.on("message", () => count++);
    await new Promise<void>((ok) => socket.bind(0, "127.0.0.1", ok));
    return {
        port: socket.address().port,
        datagrams: () => count,
        send: (port, data) => new Promise((ok, fail) => socket.send(data, port, "127.0.0.1", (e) => (e ? fail(e) : ok()))),
        close: () => new Promise((ok) => socket.close(() => ok())),
    };
}

/** An RTP packet with one Opus frame of silence (TOC 0xF8: CELT fullband 20 ms, mono, one frame; no frame data). */
export function opusRtp(seq: number, ssrc: number, payloadType = 111): Buffer {
    const b = Buffer.alloc(13);
    b[0] = 0x80;
    b[1] = payloadType;
    b.writeUInt16BE(seq & 0xffff, 2);
    b.writeUInt32BE((seq * 960) >>> 0, 4);
    b.writeUInt32BE(ssrc >>> 0, 8);
    b[12] = 0xf8;
    return b;
}

export const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/**
 * A token as platform-api and vk-agent mint them for `token_auth_secret` (Janus's src/auth.c at v1.1.2):
 * `<expiry unix seconds>,janus,<plugin>[,<plugin>...]:<base64 HMAC-SHA1 of the part before the colon>`.
 */
export function signedToken(secret: string, plugins: readonly string[], validSeconds = 3600): string {
    const data = [String(Math.floor(Date.now() / 1000) + validSeconds), "janus", ...plugins].join(",");
    return `${data}:${createHmac("sha1", secret).update(data).digest("base64")}`;
}
