import type { Row, RowStatus } from "./match";

const LABEL: Record<RowStatus, string> = {
    unchanged: "ADOPTED, UNCHANGED",
    change: "ADOPTED, WILL CHANGE",
    blocked: "NOT ADOPTABLE",
    create: "CREATED BY PULUMI UP",
    managed: "ALREADY THIS STACK'S",
    foreign: "NOT OURS, LEFT ALONE",
};

const COLUMNS = ["STATUS", "RESOURCE", "IN CLOUDFLARE", "CHANGE / WHAT TO DO"] as const;

/** One plain-text table of every row, then a summary line. */
export function formatAdoptTable(rows: readonly Row[]): string {
    const cells = [[...COLUMNS], ...rows.map((r) => [LABEL[r.status], r.resource ?? "-", r.object, r.detail || "-"])];
    const widths = COLUMNS.map((_, i) => Math.max(...cells.map((c) => c[i].length)));
    const lines = cells.map((c) => c.map((cell, i) => (i === c.length - 1 ? cell : cell.padEnd(widths[i]))).join("  "));
    const n = (s: RowStatus) => rows.filter((r) => r.status === s).length;
    lines.push(
        "",
        `${n("unchanged") + n("change")} adopted (${n("change")} will change), ${n("blocked")} not adoptable, ${n("create")} to create, ` +
            `${n("managed")} already this stack's, ${n("foreign")} left alone`,
    );
    return lines.join("\n") + "\n";
}
