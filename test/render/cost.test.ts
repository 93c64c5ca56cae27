import { execFileSync } from "node:child_process";
import { localFacts } from "../../config/local";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { parseConfig } from "../../stack";
import { renderCost, parseCostSummary, type CostInput } from "../../render/cost";
import { costComment } from "../../scripts/cost-diff";
import { ROOT, stackConfig } from "../helpers/program";

/**
 * The monthly cost: the committed render of both stacks against figures worked out here from the price table and
 * the stack files, the pull-request comment's change line, and the config error for an unpriced server type.
 */

const prices = JSON.parse(readFileSync(join(ROOT, "catalog/prices.json"), "utf8")) as {
    asOf: string;
    source: string;
    serverTypes: Record<string, { monthly: number }>;
    serverBackupsShare: number;
    volumePerGbMonthly: number;
    primaryIpv4Monthly: number;
    primaryIpv6Monthly: number;
    floatingIpv4Monthly: number;
    objectStorage: { baseMonthly: number };
};

function stackFile(stack: string): Record<string, unknown> {
    return (parse(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> }).config;
}

/** A euro amount as the bill shows it. */
const eur = (x: number) => `€${x.toFixed(2)}`;

describe("rendered/<stack>/cost.md", () => {
    test.each(["dev", "prod"])("%s: total = server (+20 %% backups when on) + volume GB × price + IPv4 + IPv6 + TURN's Floating IPv4, Pages free", (stack) => {
        const cfg = stackFile(stack);
        const server = prices.serverTypes[String(cfg["visualkit:serverType"])].monthly;
        const backups = cfg["visualkit:serverBackups"] === true ? server * prices.serverBackupsShare : 0;
        const volume = Number(cfg["visualkit:volumeSizeGb"]) * prices.volumePerGbMonthly;
        // Restic backups to an S3 repository (Hetzner Object Storage) add the bucket's base price.
        const objectStorage = cfg["visualkit:backupsEnabled"] === true && String(cfg["visualkit:backupRepository"] ?? "").startsWith("s3:") ? prices.objectStorage.baseMonthly : 0;
        // An append-only backup box (docs/backups.md) is the smallest server with its IPv4.
        const box = cfg["visualkit:backupsEnabled"] === true && cfg["visualkit:backupAppendOnly"] === true ? Math.min(...Object.values(prices.serverTypes).map((t) => t.monthly)) + prices.primaryIpv4Monthly : 0;
        // Both stacks run TURN on their host (docs/turn.md): one Floating IPv4.
        const expected = server + backups + volume + prices.primaryIpv4Monthly + prices.primaryIpv6Monthly + prices.floatingIpv4Monthly + objectStorage + box;
        const md = readFileSync(join(ROOT, "rendered", stack, "cost.md"), "utf8");
        expect(md).toContain(`| **Total** | | | **${eur(expected)}** |`);
        expect(md).toContain(`as of ${prices.asOf}`);
        expect(md).toContain(prices.source);
        expect(md).toMatch(/Cloudflare Pages projects \(free plan\) \| 3 \| €0\.00 \| €0\.00/);
    });

    test("worked by hand from the table: dev (cx22, 10 GB, no backups, TURN) €7.73, prod (cx32, backups, 50 GB, restic to an append-only backup box, TURN) €18.15", () => {
        // dev: 3.79 + 10 × 0.044 + 0.50 + 3.00 = 7.73; prod: 6.80 + 1.36 + 50 × 0.044 + 0.50 + (3.79 + 0.50) + 3.00 = 18.15
        expect(parseCostSummary(readFileSync(join(ROOT, "rendered/dev/cost.md"), "utf8"))?.totalCents).toBe(773);
        expect(parseCostSummary(readFileSync(join(ROOT, "rendered/prod/cost.md"), "utf8"))?.totalCents).toBe(1815);
    });

    test("the published cost.md is hashed in the outputs like every generated file", () => {
        const outputs = JSON.parse(readFileSync(join(ROOT, "rendered/prod/outputs.json"), "utf8")) as { files: Record<string, string> };
        expect(outputs.files["cost.md"]).toMatch(/^[0-9a-f]{64}$/);
    });
});

