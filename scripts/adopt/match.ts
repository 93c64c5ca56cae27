import { describeRecord, findAtSlot, type ZoneRecord } from "../../catalog/takeover";
import type { ApiPagesDomain, ApiPagesProject, ApiRuleset, ApiZoneSetting } from "./cloudflare-api";
import { pagesConfigChanges } from "./pages-config";

/**
 * Matches what the stack will manage (the program's own offline render) against what the account has. Pure: the
 * CLI fetches, this decides, the table prints. Import id formats are those of @pulumi/cloudflare 6.22.1 (the
 * `pulumi import` lines of dnsRecord.d.ts, pagesProject.d.ts, pagesDomain.d.ts, ruleset.d.ts, zoneSetting.d.ts).
 */

export const TYPES = {
    dnsRecord: "cloudflare:index/dnsRecord:DnsRecord",
    pagesProject: "cloudflare:index/pagesProject:PagesProject",
    pagesDomain: "cloudflare:index/pagesDomain:PagesDomain",
    ruleset: "cloudflare:index/ruleset:Ruleset",
    zoneSetting: "cloudflare:index/zoneSetting:ZoneSetting",
} as const;

/** A resource of the render: enough to know what it manages. */
export interface RenderedResource {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, unknown>;
}

export interface AccountSnapshot {
    readonly zone: string;
    readonly zoneId: string;
    readonly accountId: string;
    readonly records: readonly ZoneRecord[];
    readonly projects: readonly ApiPagesProject[];
    /** Domains of the managed projects that exist, by project name. */
    readonly domains: Readonly<Record<string, readonly ApiPagesDomain[]>>;
    /** The zone's http_request_dynamic_redirect entrypoint, when it has one. */
    readonly redirectEntrypoint?: ApiRuleset;
    readonly settings: Readonly<Record<string, ApiZoneSetting>>;
}

export type RowStatus = "unchanged" | "change" | "blocked" | "create" | "managed" | "foreign";

export interface Row {
    readonly status: RowStatus;
    /** The Pulumi resource, when the row is about one the stack manages. */
    readonly resource?: string;
    /** The Cloudflare object as a person reads it. */
    readonly object: string;
    /** Changes (old → new), or what to do. */
    readonly detail: string;
}

export interface MatchResult {
    readonly rows: Row[];
    /** Resource name → import id: what `visualkit:adopt` becomes. */
    readonly adopt: Record<string, string>;
}

