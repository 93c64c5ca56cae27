import type { HealthCheck } from "../../lib/health-checks";
import { probe, probeCertificate, websocketAccept, type ProbeOptions, type Reply } from "./probe";
import { probeTurn, turnProblem, type TurnCheck } from "./turn";

/** `skip`: not checked, and why (e.g. a hostname another server serves while --address points at this one). */
export type Verdict = "ok" | "warn" | "fail" | "skip";

/** A public hostname checked for its certificate only (an endpoint without a health check). */
export interface CertificateCheck {
    readonly name: string;
    readonly url: string;
    readonly kind: "certificate";
}

export type SmokeCheck = HealthCheck | CertificateCheck | TurnCheck;

export interface CheckResult {
    readonly check: SmokeCheck;
    readonly verdict: Verdict;
    /** Why it warns or fails; empty when ok. */
    readonly message: string;
    readonly status?: number;
    /** Time to the response headers (or the switch to WebSocket). */
    readonly ms: number;
    /** Whole days until the certificate expires, for https/wss. */
    readonly certDays?: number;
}

export interface CheckOptions extends ProbeOptions {
    /** A certificate expiring in fewer days than this is a warning (Caddy renews Let's Encrypt certificates 30 days ahead). */
    readonly warnDays: number;
    /** ... and in fewer days than this a failure: renewal has been failing for three weeks. */
    readonly failDays: number;
}

/** The certificate's verdict: Let's Encrypt no longer e-mails expiry notices, so this is the only warning. */
function certificateVerdict(certDays: number | undefined, opts: CheckOptions): { verdict: Verdict; message: string } | undefined {
    if (certDays === undefined) return undefined;
    if (certDays < 0) return { verdict: "fail", message: "certificate has expired" };
    if (certDays < opts.failDays) return { verdict: "fail", message: `certificate expires in ${certDays} days (< ${opts.failDays}); renewal is failing: journalctl -u caddy on the host` };
    if (certDays < opts.warnDays) return { verdict: "warn", message: `certificate expires in ${certDays} days (< ${opts.warnDays})` };
    return undefined;
}

const DAY_MS = 86_400_000;

/** What is wrong with a reply, or undefined when it is what the check expects. */
function problemWith(check: HealthCheck, reply: Reply): string | undefined {
    if (check.kind === "http") {
        return reply.status === check.expectStatus ? undefined : `expected status ${check.expectStatus}, got ${reply.status}`;
    }
    if (!reply.upgraded) return `expected a WebSocket handshake (${check.expectStatus}), got ${reply.status}`;
    if (reply.status !== check.expectStatus) return `expected status ${check.expectStatus}, got ${reply.status}`;
    if (reply.headers["sec-websocket-accept"] !== websocketAccept(reply.wsKey ?? "")) return "handshake has a wrong Sec-WebSocket-Accept";
    const accepted = reply.headers["sec-websocket-protocol"];
    if (check.subprotocol && accepted !== check.subprotocol) {
        return `server did not accept subprotocol ${check.subprotocol}${accepted ? ` (chose ${accepted})` : ""}`;
    }
    if (!check.subprotocol && accepted) return `server chose subprotocol ${accepted} that was not offered`;
    return undefined;
}

const TLS_CODE = /^(ERR_TLS_|CERT_|DEPTH_ZERO_|SELF_SIGNED_|UNABLE_TO_|ERR_SSL_)/;

function describeError(e: unknown): string {
    const err = e as NodeJS.ErrnoException;
    const code = typeof err?.code === "string" ? err.code : undefined;
    if (code && TLS_CODE.test(code)) return `TLS: ${err.message} (${code})`;
    return err?.message ?? String(e);
}

export async function runCheck(check: SmokeCheck, opts: CheckOptions): Promise<CheckResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    if (check.kind === "certificate") {
        let validTo: number | undefined;
        try {
            validTo = await probeCertificate(check.url, opts);
        } catch (e) {
            return { check, verdict: "fail", message: describeError(e), ms: elapsed() };
        }
        const certDays = validTo === undefined ? undefined : Math.floor((validTo - Date.now()) / DAY_MS);
        return { check, ms: elapsed(), certDays, ...(certificateVerdict(certDays, opts) ?? { verdict: "ok", message: "" }) };
    }
    if (check.kind === "turn") {
        try {
            const { answer, certValidTo } = await probeTurn(check, opts);
            const certDays = certValidTo === undefined ? undefined : Math.floor((certValidTo - Date.now()) / DAY_MS);
            const problem = turnProblem(answer);
            if (problem) return { check, verdict: "fail", message: problem, ms: elapsed(), certDays };
            return { check, ms: elapsed(), certDays, ...(certificateVerdict(certDays, opts) ?? { verdict: "ok", message: "" }) };
        } catch (e) {
            return { check, verdict: "fail", message: describeError(e), ms: elapsed() };
        }
    }
    let reply: Reply;
    try {
        reply = await probe(check, opts);
    } catch (e) {
        return { check, verdict: "fail", message: describeError(e), ms: elapsed() };
    }
    const ms = elapsed();
    const certDays = reply.certValidTo === undefined ? undefined : Math.floor((reply.certValidTo - Date.now()) / DAY_MS);
    const base = { check, status: reply.status, ms, certDays };
    const problem = problemWith(check, reply);
    if (problem) return { ...base, verdict: "fail", message: problem };
    return { ...base, ...(certificateVerdict(certDays, opts) ?? { verdict: "ok", message: "" }) };
}

/** Every check at once; each is bounded by its own timeout, so the whole run takes at most about one timeout. */
export function runChecks(checks: readonly SmokeCheck[], opts: CheckOptions): Promise<CheckResult[]> {
    return Promise.all(checks.map((c) => runCheck(c, opts)));
}
