import prices from "../catalog/prices.json";

/**
 * The stack's monthly cost, line by line, from the price table in catalog/prices.json (pure, no @pulumi import).
 * index.ts publishes it as rendered/<stack>/cost.md; scripts/cost-diff.ts compares two renders through the
 * machine-readable summary the file ends with.
 */

export type PriceTable = typeof prices;
export const PRICES: PriceTable = prices;

export { KNOWN_SERVER_TYPES } from "../catalog/input";

export interface CostHost {
    readonly name: string;
    readonly serverType: string;
    readonly backups: boolean;
    readonly volumeSizeGb: number;
    /** A Floating IPv4 for the TURN service (docs/turn.md). @default false */
    readonly turnIpv4?: boolean;
}

export interface CostInput {
    readonly stack: string;
    readonly hosts: readonly CostHost[];
    /** Cloudflare Pages projects (free plan). */
    readonly pagesProjects: number;
    /** Whether the stack keeps backups in Hetzner Object Storage (the backup work, issue 12, turns this on). */
    readonly backupObjectStorage: boolean;
    /**
     * Whether the backups go to an append-only backup box (visualkit:backupAppendOnly, docs/backups.md): priced as the
     * smallest server of the table with its primary IPv4 (its disk holds the repository).
     * @default false
     */
    readonly backupBox?: boolean;
    /**
     * Whether the outside prober (a Cloudflare Worker on a cron trigger) runs.
     * @default false
     */
    readonly prober?: boolean;
}

/**
 * What monitoring costs on the server (docs/monitoring.md): no charge, but memory and root disk. Memory measured on the
 * server by the real-host tier's `monitoring` phase (RSS of the five services 146 MB, ~20 min after the install at the
 * 30 s interval, ~1,500 series; Prometheus grows with its head block over the first hours).
 */
export const MONITORING_FOOTPRINT = "Monitoring on each host (Prometheus, Alertmanager, node, Postgres and Redis exporters) has no charge; it uses about 150 MB of memory (146 MB measured on a test server), at most 1 GB of the root disk for metrics and 2 GB for the journal.";

export interface CostLine {
    readonly item: string;
    readonly quantity: string;
    readonly unit: string;
    readonly cents: number;
}

/** The summary cost-diff reads back: total, the lines by item, and the config values that drive the cost. */
export interface CostSummary {
    readonly stack: string;
    readonly totalCents: number;
    readonly lines: Record<string, number>;
    readonly settings: Record<string, string>;
}

const cents = (eur: number) => Math.round(eur * 100);
export const euro = (c: number) => `€${(c / 100).toFixed(2)}`;