const str = (v: unknown): string => (v === undefined || v === null ? "" : String(v));
/** TXT values compared as text: the API may hold them quoted and split into 255-byte strings, or not. */
const unquote = (s: string): string => (/^".*"$/s.test(s.trim()) ? s.trim().slice(1, -1).replace(/"\s+"/g, "").replace(/\\(["\\])/g, "$1") : s);

function changes(pairs: [string, unknown, unknown][]): string[] {
    return pairs.filter(([, a, b]) => str(a) !== str(b)).map(([label, a, b]) => `${label}: ${str(a) || "(unset)"} → ${str(b) || "(unset)"}`);
}

export function matchAccount(
    resources: readonly RenderedResource[],
    account: AccountSnapshot,
    opts: {
        readonly ownerPrefix: string;
        readonly stack: string;
        /**
         * Names of the resources the stack's state holds (`pulumi stack export`): they are the stack's already and get
         * no entry, so after the first successful `up` adopt writes an empty map (an import id left on a resource
         * blocks its replacement: lib/adopt.ts).
         */
        readonly inState?: ReadonlySet<string>;
    },
): MatchResult {
    const rows: Row[] = [];
    const adopt: Record<string, string> = {};
    const of = (type: string) => resources.filter((r) => r.type === type);
    const adoptRow = (resource: string, id: string, object: string, diff: string[]) => {
        if (opts.inState?.has(resource)) {
            rows.push({ status: "managed", resource, object, detail: "in the stack's state already: not imported again" });
            return;
        }
        adopt[resource] = id;
        rows.push({ status: diff.length ? "change" : "unchanged", resource, object, detail: diff.join("; ") });
    };
    const m: Matcher = { rows, of, adoptRow, account, opts };
    matchRecords(m);
    matchPagesProjects(m);
    matchPagesDomains(m);
    matchRedirects(m);
    matchZoneSettings(m);

    const order: RowStatus[] = ["unchanged", "change", "blocked", "create", "managed", "foreign"];
    rows.sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status));
    return { rows, adopt: Object.fromEntries(Object.entries(adopt).sort(([a], [b]) => a.localeCompare(b))) };
}

/** What each matcher below reads and adds to: the render's resources of one type, the account, the rows and the adopt map. */
interface Matcher {
    readonly rows: Row[];
    readonly of: (type: string) => RenderedResource[];
    readonly adoptRow: (resource: string, id: string, object: string, diff: string[]) => void;
    readonly account: AccountSnapshot;
    readonly opts: { readonly ownerPrefix: string; readonly inState?: ReadonlySet<string> };
}

/** DNS records: one existing record at the place of a managed one is adopted; anything else there needs a person. */
function matchRecords({ rows, of, adoptRow, account, opts }: Matcher): void {
    const accounted = new Set<string>();
    for (const r of of(TYPES.dnsRecord)) {
        const i = r.inputs;
        const slot = { hostname: str(i.name), type: str(i.type), content: str(i.content) };
        let content = str(i.content);
        // The render knows a project's pages.dev name only from the mocks; the real one may carry a suffix.
        const site = content.endsWith(".pages.dev") ? account.projects.find((p) => `${p.name}.pages.dev` === content) : undefined;
        if (site?.subdomain) content = site.subdomain;
        const wanted = `${slot.type} ${slot.hostname} → ${slot.type === "MX" ? `${str(i.priority)} ` : ""}${slot.type === "TXT" ? unquote(content) : content}`;
        const { same, blocking } = findAtSlot(slot, account.records, account.zone);
        for (const x of [...same, ...blocking]) accounted.add(x.id);
        const ours = same.filter((x) => (x.comment ?? "").startsWith(opts.ownerPrefix));
        if (blocking.length > 0) {
            for (const b of blocking) {
                rows.push({
                    status: "blocked",
                    resource: r.name,
                    object: describeRecord(b),
                    detail: `this stack makes ${wanted}; a CNAME cannot share its name. Delete this record in Cloudflare when you switch ${slot.hostname} (then re-run adopt)`,
                });
            }
        } else if (same.length > 1) {
            for (const s of same) {
                rows.push({
                    status: "blocked",
                    resource: r.name,
                    object: describeRecord(s),
                    detail: `${same.length} ${slot.type} records at ${slot.hostname}: delete all but one in Cloudflare, then re-run adopt`,
                });
            }
        } else if (ours.length === 1) {
            rows.push({ status: "managed", resource: r.name, object: describeRecord(ours[0]), detail: "created or adopted by this stack already (its comment); in the state" });
        } else if (same.length === 1) {
            const x = same[0];
            const diff = changes([
                ["content", slot.type === "TXT" ? unquote(x.content) : x.content, slot.type === "TXT" ? unquote(content) : content],
                ["proxied", Boolean(x.proxied), Boolean(i.proxied)],
                ["ttl", x.ttl === 1 ? "auto" : x.ttl, Number(i.ttl) === 1 ? "auto" : i.ttl],
                ...(slot.type === "MX" ? ([["priority", x.priority, i.priority]] as [string, unknown, unknown][]) : []),
            ]);
            adoptRow(r.name, `${account.zoneId}/${x.id}`, describeRecord(x), diff);
        } else {
            rows.push({ status: "create", resource: r.name, object: wanted, detail: "nothing there yet" });
        }
    }
    for (const x of account.records) {
        if (!accounted.has(x.id)) rows.push({ status: "foreign", object: describeRecord(x), detail: "not at a name and type this stack manages" });
    }
}

/** Pages projects, by name. */
function matchPagesProjects({ rows, of, adoptRow, account }: Matcher): void {
    const projectByName = new Map(account.projects.map((p) => [p.name, p]));
    const managedProjects = new Set<string>();
    for (const r of of(TYPES.pagesProject)) {
        const name = str(r.inputs.name);
        managedProjects.add(name);
        const p = projectByName.get(name);
        if (!p) {
            rows.push({ status: "create", resource: r.name, object: `Pages project ${name}`, detail: "no project of that name in the account" });
            continue;
        }
        const b = (r.inputs.buildConfig ?? {}) as Record<string, unknown>;
        const src = ((r.inputs.source as Record<string, unknown> | undefined)?.config ?? {}) as Record<string, unknown>;
        const diff = changes([
            ["production branch", p.production_branch, r.inputs.productionBranch],
            ["build command", p.build_config?.build_command, b.buildCommand],
            ["output dir", p.build_config?.destination_dir, b.destinationDir],
            ["root dir", p.build_config?.root_dir, b.rootDir],
            ["repository", p.source?.config ? `${str(p.source.config.owner)}/${str(p.source.config.repo_name)}` : "", `${str(src.owner)}/${str(src.repoName)}`],
        ]);
        adoptRow(r.name, `${account.accountId}/${name}`, `Pages project ${name}`, [...diff, ...pagesConfigChanges(p, r.inputs)]);
    }
    for (const p of account.projects) {
        if (!managedProjects.has(p.name)) rows.push({ status: "foreign", object: `Pages project ${p.name}`, detail: "not a project of this stack" });
    }
}

/** Pages custom domains, by project and hostname. */
function matchPagesDomains({ rows, of, adoptRow, account }: Matcher): void {
    for (const r of of(TYPES.pagesDomain)) {
        const project = str(r.inputs.projectName);
        const domain = str(r.inputs.name);
        const here = account.domains[project]?.find((d) => d.name === domain);
        const elsewhere = account.projects.find((p) => p.name !== project && (p.domains ?? []).includes(domain));
        if (here) {
            adoptRow(r.name, `${account.accountId}/${project}/${domain}`, `Pages domain ${domain} on ${project}${here.status ? ` (${here.status})` : ""}`, []);
        } else if (elsewhere) {
            rows.push({
                status: "blocked",
                resource: r.name,
                object: `Pages domain ${domain} on ${elsewhere.name}`,
                detail: `this stack attaches it to ${project}: remove it from ${elsewhere.name} (Pages → ${elsewhere.name} → Custom domains) when you switch, then re-run adopt`,
            });
        } else {
            rows.push({ status: "create", resource: r.name, object: `Pages domain ${domain} on ${project}`, detail: "not attached yet" });
        }
    }
}

/** The dynamic-redirect entrypoint: a zone has at most one, so an existing one must be adopted. */
function matchRedirects({ rows, of, adoptRow, account }: Matcher): void {
    for (const r of of(TYPES.ruleset)) {
        const e = account.redirectEntrypoint;
        const wantedRules = ((r.inputs.rules ?? []) as Record<string, unknown>[]).map((x) => str(x.description) || str(x.expression));
        if (!e) {
            rows.push({ status: "create", resource: r.name, object: `redirect ruleset (${str(r.inputs.phase)})`, detail: "the zone has no entrypoint for this phase" });
        } else if ((e.description ?? "") === str(r.inputs.description) && str(r.inputs.description) !== "") {
            rows.push({ status: "managed", resource: r.name, object: `redirect ruleset ${e.id}`, detail: "already this stack's (its description)" });
        } else if ((e.name ?? "") !== str(r.inputs.name)) {
            // `name` forces replacement (cloudflare/terraform-provider-cloudflare v5.22.0 internal/services/ruleset/
            // schema.go:84-90, RequiresReplace), and the engine refuses to replace a resource that carries an import id
            // (pulumi/pulumi pkg/resource/deploy/step_generator.go:1976-1995): imported under another name, `up` fails.
            rows.push({
                status: "blocked",
                resource: r.name,
                object: `redirect ruleset ${e.id} "${e.name ?? ""}" (${e.phase ?? str(r.inputs.phase)})`,
                detail:
                    `its name is "${e.name ?? ""}", the stack's is "${str(r.inputs.name)}"; name forces a replacement, which an import cannot be. ` +
                    `Rename it in Cloudflare (PUT /zones/${account.zoneId}/rulesets/${e.id} with the same rules and "name": "${str(r.inputs.name)}"), then re-run adopt`,
            });
        } else {
            const had = (e.rules ?? []).map((x) => x.description || x.expression || "(rule)");
            const diff = had.join(" | ") === wantedRules.join(" | ") ? [] : [`rules: ${had.length ? had.join(" | ") : "(none)"} → ${wantedRules.join(" | ")}`];
            adoptRow(r.name, `zones/${account.zoneId}/${e.id}`, `redirect ruleset ${e.id} (${e.phase ?? str(r.inputs.phase)})`, diff);
        }
    }
}

/** Zone settings always exist: adopting them only shows their present values in the preview. */
function matchZoneSettings({ rows, of, adoptRow, account }: Matcher): void {
    for (const r of of(TYPES.zoneSetting)) {
        const id = str(r.inputs.settingId);
        const s = account.settings[id];
        if (!s) {
            rows.push({ status: "create", resource: r.name, object: `zone setting ${id}`, detail: "not readable; pulumi up sets it" });
            continue;
        }
        adoptRow(r.name, `${account.zoneId}/${id}`, `zone setting ${id}`, changes([["value", s.value, r.inputs.value]]));
    }
}
