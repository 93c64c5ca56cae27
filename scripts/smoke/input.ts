import type { HealthCheck } from "../../lib/health-checks";
import type { CertificateCheck } from "./check";

/**
 * Reads the `healthChecks` list out of stack outputs as `pulumi stack output --json` prints them (with or without
 * `--show-secrets`: the list holds no secret) or as `npm run render` writes rendered/<stack>/outputs.json.
 * Collects every problem and throws once.
 */
export function parseHealthChecks(text: string, source: string): HealthCheck[] {
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (e) {
        throw new Error(`${source}: not JSON (${(e as Error).message}); pass the output of \`pulumi stack output --json\``);
    }
    const list = doc && typeof doc === "object" ? (doc as Record<string, unknown>).healthChecks : undefined;
    if (!Array.isArray(list)) {
        throw new Error(`${source}: no healthChecks list; pass the output of \`pulumi stack output --json\` of a stack this program deployed`);
    }
    const problems: string[] = [];
    const checks = list.flatMap((raw, i): HealthCheck[] => {
        const where = `${source}: healthChecks[${i}]`;
        const c = (raw ?? {}) as Record<string, unknown>;
        const before = problems.length;
        if (typeof c.name !== "string" || !c.name) problems.push(`${where}.name must be a non-empty string`);
        let url: URL | undefined;
        try {
            url = new URL(String(c.url));
        } catch {
            problems.push(`${where}.url is not a URL: ${JSON.stringify(c.url)}`);
        }
        if (c.kind !== "http" && c.kind !== "websocket") problems.push(`${where}.kind must be "http" or "websocket"`);
        const schemes = c.kind === "websocket" ? ["ws:", "wss:", "http:", "https:"] : ["http:", "https:"];
        if (url && !schemes.includes(url.protocol)) problems.push(`${where}.url scheme ${url.protocol} does not fit kind ${String(c.kind)}`);
        if (!Number.isInteger(c.expectStatus) || (c.expectStatus as number) < 100 || (c.expectStatus as number) > 599) {
            problems.push(`${where}.expectStatus must be an HTTP status code`);
        }
        if (c.subprotocol !== undefined && (typeof c.subprotocol !== "string" || !c.subprotocol)) problems.push(`${where}.subprotocol must be a non-empty string`);
        if (problems.length > before) return [];
        return [{ name: c.name as string, url: c.url as string, kind: c.kind as HealthCheck["kind"], expectStatus: c.expectStatus as number, ...(c.subprotocol ? { subprotocol: c.subprotocol as string } : {}) }];
    });
    if (problems.length > 0) throw new Error(problems.join("\n"));
    if (checks.length === 0) throw new Error(`${source}: the healthChecks list is empty; nothing to check`);
    return checks;
}

/**
 * Every public https/wss hostname in the outputs' `endpoints` that no health check already reaches (Pages sites,
 * the www redirect): each gets a certificate-only check, so no hostname's certificate can expire unnoticed.
 */
export function certificateChecks(text: string, checks: readonly HealthCheck[]): CertificateCheck[] {
    const endpoints = (JSON.parse(text) as { endpoints?: unknown }).endpoints;
    if (!endpoints || typeof endpoints !== "object" || Array.isArray(endpoints)) return [];
    const origin = (u: URL) => `${u.hostname}:${u.port || 443}`;
    const secure = (raw: unknown): URL | undefined => {
        try {
            const u = new URL(String(raw));
            return u.protocol === "https:" || u.protocol === "wss:" ? u : undefined;
        } catch {
            return undefined;
        }
    };
    const seen = new Set(checks.map((c) => secure(c.url)).filter((u): u is URL => !!u).map(origin));
    const names = new Set(checks.map((c) => c.name));
    const out: CertificateCheck[] = [];
    for (const [id, raw] of Object.entries(endpoints as Record<string, unknown>)) {
        const url = secure(raw);
        if (!url || seen.has(origin(url))) continue;
        seen.add(origin(url));
        out.push({ name: names.has(id) ? `${id}-certificate` : id, url: `https://${url.host}/`, kind: "certificate" });
    }
    return out;
}

/**
 * Hostnames the stack's own hosts serve: those with an A/AAAA record (outputs `dnsRecords`) pointing at a host address
 * (outputs `host`/`hosts`). Everything else in `endpoints` (Cloudflare Pages, a redirect) is served elsewhere.
 */
export function hostServedNames(text: string): Set<string> {
    const o = JSON.parse(text) as { host?: { ipv4?: string; ipv6?: string }; hosts?: Record<string, { ipv4?: string; ipv6?: string }>; dnsRecords?: unknown };
    const addresses = new Set([o.host, ...Object.values(o.hosts ?? {})].flatMap((h) => [h?.ipv4, h?.ipv6]).filter((a): a is string => typeof a === "string"));
    const records = Array.isArray(o.dnsRecords) ? (o.dnsRecords as { name?: unknown; type?: unknown; content?: unknown }[]) : [];
    return new Set(records.filter((r) => (r.type === "A" || r.type === "AAAA") && addresses.has(String(r.content))).map((r) => String(r.name)));
}
