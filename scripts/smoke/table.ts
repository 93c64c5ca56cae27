import type { CheckResult } from "./check";

const COLUMNS = ["NAME", "KIND", "URL", "STATUS", "MS", "CERT DAYS", "RESULT"] as const;

function row(r: CheckResult): string[] {
    const kind = r.check.kind === "websocket" && r.check.subprotocol ? `websocket(${r.check.subprotocol})` : r.check.kind;
    const result = r.verdict === "ok" ? "OK" : `${r.verdict.toUpperCase()} ${r.message}`;
    return [r.check.name, kind, r.check.url, r.status === undefined ? "-" : String(r.status), String(r.ms), r.certDays === undefined ? "-" : String(r.certDays), result];
}

/** A plain-text table, one line per check in the order given, then a summary line. */
export function formatTable(results: readonly CheckResult[]): string {
    const rows = [[...COLUMNS], ...results.map(row)];
    const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    const lines = rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join("  "));
    const count = (v: CheckResult["verdict"]) => results.filter((r) => r.verdict === v).length;
    const skipped = count("skip") > 0 ? `, ${count("skip")} skipped` : "";
    lines.push("", `${results.length} checks: ${count("ok")} ok, ${count("warn")} warning, ${count("fail")} failed${skipped}`);
    return lines.join("\n") + "\n";
}
