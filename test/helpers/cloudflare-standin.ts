import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local stand-in for the Cloudflare v4 endpoints `npm run adopt` reads, on 127.0.0.1 and an ephemeral port.
 * Answers with Cloudflare's envelope `{ success, errors, messages, result, result_info }`; lists are paged with
 * `page`/`per_page` and, like the real API, never return more than the stand-in's page limit whatever was asked.
 */

export interface StandinRecord {
    id: string;
    type: string;
    name: string;
    content: string;
    proxied: boolean;
    ttl: number;
    priority?: number;
    comment?: string | null;
}

export interface StandinSeed {
    zone: { id: string; name: string };
    accountId: string;
    records: StandinRecord[];
    projects: { name: string; subdomain: string; production_branch: string; domains: string[]; build_config: Record<string, string>; source: unknown }[];
    rulesets: Record<string, { id: string; name: string; description: string; kind: string; phase: string; rules: unknown[] }>;
    settings: Record<string, unknown>;
}

export interface Standin {
    readonly url: string;
    readonly requests: { method: string; path: string }[];
    readonly seed: StandinSeed;
    /** Paths matching this answer 403, as Cloudflare does for a token without the right permission. */
    forbid?: RegExp;
    close(): Promise<void>;
}

export const TOKEN = "standin-token-not-a-secret";

/**
 * The same zone as the program's `getDnsRecords` invoke returns it under the mocks (the provider's camelCase fields
 * match the API's names for what the takeover guard reads): one stand-in for both ways the zone is read.
 */
export function zoneInvokes(records: readonly StandinRecord[]): Record<string, () => Record<string, unknown>> {
    return { "cloudflare:index/getDnsRecords:getDnsRecords": () => ({ results: records.map((r) => ({ ...r, ttl: r.ttl ?? 1 })) }) };
}
export const OLD_IP = "178.156.151.139";
const hex = (n: number) => n.toString(16).padStart(32, "0");

/** Today's zone as the hand-built reference (visualkit-infrastructure.md, outside this repository) describes it, plus one record that is not ours. */
export function todaysZone(): StandinSeed {
    let n = 0xa0;
    const rec = (type: string, name: string, content: string, proxied: boolean, priority?: number): StandinRecord => ({
        id: hex(++n),
        type,
        name,
        content,
        proxied,
        ttl: 1,
        ...(priority !== undefined ? { priority } : {}),
        comment: null,
    });
    const z = "visualkit.live";
    return {
        zone: { id: "f".repeat(8) + hex(1).slice(8), name: z },
        accountId: "0123456789abcdef0123456789abcdef",
        records: [
            ...["agent", "api", "cdn", "janus", "support", "ws"].map((s) => rec("A", `${s}.${z}`, OLD_IP, false)),
            rec("CNAME", `app.${z}`, "visualkit-dashboard.pages.dev", true),
            rec("CNAME", `meet.${z}`, "visualkit-meeting.pages.dev", true),
            rec("CNAME", z, "visualkit-landing.pages.dev", true),
            rec("CNAME", `www.${z}`, "l4xm51g7.up.railway.app", true),
            rec("MX", z, "mx.zoho.com", false, 10),
            rec("MX", z, "mx2.zoho.com", false, 20),
            rec("MX", z, "mx3.zoho.com", false, 50),
            rec("TXT", z, "v=spf1 include:zoho.com ~all", false),
            rec("TXT", `zmail._domainkey.${z}`, "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQTodaysKey", false),
            rec("TXT", `_dmarc.${z}`, "v=DMARC1; p=none; rua=mailto:dmarc@visualkit.live", false),
            rec("TXT", z, "google-site-verification=standin-not-ours", false),
        ],
        projects: (["landing", "dashboard", "meeting"] as const).map((app) => ({
            name: `visualkit-${app}`,
            subdomain: `visualkit-${app}.pages.dev`,
            production_branch: "main",
            domains: [app === "landing" ? z : `${app === "dashboard" ? "app" : "meet"}.${z}`],
            build_config: { build_command: "pnpm build", destination_dir: "dist", root_dir: `apps/${app}` },
            source: { type: "github", config: { owner: "visualkit", repo_name: "visualkit", production_branch: "main" } },
        })),
        rulesets: {},
        settings: { ssl: "full", always_use_https: "off", min_tls_version: "1.0" },
    };
}

