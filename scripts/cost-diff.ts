import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { euro, parseCostSummary, PRICES, type CostSummary } from "../render/cost";
import { commandLine } from "./usage";

/**
 * `npm run cost-diff -- <base rendered/> <head rendered/> [stack...]` (stacks default dev prod): the monthly cost of
 * each stack in the pull request against the base branch's render, as Markdown for the PR comment, e.g.
 * "prod: €10.86 → €24.16 (+€13.30/month): serverType cx32 → cx42". Reads the summary each rendered cost.md ends with.
 */

function signed(c: number): string {
    return `${c < 0 ? "−" : "+"}${euro(Math.abs(c))}`;
}

/** One stack's line: the total, the change and the settings that changed. */
export function costChange(stack: string, base: CostSummary | undefined, head: CostSummary | undefined): string {
    if (!head) return `- **${stack}**: no cost.md in this pull request's render`;
    if (!base) return `- **${stack}**: ${euro(head.totalCents)}/month (the base branch has no cost.md to compare with)`;
    const changed = Object.keys({ ...base.settings, ...head.settings })
        .filter((k) => base.settings[k] !== head.settings[k])
        .map((k) => `${k} ${base.settings[k] ?? "(none)"} → ${head.settings[k] ?? "(none)"}`);
    const delta = head.totalCents - base.totalCents;
    if (delta === 0) return `- **${stack}**: ${euro(head.totalCents)}/month (no change${changed.length ? `; ${changed.join(", ")}` : ""})`;
    const why = changed.length ? changed.join(", ") : "prices in catalog/prices.json";
    return `- **${stack}**: ${euro(base.totalCents)} → ${euro(head.totalCents)} (${signed(delta)}/month): ${why}`;
}

export function costComment(stacks: readonly { stack: string; base?: string; head?: string }[]): string {
    const lines = stacks.map((s) => costChange(s.stack, s.base ? parseCostSummary(s.base) : undefined, s.head ? parseCostSummary(s.head) : undefined));
    return [
        "#### Monthly cost",
        ...lines,
        "",
        `Hetzner list prices in ${PRICES.currency} excl. VAT as of ${PRICES.asOf} (catalog/prices.json); line by line in \`rendered/<stack>/cost.md\`.`,
        "",
    ].join("\n");
}

function cli(): void {
    const usage = "usage: npm run cost-diff -- <base rendered/> <head rendered/> [stack...]";
    const [baseDir, headDir, ...rest] = commandLine(usage, {}).positionals;
    if (!baseDir || !headDir) {
        console.error(usage);
        process.exit(2);
    }
    const read = (dir: string, stack: string) => {
        const f = join(dir, stack, "cost.md");
        return existsSync(f) ? readFileSync(f, "utf8") : undefined;
    };
    const stacks = (rest.length ? rest : ["dev", "prod"]).map((stack) => ({ stack, base: read(baseDir, stack), head: read(headDir, stack) }));
    process.stdout.write(costComment(stacks));
}

// Run as a command (scripts/run-ts.js makes the entry argv[1]), not when a test imports the functions.
if (resolve(process.argv[1] ?? "") === __filename) cli();
