import * as tls from "node:tls";
import { ATTR, METHOD, StunReader, TRANSPORT_UDP, attr, encode, errorCode, longTermKey, xorAddress, xorPeerAddress, type StunMessage } from "../../lib/stun";

/**
 * A TURN client over TLS for the tests: one connection, requests answered in order. Enough to prove what the real
 * coturn does with a credential (Allocate) and a peer (CreatePermission); media is proven with turnutils_uclient.
 */
export class TurnTlsSession {
    private readonly reader = new StunReader();
    private readonly waiting: ((m: StunMessage) => void)[] = [];
    private closedError?: Error;
    private key?: Buffer;
    private realm?: Buffer;
    private nonce?: Buffer;
    private username?: string;

    private constructor(private readonly socket: tls.TLSSocket) {
        socket.on("data", (chunk: Buffer) => {
            for (const m of this.reader.push(chunk)) this.waiting.shift()?.(m);
        });
        socket.on("error", (e) => (this.closedError = e));
    }

    static connect(options: tls.ConnectionOptions): Promise<TurnTlsSession> {
        return new Promise((resolve, reject) => {
            const socket = tls.connect(options, () => resolve(new TurnTlsSession(socket)));
            socket.once("error", reject);
        });
    }

    get protocol(): string | null {
        return this.socket.getProtocol();
    }

    request(message: Buffer, timeoutMs = 5000): Promise<StunMessage> {
        if (this.closedError) return Promise.reject(this.closedError);
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error("TURN: no answer")), timeoutMs);
            this.waiting.push((m) => {
                clearTimeout(timer);
                resolve(m);
            });
            this.socket.write(message);
        });
    }

    binding(): Promise<StunMessage> {
        return this.request(encode(METHOD.binding, []));
    }

    /** Allocate a UDP relay with a credential: the first request learns realm and nonce (401), the second signs. */
    async allocate(username: string, password: string): Promise<{ ok: true; relayed: { address: string; port: number } } | { ok: false; code?: number }> {
        const transport = Buffer.from([TRANSPORT_UDP, 0, 0, 0]);
        const first = await this.request(encode(METHOD.allocate, [{ type: ATTR.requestedTransport, value: transport }]));
        if (first.cls !== "error" || errorCode(first) !== 401) return { ok: false, code: errorCode(first) };
        this.realm = attr(first, ATTR.realm);
        this.nonce = attr(first, ATTR.nonce);
        if (!this.realm || !this.nonce) throw new Error("TURN: 401 without realm or nonce");
        this.username = username;
        this.key = longTermKey(username, this.realm.toString(), password);
        const second = await this.request(encode(METHOD.allocate, [{ type: ATTR.requestedTransport, value: transport }, ...this.auth()], this.key));
        if (second.cls !== "success") return { ok: false, code: errorCode(second) };
        const relayed = attr(second, ATTR.xorRelayedAddress);
        if (!relayed) throw new Error("TURN: Allocate success without XOR-RELAYED-ADDRESS");
        return { ok: true, relayed: xorAddress(relayed, second.transactionId) };
    }

    /** CreatePermission for a peer on the allocation: the answer's class and error code. */
    async permit(peer: string, port = 9): Promise<{ ok: boolean; code?: number }> {
        if (!this.key) throw new Error("TURN: allocate first");
        const m = await this.request(encode(METHOD.createPermission, [{ type: ATTR.xorPeerAddress, value: xorPeerAddress(peer, port) }, ...this.auth()], this.key));
        return { ok: m.cls === "success", code: errorCode(m) };
    }

    private auth() {
        return [
            { type: ATTR.username, value: Buffer.from(this.username!) },
            { type: ATTR.realm, value: this.realm! },
            { type: ATTR.nonce, value: this.nonce! },
        ];
    }

    close(): void {
        this.socket.destroy();
    }
}