export async function startStandin(seed: StandinSeed = todaysZone(), pageLimit = 4): Promise<Standin> {
    const requests: Standin["requests"] = [];
    const standin: Standin = { url: "", requests, seed, close: async () => undefined };
    const send = (res: ServerResponse, status: number, body: unknown) => {
        // No keep-alive: a socket idle while the program renders would be closed under the client's feet.
        res.writeHead(status, { "content-type": "application/json", connection: "close" });
        res.end(JSON.stringify(body));
    };
    const ok = (res: ServerResponse, result: unknown, resultInfo?: unknown) => send(res, 200, { success: true, errors: [], messages: [], result, ...(resultInfo ? { result_info: resultInfo } : {}) });
    const fail = (res: ServerResponse, status: number, code: number, message: string) => send(res, status, { success: false, errors: [{ code, message }], messages: [], result: null });
    const paged = (res: ServerResponse, url: URL, items: unknown[]) => {
        const perPage = Math.min(Number(url.searchParams.get("per_page") ?? 20), pageLimit);
        const page = Number(url.searchParams.get("page") ?? 1);
        const slice = items.slice((page - 1) * perPage, page * perPage);
        ok(res, slice, { page, per_page: perPage, count: slice.length, total_count: items.length, total_pages: Math.max(1, Math.ceil(items.length / perPage)) });
    };

    const handle = (req: IncomingMessage, res: ServerResponse) => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1");
        const path = url.pathname.replace(/^\/client\/v4/, "");
        requests.push({ method: req.method ?? "", path: `${path}${url.search}` });
        if (req.headers.authorization !== `Bearer ${TOKEN}`) return fail(res, 403, 9109, "Invalid access token");
        if (standin.forbid?.test(path)) return fail(res, 403, 10000, "Authentication error");
        if (req.method !== "GET") return fail(res, 405, 10405, "Method not allowed in the stand-in");
        const z = seed.zone;
        let m: RegExpMatchArray | null;
        if (path === "/zones") return paged(res, url, [z].filter((x) => !url.searchParams.has("name") || x.name === url.searchParams.get("name")));
        if ((m = path.match(/^\/zones\/([^/]+)\/dns_records$/))) {
            if (m[1] !== z.id) return fail(res, 404, 7003, "Could not route to /zones/..., perhaps your object identifier is invalid?");
            return paged(res, url, seed.records);
        }
        if ((m = path.match(/^\/zones\/([^/]+)\/rulesets\/phases\/([^/]+)\/entrypoint$/))) {
            const rs = m[1] === z.id ? seed.rulesets[m[2]] : undefined;
            return rs ? ok(res, rs) : fail(res, 404, 10003, "could not find entrypoint ruleset in the zone");
        }
        if ((m = path.match(/^\/zones\/([^/]+)\/settings\/([a-z_]+)$/))) {
            if (m[1] !== z.id || !(m[2] in seed.settings)) return fail(res, 404, 1003, "Invalid or missing zone id / setting");
            return ok(res, { id: m[2], value: seed.settings[m[2]], editable: true, modified_on: "2025-12-14T00:00:00Z" });
        }
        if ((m = path.match(/^\/accounts\/([^/]+)\/pages\/projects$/))) {
            if (m[1] !== seed.accountId) return fail(res, 404, 7003, "Could not route to /accounts/...");
            return paged(res, url, seed.projects);
        }
        if ((m = path.match(/^\/accounts\/([^/]+)\/pages\/projects\/([^/]+)\/domains$/))) {
            const p = seed.projects.find((x) => x.name === decodeURIComponent(m![2]));
            if (m[1] !== seed.accountId || !p) return fail(res, 404, 8000007, "Project not found");
            return ok(res, p.domains.map((d, i) => ({ id: hex(0xd00 + i), name: d, status: "active", domain_id: hex(0xe00 + i), zone_tag: z.id, certificate_authority: "google", created_on: "2025-01-01T00:00:00Z" })));
        }
        return fail(res, 404, 7000, "No route for that URI");
    };

    const server: Server = createServer(handle);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return Object.assign(standin, {
        url: `http://127.0.0.1:${port}/client/v4`,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    });
}
