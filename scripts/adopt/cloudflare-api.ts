/**
 * A read-only Cloudflare v4 API client for `npm run adopt`: GET requests only, so adopting can never change the
 * account. Response shapes as Cloudflare documents them (and as cloudflare/cloudflare-typescript models them): every
 * answer is the envelope `{ success, errors, messages, result, result_info? }`; lists page with `page`/`per_page`
 * and report `result_info { page, per_page, count, total_count, total_pages }` (V4PagePaginationArray).
 */

export const DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4";

export interface ApiDnsRecord {
    id: string;
    name: string;
    type: string;
    content: string;
    proxied?: boolean;
    ttl?: number;
    priority?: number;
    comment?: string | null;
}

export interface ApiPagesProject {
    name: string;
    subdomain?: string;
    production_branch?: string;
    domains?: string[];
    build_config?: { build_caching?: boolean | null; build_command?: string | null; destination_dir?: string | null; root_dir?: string | null };
    source?: { type?: string; config?: { owner?: string; repo_name?: string; production_branch?: string } };
    /** Per environment: env_vars, compatibility date/flags, build image, fail_open, and the Functions bindings. */
    deployment_configs?: { production?: ApiDeploymentConfig; preview?: ApiDeploymentConfig };
}

/** A Pages environment's deployment config as GET /pages/projects returns it (bindings are maps by binding name). */
export type ApiDeploymentConfig = Record<string, unknown> & {
    env_vars?: Record<string, { type?: string; value?: string } | null> | null;
    compatibility_date?: string;
    compatibility_flags?: string[];
    build_image_major_version?: number;
    always_use_latest_compatibility_date?: boolean;
    fail_open?: boolean;
    usage_model?: string;
};

export interface ApiPagesDomain {
    id: string;
    name: string;
    status?: string;
}

export interface ApiRuleset {
    id: string;
    name?: string;
    description?: string;
    kind?: string;
    phase?: string;
    rules?: { id?: string; ref?: string; description?: string; expression?: string; action?: string; enabled?: boolean }[];
}

export interface ApiZoneSetting {
    id: string;
    value: unknown;
}

export class CloudflareApiError extends Error {
    constructor(
        message: string,
        readonly status: number,
    ) {
        super(message);
        this.name = "CloudflareApiError";
    }
}

interface Envelope<T> {
    success: boolean;
    errors?: { code?: number; message?: string }[];
    result: T;
    result_info?: { page?: number; per_page?: number; count?: number; total_count?: number; total_pages?: number };
}

