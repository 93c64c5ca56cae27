import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseDocument } from "yaml";
import { fetchReleases, planPromote, planRollback, readRecord, recordPath, siteDir, writeRecord, type ReleaseRecord } from "./widget/release";
import { answerHelp } from "./usage";

/**
 * `npm run widget-release -- fetch <stack>` | `promote <stack> <version> [--url <artifact> --sha256 <hex>]` |
 * `rollback <stack> [--dry-run]`
 *
 * The widget CDN's release path (docs/deploy.md "Widget CDN releases"): the record deploy/widget-cdn/<stack>.json says
 * which release is served; `fetch` downloads and verifies what the record names (SHA-256 of the artifact, then every
 * file against its manifest) into widget-cdn/<stack>/ and builds widget-cdn/<stack>/site, the folder
 * `visualkit:widgetCdnSourceDir` names; `pulumi up` then uploads it. `promote` and `rollback` change the record (a
 * new release is downloaded and verified before the record is written; a kept one comes from the cache) — commit it,
 * then `pulumi up`. Exit 0 on success, 1 when a step failed (a refused artifact), 2 on bad usage.
 */
const USAGE = `usage: npm run widget-release -- fetch <stack>
       npm run widget-release -- promote <stack> <version> [--url <https://…/widget-<version>.tar.gz> --sha256 <hex>]
       npm run widget-release -- rollback <stack> [--dry-run]`;

function options(argv: string[]): { words: string[]; opts: Map<string, string | true> } {
    const words: string[] = [];
    const opts = new Map<string, string | true>();
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (!a.startsWith("--")) words.push(a);
        else if (a === "--dry-run") opts.set(a, true);
        else if (["--url", "--sha256"].includes(a)) {
            if (argv[i + 1] === undefined || argv[i + 1].startsWith("--")) throw new Error(`${a} needs a value`);
            opts.set(a, argv[++i]);
        } else throw new Error(`unknown option ${a}`);
    }
    return { words, opts };
}

/** The stack file must name the built folder, or `pulumi up` uploads something else (or nothing). */
function checkStackFile(root: string, stack: string): void {
    const file = join(root, `Pulumi.${stack}.yaml`);
    const want = relative(root, siteDir(root, stack));
    const have = existsSync(file) ? parseDocument(readFileSync(file, "utf8")).getIn(["config", "visualkit:widgetCdnSourceDir"]) : undefined;
    if (have !== want) console.error(`widget-release: note: Pulumi.${stack}.yaml sets visualkit:widgetCdnSourceDir to ${have === undefined ? "nothing" : JSON.stringify(have)}; pulumi up serves this release only with: npx pulumi config set visualkit:widgetCdnSourceDir ${want} -s ${stack}`);
}

async function main(): Promise<number> {
    const argv = process.argv.slice(2);
    answerHelp(USAGE, argv);
    const root = process.cwd();
    let words: string[];
    let opts: Map<string, string | true>;
    try {
        ({ words, opts } = options(argv));
        const [command, stack] = words;
        const arity: Record<string, number> = { fetch: 2, promote: 3, rollback: 2 };
        if (!(command in arity)) throw new Error(`unknown command ${command ?? "(none)"}`);
        if (words.length !== arity[command]) throw new Error(`${command} takes ${arity[command] - 1 === 1 ? "the stack" : "the stack and the version"}`);
        if (!stack) throw new Error("which stack?");
    } catch (e) {
        console.error(`widget-release: ${(e as Error).message}\n${USAGE}`);
        return 2;
    }
    const [command, stack, version] = words;
    const started = Date.now();
    const log = (line: string) => console.log(line);
    try {
        const current = readRecord(root, stack);
        let next: ReleaseRecord;
        if (command === "fetch") {
            if (!current) {
                console.log(`widget-release: no ${relative(root, recordPath(root, stack))}: no widget release to fetch for ${stack}`);
                return 0;
            }
            const r = await fetchReleases(root, current, log);
            checkStackFile(root, stack);
            console.log(`fetched ${r.downloaded.join(", ") || "nothing"} (cached: ${r.cached.join(", ") || "none"}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
            return 0;
        }
        if (command === "promote") {
            const url = opts.get("--url");
            const sum = opts.get("--sha256");
            if ((url === undefined) !== (sum === undefined)) throw new Error("give --url and --sha256 together");
            next = planPromote(stack, current, version, typeof url === "string" && typeof sum === "string" ? { url, sha256: sum } : undefined);
        } else {
            next = planRollback(current);
            if (opts.has("--dry-run")) {
                console.log(`rollback ${stack} would serve ${next.served} (now ${current!.served})`);
                return 0;
            }
        }
        // Downloaded and verified (or taken from the cache) before the record says so.
        const r = await fetchReleases(root, next, log);
        writeRecord(root, next);
        checkStackFile(root, stack);
        console.log(`${stack}: widget ${current?.served ?? "(none)"} → ${next.served} (downloaded: ${r.downloaded.join(", ") || "nothing"}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        console.log(`next: commit ${relative(root, recordPath(root, stack))} and run pulumi up (it uploads ${relative(root, siteDir(root, stack))}); the workflow widget-release.yml does both`);
        return 0;
    } catch (e) {
        console.error(`widget-release: ${(e as Error).message}`);
        return 1;
    }
}

void main().then((code) => (process.exitCode = code));
