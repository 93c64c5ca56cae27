import { hostRoutes } from "./index";
import type { EmailInput } from "./input";
import { ownerCommentPrefix } from "./takeover";
import type { Catalog, RedirectSpec } from "./types";

/**
 * The DNS record set of a stack, derived from the catalog and the e-mail config. Pure: no `@pulumi/*` import.
 * Values only known after deploy (a host's addresses, a Pages project's pages.dev name) are symbolic references
 * that the CloudflareDns component resolves, so this list is the one place that decides which records exist.
 */

export type DnsRecordType = "A" | "AAAA" | "CNAME" | "MX" | "TXT";

export type DnsContent =
    | { readonly kind: "literal"; readonly value: string }
    /** The IPv4 (A) or IPv6 (AAAA) address of a catalog host. */
    | { readonly kind: "hostAddress"; readonly host: string; readonly family: "ipv4" | "ipv6" | "turnIpv4" }
    /** The `<name>.pages.dev` subdomain Cloudflare gives a Pages project (it appends a suffix when the name is taken). */
    | { readonly kind: "pagesSubdomain"; readonly project: string };

export interface DnsRecordSpec {
    /** Unique and stable across renames of the hostname: becomes part of the resource name. */
    readonly key: string;
    /** Relative to the zone, as the Cloudflare dashboard shows it; `@` is the zone apex. */
    readonly name: string;
    /** Fully qualified name. */
    readonly hostname: string;
    readonly type: DnsRecordType;
    readonly content: DnsContent;
    readonly proxied: boolean;
    /** MX only. */
    readonly priority?: number;
    readonly comment: string;
    /** What asked for the record: its stack-file key and a phrase naming it, for conflict reports (catalog/validate.ts). */
    readonly source: RecordSource;
}

export interface RecordSource {
    /** The key in `Pulumi.<stack>.yaml` that puts the record at its name, e.g. `visualkit:hostnames.api`. */
    readonly configKey: string;
    /** The record's owner as a sentence names it, e.g. `route "api"`. */
    readonly owner: string;
}

export interface DnsInput {
    readonly zone: string;
    readonly project: string;
    readonly stack: string;
    readonly email?: EmailInput;
    /**
     * During a takeover, the old server's IPv4: every service A record points there and no service AAAA exists
     * (the old server has no IPv6, so an AAAA at the new host would split clients between two servers).
     */
    readonly cutoverFromIpv4?: string;
}


/** `api.dev.visualkit.live` in zone `visualkit.live` → `api.dev`; the zone itself → `@`. */
export function relativeName(hostname: string, zone: string): string {
    if (hostname === zone) return "@";
    if (!hostname.endsWith(`.${zone}`)) throw new Error(`dns: ${hostname} is not inside the zone ${zone}`);
    return hostname.slice(0, -(zone.length + 1));
}

/**
 * TXT content as Cloudflare stores it: quoted RFC 1035 character strings of at most 255 bytes. Sending it in this
 * form keeps state equal to what the API returns; unquoted or longer strings are rewritten by the API and show as
 * a diff on every preview (cloudflare/terraform-provider-cloudflare#6238).
 */
export function txtContent(text: string): string {
    const escaped = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
    const chunks: string[] = [];
    for (let i = 0; i < text.length; i += 255) chunks.push(text.slice(i, i + 255));
    return (chunks.length ? chunks : [""]).map((c) => `"${escaped(c)}"`).join(" ");
}

export function dmarcValue(dmarc: EmailInput["dmarc"]): string {
    return [`v=DMARC1`, `p=${dmarc.policy}`, ...(dmarc.rua ? [`rua=${dmarc.rua}`] : [])].join("; ");
}

const kebab = (id: string) => id.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * Every record the stack manages. Trusts validated input: two records that cannot coexist are a config problem,
 * listed by `validateCatalog` (catalog/validate.ts, `dnsNameIssues`) before anything is built.
 */