/** What each kind of request needs from the token, for a 403's message. */
const NEEDS: [RegExp, string][] = [
    [/^\/zones\?/, "Zone: Zone Read"],
    [/\/dns_records/, "Zone: DNS Read"],
    [/\/pages\//, "Account: Cloudflare Pages Read"],
    [/\/rulesets/, "Zone: Dynamic Redirect Read (or Zone: Config Rules Read)"],
    [/\/settings\//, "Zone: Zone Settings Read"],
];

export class CloudflareReader {
    constructor(
        private readonly token: string,
        private readonly baseUrl: string = DEFAULT_BASE_URL,
        private readonly perPage = 50,
    ) {}

    private async request<T>(path: string): Promise<{ status: number; body?: Envelope<T> }> {
        const url = `${this.baseUrl.replace(/\/$/, "")}${path}`;
        let res: Response;
        try {
            res = await fetch(url, { method: "GET", headers: { Authorization: `Bearer ${this.token}`, Accept: "application/json" } });
        } catch (e) {
            throw new CloudflareApiError(`cannot reach the Cloudflare API at ${this.baseUrl}: ${(e as Error).message}`, 0);
        }
        let body: Envelope<T> | undefined;
        try {
            body = (await res.json()) as Envelope<T>;
        } catch {
            body = undefined;
        }
        if (res.status === 401 || res.status === 403) {
            const need = NEEDS.find(([re]) => re.test(path))?.[1] ?? "read access";
            const said = body?.errors?.map((e) => `${e.code ?? ""} ${e.message ?? ""}`.trim()).join("; ");
            throw new CloudflareApiError(
                `Cloudflare refused GET ${path} (HTTP ${res.status}${said ? `: ${said}` : ""}): the token in CLOUDFLARE_API_TOKEN lacks "${need}" for this zone/account. ` +
                    `Add it at https://dash.cloudflare.com/profile/api-tokens and run adopt again.`,
                res.status,
            );
        }
        return { status: res.status, body };
    }

    private async get<T>(path: string): Promise<T> {
        const { status, body } = await this.request<T>(path);
        if (status !== 200 || !body?.success) {
            const said = body?.errors?.map((e) => e.message).join("; ") ?? "no JSON body";
            throw new CloudflareApiError(`Cloudflare answered GET ${path} with HTTP ${status}: ${said}`, status);
        }
        return body.result;
    }

    /** Every item of a paged list: asks page after page until `result_info.total_pages` is reached. */
    private async list<T>(path: string): Promise<T[]> {
        const items: T[] = [];
        const sep = path.includes("?") ? "&" : "?";
        for (let page = 1; ; page++) {
            const { status, body } = await this.request<T[]>(`${path}${sep}page=${page}&per_page=${this.perPage}`);
            if (status !== 200 || !body?.success || !Array.isArray(body.result)) {
                const said = body?.errors?.map((e) => e.message).join("; ") ?? "no JSON body";
                throw new CloudflareApiError(`Cloudflare answered GET ${path} (page ${page}) with HTTP ${status}: ${said}`, status);
            }
            items.push(...body.result);
            const pages = body.result_info?.total_pages;
            if (body.result.length === 0 || pages === undefined || page >= pages) return items;
        }
    }

    /** GET /zones?name=<zone>: the zone's id, or an error naming the zone when this token sees no such zone. */
    async zoneId(zone: string): Promise<string> {
        const zones = await this.list<{ id: string; name: string }>(`/zones?name=${encodeURIComponent(zone)}`);
        const found = zones.find((z) => z.name === zone);
        if (!found) {
            throw new CloudflareApiError(
                `no Cloudflare zone named ${zone} is visible to this token: check visualkit:cloudflareZone, or give the token "Zone: Zone Read" on that zone (or set visualkit:cloudflareZoneId)`,
                404,
            );
        }
        return found.id;
    }

    /** GET /zones/{zone_id}/dns_records, every page. */
    dnsRecords(zoneId: string): Promise<ApiDnsRecord[]> {
        return this.list<ApiDnsRecord>(`/zones/${zoneId}/dns_records`);
    }

    /** GET /accounts/{account_id}/pages/projects, every page. */
    pagesProjects(accountId: string): Promise<ApiPagesProject[]> {
        return this.list<ApiPagesProject>(`/accounts/${accountId}/pages/projects`);
    }

    /** GET /accounts/{account_id}/pages/projects/{name}/domains (a single page in the API). */
    pagesDomains(accountId: string, project: string): Promise<ApiPagesDomain[]> {
        return this.get<ApiPagesDomain[]>(`/accounts/${accountId}/pages/projects/${encodeURIComponent(project)}/domains`);
    }

    /** GET /zones/{zone_id}/rulesets/phases/{phase}/entrypoint; undefined when the zone has none (404). */
    async phaseEntrypoint(zoneId: string, phase: string): Promise<ApiRuleset | undefined> {
        const path = `/zones/${zoneId}/rulesets/phases/${phase}/entrypoint`;
        const { status, body } = await this.request<ApiRuleset>(path);
        if (status === 404) return undefined;
        if (status !== 200 || !body?.success) throw new CloudflareApiError(`Cloudflare answered GET ${path} with HTTP ${status}`, status);
        return body.result;
    }

    /** GET /zones/{zone_id}/settings/{setting_id}. */
    zoneSetting(zoneId: string, settingId: string): Promise<ApiZoneSetting> {
        return this.get<ApiZoneSetting>(`/zones/${zoneId}/settings/${settingId}`);
    }
}
