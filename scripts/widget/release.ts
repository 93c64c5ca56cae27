import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { MAX_ARTIFACT_BYTES, SHA256, VERSION, verifyArtifact } from "./artifact";

/**
 * The widget CDN's release path (docs/deploy.md "Widget CDN releases"). `deploy/widget-cdn/<stack>.json` is the record,
 * committed: which release is served and, for every kept release, where its artifact is and its SHA-256. `fetch`
 * makes `widget-cdn/<stack>/site` (the folder `visualkit:widgetCdnSourceDir` names, uploaded by `pulumi up`) from
 * verified artifacts only: every kept release under its version folder (`/1.4.2/widget.js`, never changing: served
 * `immutable`), the served one's files also at the top (`/widget.js`, served with a 5 min revalidation). Verified
 * releases are cached in `widget-cdn/<stack>/releases/<version>` beside a marker holding the artifact's SHA-256, so
 * promoting back to a kept release or rolling back downloads nothing.
 */

export interface ReleaseEntry {
    readonly url: string;
    readonly sha256: string;
}
export interface HistoryEntry {
    readonly at: string;
    readonly action: "promote" | "rollback";
    readonly from: string | null;
    readonly to: string;
}
export interface ReleaseRecord {
    readonly stack: string;
    readonly served: string;
    readonly releases: Readonly<Record<string, ReleaseEntry>>;
    readonly history: readonly HistoryEntry[];
}

/** Releases kept in the record (and so under their version folder on the CDN): the served one and the four before it. */
export const KEEP_RELEASES = 5;
export const STACK = /^[a-z][a-z0-9-]*$/;

export const recordPath = (root: string, stack: string) => join(root, "deploy", "widget-cdn", `${stack}.json`);
export const workDir = (root: string, stack: string) => join(root, "widget-cdn", stack);
export const siteDir = (root: string, stack: string) => join(workDir(root, stack), "site");

export function readRecord(root: string, stack: string): ReleaseRecord | undefined {
    if (!STACK.test(stack)) throw new Error(`stack ${JSON.stringify(stack)} is not a stack name (dev, prod)`);
    const path = recordPath(root, stack);
    if (!existsSync(path)) return undefined;
    const record = JSON.parse(readFileSync(path, "utf8")) as ReleaseRecord;
    const problems = checkRecord(record);
    if (problems.length > 0) throw new Error(`${path}: ${problems.join("; ")}`);
    return record;
}

export function checkRecord(r: ReleaseRecord): string[] {
    const problems: string[] = [];
    if (!r.releases || typeof r.releases !== "object") return ["no releases map"];
    for (const [v, e] of Object.entries(r.releases)) {
        if (!VERSION.test(v)) problems.push(`release ${v} is not a version (1.4.2, 2.0.0-beta.1)`);
        problems.push(...checkUrl(e.url).map((p) => `release ${v}: ${p}`));
        if (!SHA256.test(String(e.sha256))) problems.push(`release ${v}: sha256 must be 64 lowercase hex digits`);
    }
    if (!(r.served in r.releases)) problems.push(`served release ${r.served} is not in releases`);
    return problems;
}

/** https only; http just for a server on this machine (the tests' artifact server). */
export function checkUrl(url: string): string[] {
    let u: URL;
    try {
        u = new URL(url);
    } catch {
        return [`url ${url} is not a URL`];
    }
    if (u.protocol === "https:") return [];
    if (u.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname)) return [];
    return [`url ${url} must be https`];
}

async function download(url: string): Promise<Buffer> {
    const res = await fetch(url, { redirect: "follow", signal: AbortSignal.timeout(120_000) });
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    const length = Number(res.headers.get("content-length") ?? 0);
    if (length > MAX_ARTIFACT_BYTES) throw new Error(`GET ${url}: ${length} bytes, more than ${MAX_ARTIFACT_BYTES}`);
    const data = Buffer.from(await res.arrayBuffer());
    if (data.length > MAX_ARTIFACT_BYTES) throw new Error(`GET ${url}: more than ${MAX_ARTIFACT_BYTES} bytes`);
    return data;
}