export function costLines(input: CostInput, table: PriceTable = PRICES): CostLine[] {
    const types = table.serverTypes as Record<string, { monthly: number; vcpu: number; ramGb: number } | undefined>;
    const lines: CostLine[] = [];
    for (const h of input.hosts) {
        const type = types[h.serverType];
        if (!type) throw new Error(`render/cost: server type ${h.serverType} is not in catalog/prices.json (known: ${Object.keys(types).join(", ")})`);
        const server = cents(type.monthly);
        lines.push({ item: `Server ${h.name} (${h.serverType}, ${type.vcpu} vCPU, ${type.ramGb} GB)`, quantity: "1", unit: euro(server), cents: server });
        if (h.backups) {
            const share = table.serverBackupsShare;
            lines.push({ item: `Hetzner backups of ${h.name} (+${Math.round(share * 100)} % of the server)`, quantity: "1", unit: euro(Math.round(server * share)), cents: Math.round(server * share) });
        }
        lines.push({ item: `Data volume of ${h.name}`, quantity: `${h.volumeSizeGb} GB`, unit: `€${table.volumePerGbMonthly}/GB`, cents: cents(h.volumeSizeGb * table.volumePerGbMonthly) });
        lines.push({ item: `Primary IPv4 of ${h.name}`, quantity: "1", unit: euro(cents(table.primaryIpv4Monthly)), cents: cents(table.primaryIpv4Monthly) });
        lines.push({ item: `Primary IPv6 of ${h.name}`, quantity: "1", unit: euro(cents(table.primaryIpv6Monthly)), cents: cents(table.primaryIpv6Monthly) });
        if (h.turnIpv4) {
            const c = cents(table.floatingIpv4Monthly);
            lines.push({ item: `Floating IPv4 of ${h.name} (TURN address, TCP 443 beside Caddy's)`, quantity: "1", unit: euro(c), cents: c });
        }
    }
    if (input.backupObjectStorage) {
        const c = cents(table.objectStorage.baseMonthly);
        lines.push({ item: `Hetzner Object Storage for backups (${table.objectStorage.includedTb} TB included)`, quantity: "1", unit: euro(c), cents: c });
    }
    if (input.backupBox) {
        const smallest = Object.entries(types).sort(([, a], [, b]) => a!.monthly - b!.monthly)[0];
        const c = cents(smallest[1]!.monthly) + cents(table.primaryIpv4Monthly);
        lines.push({ item: `Append-only backup box (${smallest[0]} + primary IPv4)`, quantity: "1", unit: euro(c), cents: c });
    }
    if (input.prober) {
        lines.push({ item: "Cloudflare Worker prober (free plan, 288 runs a day)", quantity: "1", unit: euro(0), cents: 0 });
    }
    if (input.pagesProjects > 0) {
        lines.push({ item: "Cloudflare Pages projects (free plan)", quantity: String(input.pagesProjects), unit: euro(cents(table.cloudflarePagesMonthly)), cents: input.pagesProjects * cents(table.cloudflarePagesMonthly) });
    }
    return lines;
}

export function costSummary(input: CostInput, table: PriceTable = PRICES): CostSummary {
    const lines = costLines(input, table);
    const settings: Record<string, string> = {};
    for (const h of input.hosts) {
        const suffix = input.hosts.length > 1 ? ` (${h.name})` : "";
        settings[`serverType${suffix}`] = h.serverType;
        settings[`serverBackups${suffix}`] = String(h.backups);
        settings[`volumeSizeGb${suffix}`] = String(h.volumeSizeGb);
    }
    settings.pagesProjects = String(input.pagesProjects);
    return { stack: input.stack, totalCents: lines.reduce((s, l) => s + l.cents, 0), lines: Object.fromEntries(lines.map((l) => [l.item, l.cents])), settings };
}

const MARKER = "visualkit-cost";

export function renderCost(input: CostInput, table: PriceTable = PRICES): string {
    const lines = costLines(input, table);
    const summary = costSummary(input, table);
    return [
        `# Monthly cost: ${input.stack}`,
        "",
        `Hetzner and Cloudflare list prices in ${table.currency}, excluding VAT, as of ${table.asOf} (catalog/prices.json; source: ${table.source}).`,
        `${table.caveat}`,
        "Traffic within the included allowance, and hourly billing below a full month, are not counted.",
        MONITORING_FOOTPRINT,
        "",
        "| Item | Quantity | Unit price | Monthly |",
        "|---|---|---|---|",
        ...lines.map((l) => `| ${l.item} | ${l.quantity} | ${l.unit} | ${euro(l.cents)} |`),
        `| **Total** | | | **${euro(summary.totalCents)}** |`,
        "",
        `<!-- ${MARKER} ${JSON.stringify(summary)} -->`,
        "",
    ].join("\n");
}

/** Reads the summary back out of a rendered cost.md (undefined when the file has none, e.g. an older render). */
export function parseCostSummary(markdown: string): CostSummary | undefined {
    const m = markdown.match(new RegExp(`<!-- ${MARKER} (\\{.*\\}) -->`));
    return m ? (JSON.parse(m[1]) as CostSummary) : undefined;
}