export function deriveDnsRecords(catalog: Catalog, input: DnsInput): DnsRecordSpec[] {
    const records: DnsRecordSpec[] = [];
    const comment = (purpose: string) => `${ownerCommentPrefix(input.project, input.stack)} ${purpose}`;
    const add = (r: Omit<DnsRecordSpec, "name">) => records.push({ ...r, name: relativeName(r.hostname, input.zone) });
    const literal = (value: string): DnsContent => ({ kind: "literal", value });

    // VPS hostnames: DNS-only unless the catalog says otherwise; Caddy terminates TLS on the host.
    const old = input.cutoverFromIpv4;
    for (const { service, route } of hostRoutes(catalog)) {
        for (const [type, family] of (old ? [["A", "ipv4"]] : [["A", "ipv4"], ["AAAA", "ipv6"]]) as [DnsRecordType, "ipv4" | "ipv6"][]) {
            add({
                key: `${kebab(route.id)}-${type.toLowerCase()}`,
                hostname: route.hostname,
                type,
                content: old ? literal(old) : { kind: "hostAddress", host: service.host, family },
                proxied: route.proxied,
                comment: comment(`${service.id} on host ${service.host}`),
                source: hostnameSource(route.id, `route "${route.id}"`),
            });
        }
    }

    // Names that are not Caddy routes (the TURN hostname): DNS-only A records at the host's address of that name.
    // Never proxied (Cloudflare's proxy carries no TURN), and no AAAA: the TURN address is IPv4 only (docs/turn.md).
    for (const service of catalog.services) {
        for (const n of service.names ?? []) {
            add({ key: `${kebab(n.id)}-a`, hostname: n.hostname, type: "A", content: { kind: "hostAddress", host: service.host, family: n.address }, proxied: false, comment: comment(`${service.id} on host ${service.host}`), source: hostnameSource(n.id, `the name "${n.id}"`) });
        }
    }

    // Pages sites: proxied CNAME to the project's pages.dev name; at the apex Cloudflare flattens it.
    for (const site of catalog.pages) {
        add({
            key: `${site.id}-cname`,
            hostname: site.hostname,
            type: "CNAME",
            content: { kind: "pagesSubdomain", project: site.project },
            proxied: true,
            comment: comment(`Pages project ${site.project}`),
            source: hostnameSource(site.routeId, `the Pages site "${site.id}"`),
        });
    }

    // Redirect-only hostnames need a proxied record for the redirect rule to see the request; 100:: is the
    // reserved address Cloudflare documents for such "originless" records (support docs, Error 1034).
    for (const r of catalog.redirects) {
        add({ key: `${r.id}-aaaa`, hostname: r.hostname, type: "AAAA", content: literal("100::"), proxied: true, comment: comment(`redirect to ${r.to}`), source: hostnameSource(r.id, `the redirect "${r.id}"`) });
    }

    const email = input.email;
    if (email) {
        for (const mx of email.mx) {
            add({
                key: `mx-${mx.host.replace(/\./g, "-")}`,
                hostname: catalog.domain,
                type: "MX",
                content: literal(mx.host),
                proxied: false,
                priority: mx.priority,
                comment: comment("mail exchanger"),
                source: { configKey: "visualkit:emailMx", owner: `the mail exchanger ${mx.host}` },
            });
        }
        if (email.spf) add({ key: "spf", hostname: catalog.domain, type: "TXT", content: literal(txtContent(email.spf)), proxied: false, comment: comment("SPF"), source: { configKey: "visualkit:emailSpf", owner: "the SPF record" } });
        if (email.dkim) {
            add({
                key: "dkim",
                hostname: `${email.dkim.selector}._domainkey.${catalog.domain}`,
                type: "TXT",
                content: literal(txtContent(email.dkim.value)),
                proxied: false,
                comment: comment("DKIM"),
                source: { configKey: "visualkit:emailDkim", owner: "the DKIM record" },
            });
        }
        add({ key: "dmarc", hostname: `_dmarc.${catalog.domain}`, type: "TXT", content: literal(txtContent(dmarcValue(email.dmarc))), proxied: false, comment: comment("DMARC"), source: { configKey: "visualkit:emailDmarcPolicy", owner: "the DMARC record" } });
    }

    return records;
}

const hostnameSource = (id: string, owner: string): RecordSource => ({ configKey: `visualkit:hostnames.${id}`, owner });

/** The zone's redirect rules, as plain data: match exactly the source hostname, keep path and query. */
export interface RedirectRule {
    readonly ref: string;
    readonly description: string;
    readonly expression: string;
    readonly targetExpression: string;
    readonly statusCode: number;
    readonly preserveQueryString: boolean;
}

export function redirectRules(redirects: readonly RedirectSpec[]): RedirectRule[] {
    return redirects.map((r) => ({
        ref: `redirect_${r.id}`,
        description: `${r.hostname} to ${r.to}, path and query kept`,
        expression: `(http.host eq "${r.hostname}")`,
        targetExpression: `concat("${r.to}", http.request.uri.path)`,
        statusCode: r.status,
        preserveQueryString: true,
    }));
}