/** Writes a folder next to its final place and renames it there: a failed or interrupted run leaves no half folder. */
function replaceFolder(final: string, fill: (tmp: string) => void): void {
    const tmp = `${final}.tmp-${process.pid}`;
    const old = `${final}.old-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    try {
        fill(tmp);
        if (existsSync(final)) renameSync(final, old);
        renameSync(tmp, final);
    } finally {
        rmSync(tmp, { recursive: true, force: true });
        rmSync(old, { recursive: true, force: true });
    }
}

export interface FetchResult {
    readonly downloaded: string[];
    readonly cached: string[];
    readonly site: string;
}

/**
 * Makes sure every release of the record is verified in the cache (downloading only those that are not, or whose
 * cached SHA-256 differs from the record), then builds the site. Throws with every problem of an artifact; nothing
 * of a refused artifact is written.
 */
export async function fetchReleases(root: string, record: ReleaseRecord, log: (line: string) => void = () => undefined): Promise<FetchResult> {
    const dir = workDir(root, record.stack);
    const downloaded: string[] = [];
    const cached: string[] = [];
    for (const [version, entry] of Object.entries(record.releases)) {
        const folder = join(dir, "releases", version);
        const marker = `${folder}.sha256`;
        if (existsSync(folder) && existsSync(marker) && readFileSync(marker, "utf8").trim() === entry.sha256) {
            cached.push(version);
            continue;
        }
        const t0 = Date.now();
        const gz = await download(entry.url);
        const { files, problems } = verifyArtifact(gz, { version, sha256: entry.sha256 });
        if (problems.length > 0) throw new Error(`widget ${version} (${entry.url}) refused:\n  ${problems.join("\n  ")}`);
        rmSync(marker, { force: true });
        replaceFolder(folder, (tmp) => {
            for (const f of files) {
                mkdirSync(dirname(join(tmp, f.path)), { recursive: true });
                writeFileSync(join(tmp, f.path), f.data, { mode: 0o644 });
            }
        });
        writeFileSync(marker, `${entry.sha256}\n`);
        downloaded.push(version);
        log(`widget ${version}: ${gz.length} bytes, SHA-256 ${entry.sha256.slice(0, 12)}… and ${files.length} files checked against manifest.json (${Date.now() - t0} ms)`);
    }
    // Releases no longer in the record leave the cache.
    const releases = join(dir, "releases");
    for (const name of existsSync(releases) ? readdirSync(releases) : []) {
        const version = name.replace(/\.sha256$/, "");
        if (!(version in record.releases)) rmSync(join(releases, name), { recursive: true, force: true });
    }
    const site = buildSite(root, record);
    log(`widget-cdn ${record.stack}: serving ${record.served} at / and ${Object.keys(record.releases).join(", ")} under /<version>/ (${site})`);
    return { downloaded, cached, site };
}

/** The served folder from the cache only (no download): a promote back or a rollback is this, seconds. */
export function buildSite(root: string, record: ReleaseRecord): string {
    const dir = workDir(root, record.stack);
    const site = siteDir(root, record.stack);
    replaceFolder(site, (tmp) => {
        for (const version of Object.keys(record.releases)) {
            const folder = join(dir, "releases", version);
            if (!existsSync(folder)) throw new Error(`widget ${version} is not in ${join(dir, "releases")}: run fetch`);
            cpSync(folder, join(tmp, version), { recursive: true });
        }
        cpSync(join(dir, "releases", record.served), tmp, { recursive: true });
    });
    return site;
}

export function writeRecord(root: string, record: ReleaseRecord): void {
    const path = recordPath(root, record.stack);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${JSON.stringify(record, null, 2)}\n`);
}

/** The record after promoting `version` (new, or a kept one again); every problem with the inputs in one message. */
export function planPromote(stack: string, current: ReleaseRecord | undefined, version: string, entry: ReleaseEntry | undefined, now = new Date()): ReleaseRecord {
    const problems: string[] = [];
    if (!VERSION.test(version)) problems.push(`version ${version} is not a release version (1.4.2, 2.0.0-beta.1)`);
    const known = current?.releases[version];
    const e = entry ?? known;
    if (!e) problems.push(`release ${version} is not in the record: give --url <artifact> and --sha256 <hex> (its SHA256SUMS line)`);
    else {
        problems.push(...checkUrl(e.url));
        if (!SHA256.test(e.sha256)) problems.push(`--sha256 must be 64 lowercase hex digits, got ${e.sha256}`);
        if (known && entry && (known.sha256 !== entry.sha256 || known.url !== entry.url)) problems.push(`release ${version} is recorded with another artifact (${known.sha256}): a version's bytes never change, publish a new version`);
    }
    if (current && current.served === version) problems.push(`${version} is served already`);
    if (problems.length > 0) throw new Error(problems.join("; "));
    const kept = Object.entries(current?.releases ?? {}).filter(([v]) => v !== version);
    // The newest promotions are kept; the oldest leave the record (and the CDN's version folders).
    const order = [...(current?.history ?? [])].reverse().map((h) => h.to);
    kept.sort(([a], [b]) => rank(order, a) - rank(order, b));
    const releases = Object.fromEntries([[version, e!], ...kept.slice(0, KEEP_RELEASES - 1)]);
    return {
        stack,
        served: version,
        releases,
        history: [...(current?.history ?? []), { at: now.toISOString(), action: "promote", from: current?.served ?? null, to: version }],
    };
}
const rank = (order: string[], v: string) => (order.indexOf(v) === -1 ? order.length : order.indexOf(v));

/**
 * The record after a rollback: the `from` of the newest promotion not yet undone (two rollbacks go two releases back,
 * as `npm run rollback` does for images). Refuses without one, or when that release left the record.
 */
export function planRollback(current: ReleaseRecord | undefined, now = new Date()): ReleaseRecord {
    if (!current) throw new Error("no release record: nothing was promoted, nothing to roll back to");
    const open: HistoryEntry[] = [];
    for (const h of current.history) {
        if (h.action === "promote") open.push(h);
        else open.pop();
    }
    const last = open.pop();
    if (!last || last.from === null) throw new Error(`no promotion to undo in ${current.stack}'s record (the first release has nothing before it)`);
    if (last.to !== current.served) throw new Error(`the record serves ${current.served}, but the last promotion set ${last.to}: promote the release you want explicitly`);
    if (!(last.from in current.releases)) throw new Error(`release ${last.from} is no longer kept (only the last ${KEEP_RELEASES} are): promote it again with --url and --sha256`);
    return { ...current, served: last.from, history: [...current.history, { at: now.toISOString(), action: "rollback", from: current.served, to: last.from }] };
}
