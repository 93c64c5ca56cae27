import { connect as tlsConnect, rootCertificates } from "node:tls";
import { ATTR, METHOD, StunReader, attr, encode, type StunMessage } from "../../lib/stun";
import { TimeoutError, type ProbeOptions } from "./probe";

/**
 * The TURN service's check (docs/turn.md): a TLS handshake to the first `turns:` URL of the stack outputs' `turn`,
 * made to the TURN address the outputs name (a name's DNS may still point elsewhere), the certificate verified for
 * the TURN hostname, then a STUN Binding request over that TLS session that coturn must answer with success and a
 * mapped address. Unauthenticated Binding requests are what every STUN server answers; no credential is needed.
 */

export interface TurnCheck {
    readonly name: string;
    /** `turns:<hostname>:<port>?transport=tcp`. */
    readonly url: string;
    readonly kind: "turn";
    /** The address to connect to (the outputs' `turn.address`, or --turn-address). */
    readonly address: string;
    /** The port to connect to when it is not the URL's (--turn-address with a port). */
    readonly port?: number;
}

/** The check of a stack's outputs, or none when the stack has no TURN service. */
export function turnChecks(text: string, override?: { readonly host: string; readonly port?: number }): TurnCheck[] {
    const turn = (JSON.parse(text) as { turn?: { urls?: unknown; address?: unknown } }).turn;
    if (!turn || !Array.isArray(turn.urls) || typeof turn.address !== "string") return [];
    const url = turn.urls.find((u): u is string => typeof u === "string" && u.startsWith("turns:"));
    if (!url) return [];
    return [{ name: "turn", url, kind: "turn", address: override?.host ?? turn.address, ...(override?.port ? { port: override.port } : {}) }];
}

/** `turns:turn.example.com:443?transport=tcp` → hostname and port. */
export function parseTurnsUrl(url: string): { hostname: string; port: number } {
    const m = url.match(/^turns:([a-z0-9.-]+):(\d+)(\?transport=tcp)?$/i);
    if (!m) throw new Error(`not a turns: URL with a port: ${url}`);
    return { hostname: m[1], port: Number(m[2]) };
}

/** The Binding answer and the certificate's notAfter (ms since epoch). */
export function probeTurn(check: TurnCheck, opts: ProbeOptions): Promise<{ answer: StunMessage; certValidTo?: number }> {
    const { hostname, port: urlPort } = parseTurnsUrl(check.url);
    const port = check.port ?? urlPort;
    return new Promise((resolve, reject) => {
        const socket = tlsConnect({
            host: check.address,
            port,
            servername: hostname,
            ...(opts.ca?.length ? { ca: [...rootCertificates, ...opts.ca] } : {}),
        });
        const timer = setTimeout(() => socket.destroy(new TimeoutError(opts.timeoutMs)), opts.timeoutMs);
        const reader = new StunReader();
        socket.once("secureConnect", () => socket.write(encode(METHOD.binding, [])));
        let settled = false;
        const settle = (f: () => void) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            f();
        };
        socket.on("data", (chunk: Buffer) => {
            let answer: StunMessage | undefined;
            try {
                [answer] = reader.push(chunk);
            } catch (e) {
                socket.destroy();
                return settle(() => reject(new Error(`the server at ${check.address}:${port} does not speak STUN (${(e as Error).message})`)));
            }
            if (!answer) return;
            const cert = socket.getPeerCertificate();
            socket.end();
            const found = answer;
            settle(() => resolve({ answer: found, certValidTo: cert?.valid_to ? Date.parse(cert.valid_to) : undefined }));
        });
        socket.once("error", (err) => settle(() => reject(err)));
        socket.once("close", () => settle(() => reject(new Error(`the server at ${check.address}:${port} closed the connection without a STUN answer`))));
    });
}

/** What is wrong with the Binding answer, or undefined. */
export function turnProblem(answer: StunMessage): string | undefined {
    if (answer.method !== METHOD.binding || answer.cls !== "success") return `expected a STUN Binding success, got method ${answer.method} class ${answer.cls}`;
    if (!attr(answer, ATTR.xorMappedAddress)) return "Binding success without XOR-MAPPED-ADDRESS";
    return undefined;
}