describe("an unpriced server type is a config error, not €0", () => {
    test("visualkit:serverType cx99 names the key, the known types and the fix", () => {
        const { project, config, secretKeys } = stackConfig("prod");
        const { issues } = parseConfig({ project, stack: "prod", values: { ...config, "visualkit:serverType": "cx99" }, secretKeys: new Set(secretKeys), env: {}, local: localFacts({}, false) });
        expect(issues).toHaveLength(1);
        expect(issues[0].key).toBe("visualkit:serverType");
        expect(issues[0].problem).toContain('"cx99"');
        for (const known of ["cx22", "cx32", "cx42", "cpx31", "cax21"]) expect(issues[0].problem).toContain(known);
        expect(issues[0].fix).toContain("pulumi config set visualkit:serverType");
    });

    test("every priced type is accepted", () => {
        const { project, config, secretKeys } = stackConfig("dev");
        for (const type of Object.keys(prices.serverTypes)) {
            expect(parseConfig({ project, stack: "dev", values: { ...config, "visualkit:serverType": type }, secretKeys: new Set(secretKeys), env: {}, local: localFacts({}, false) }).issues).toEqual([]);
        }
    });
});

describe("the pull request's cost comment", () => {
    const prod = (serverType: string, volumeSizeGb = 50): CostInput => ({ stack: "prod", hosts: [{ name: "main", serverType, backups: true, volumeSizeGb }], pagesProjects: 3, backupObjectStorage: false });

    test("prod cx32 → cx42: old and new total, the monthly change and the setting that caused it", () => {
        // cx42: 16.40 + 3.28 backups + 2.20 + 0.50 = 22.38; from 10.86 that is +11.52
        const text = costComment([{ stack: "prod", base: renderCost(prod("cx32")), head: renderCost(prod("cx42")) }]);
        expect(text).toContain("- **prod**: €10.86 → €22.38 (+€11.52/month): serverType cx32 → cx42");
    });

    test("a smaller volume is a saving; no change says so; a missing base render is said", () => {
        // 30 GB instead of 50: −20 × 0.044 = −0.88
        expect(costComment([{ stack: "prod", base: renderCost(prod("cx32")), head: renderCost(prod("cx32", 30)) }])).toContain("- **prod**: €10.86 → €9.98 (−€0.88/month): volumeSizeGb 50 → 30");
        expect(costComment([{ stack: "prod", base: renderCost(prod("cx32")), head: renderCost(prod("cx32")) }])).toContain("- **prod**: €10.86/month (no change)");
        expect(costComment([{ stack: "prod", head: renderCost(prod("cx32")) }])).toContain("- **prod**: €10.86/month (the base branch has no cost.md to compare with)");
    });

    test("docs/ci-cd.md's example comment is what the script renders", () => {
        const doc = readFileSync(join(ROOT, "docs/ci-cd.md"), "utf8");
        const dev = readFileSync(join(ROOT, "rendered/dev/cost.md"), "utf8");
        const text = costComment([{ stack: "dev", base: dev, head: dev }, { stack: "prod", base: renderCost(prod("cx32")), head: renderCost(prod("cx42")) }]);
        expect(doc).toContain("````markdown\n" + text.trimEnd() + "\n````");
    });

    test("the CLI reads both rendered/ folders, dev and prod by default", () => {
        const dir = mkdtempSync(join(tmpdir(), "cost-diff-"));
        try {
            for (const [side, type] of [["base", "cx32"], ["head", "cx42"]] as const) {
                mkdirSync(join(dir, side, "prod"), { recursive: true });
                writeFileSync(join(dir, side, "prod", "cost.md"), renderCost(prod(type)));
            }
            mkdirSync(join(dir, "base", "dev"), { recursive: true });
            writeFileSync(join(dir, "base", "dev", "cost.md"), readFileSync(join(ROOT, "rendered/dev/cost.md")));
            mkdirSync(join(dir, "head", "dev"), { recursive: true });
            writeFileSync(join(dir, "head", "dev", "cost.md"), readFileSync(join(ROOT, "rendered/dev/cost.md")));
            const out = execFileSync(process.execPath, [join(ROOT, "scripts/run-ts.js"), join(ROOT, "scripts/cost-diff.ts"), join(dir, "base"), join(dir, "head")], { encoding: "utf8" });
            expect(out.split("\n").filter((l) => l.startsWith("- "))).toEqual(["- **dev**: €7.73/month (no change)", "- **prod**: €10.86 → €22.38 (+€11.52/month): serverType cx32 → cx42"]);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
