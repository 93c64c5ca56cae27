import { createHash } from "node:crypto";
import { posix } from "node:path";
import { gunzipSync } from "node:zlib";

/**
 * The widget repository's release artifact, checked before any byte of it is served: `widget-<version>.tar.gz`, whose
 * SHA-256 the release record (deploy/widget-cdn/<stack>.json) holds, containing the built files and `manifest.json`
 * (`{"version": "1.4.2", "files": {"widget.js": "<sha256>", …}}`, written by the widget's build). Pure: bytes in,
 * files or a list of every problem out. The archive is read here, not by `tar`, so an entry that would land outside the
 * release folder (an absolute path, `..`, a link, a device) is refused before anything is written.
 */

export const MANIFEST = "manifest.json";
export const sha256 = (data: Buffer | string): string => createHash("sha256").update(data).digest("hex");
export const SHA256 = /^[0-9a-f]{64}$/;
/** A release version as the widget tags it (`1.4.2`, `2.0.0-beta.1`): the folder name pinned URLs use (catalog WIDGET_IMMUTABLE_PATH). */
export const VERSION = /^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$/;
/** Bigger than any widget build; a bound so a wrong URL cannot fill the runner's disk. */
export const MAX_ARTIFACT_BYTES = 100 * 1024 * 1024;

export interface ArtifactFile {
    readonly path: string;
    readonly data: Buffer;
}

const TYPES: Record<string, string> = { "1": "a hard link", "2": "a symbolic link", "3": "a character device", "4": "a block device", "6": "a FIFO", "7": "a contiguous file" };

const field = (block: Buffer, start: number, length: number) => {
    const raw = block.subarray(start, start + length);
    const end = raw.indexOf(0);
    return raw.subarray(0, end === -1 ? length : end).toString("utf8");
};

/** A path inside the release folder, or why it is not one. */
export function safePath(name: string): { path?: string; problem?: string } {
    if (name.includes("\0") || name.includes("\\")) return { problem: `entry ${JSON.stringify(name)} has a NUL or backslash in its name` };
    if (name.startsWith("/")) return { problem: `entry ${name} is an absolute path: it would be written outside the release folder` };
    const normal = posix.normalize(name.replace(/^(\.\/)+/, ""));
    if (normal === ".." || normal.startsWith("../") || name.split("/").includes("..")) return { problem: `entry ${name} escapes the release folder (..)` };
    const path = normal.replace(/\/+$/, "");
    return path === "" || path === "." ? {} : { path };
}

/** The regular files of a .tar.gz (ustar, GNU long names, pax paths); every entry that is not a file or a folder is a problem. */
export function readTarGz(gz: Buffer): { files: ArtifactFile[]; problems: string[] } {
    const problems: string[] = [];
    const files: ArtifactFile[] = [];
    let tar: Buffer;
    try {
        tar = gunzipSync(gz, { maxOutputLength: MAX_ARTIFACT_BYTES * 4 });
    } catch (e) {
        return { files, problems: [`not a gzip file: ${(e as Error).message}`] };
    }
    let offset = 0;
    let longName: string | undefined;
    while (offset + 512 <= tar.length) {
        const header = tar.subarray(offset, offset + 512);
        if (header.every((b) => b === 0)) break;
        const size = parseInt(field(header, 124, 12).trim() || "0", 8);
        if (!Number.isFinite(size) || size < 0) return { files, problems: [...problems, `a tar header at byte ${offset} is damaged`] };
        const type = String.fromCharCode(header[156] || 48);
        const body = tar.subarray(offset + 512, offset + 512 + size);
        offset += 512 + Math.ceil(size / 512) * 512;
        if (type === "L") {
            longName = body.toString("utf8").replace(/\0+$/, "");
            continue;
        }
        if (type === "x") {
            const path = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString("utf8"));
            if (path) longName = path[1];
            continue;
        }
        if (type === "g") continue;
        const prefix = field(header, 345, 155);
        const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
        longName = undefined;
        const where = safePath(name);
        if (where.problem) {
            problems.push(where.problem);
            continue;
        }
        if (type === "5") continue;
        if (type !== "0") {
            problems.push(`entry ${name} is ${TYPES[type] ?? `of tar type ${type}`}: a release holds only files and folders`);
            continue;
        }
        if (where.path) files.push({ path: where.path, data: Buffer.from(body) });
    }
    return { files, problems };
}

/** Checks the artifact against the record and its own manifest; returns the files to serve (the manifest left out) or every problem. */
export function verifyArtifact(gz: Buffer, expected: { version: string; sha256: string }): { files: ArtifactFile[]; problems: string[] } {
    const actual = sha256(gz);
    if (actual !== expected.sha256) return { files: [], problems: [`SHA-256 mismatch: the artifact is ${actual}, the release record says ${expected.sha256}`] };
    const { files, problems } = readTarGz(gz);
    const manifestFile = files.find((f) => f.path === MANIFEST);
    if (!manifestFile) return { files: [], problems: [...problems, `no ${MANIFEST} at the top of the artifact: the widget's build writes it (version and each file's SHA-256)`] };
    let manifest: { version?: unknown; files?: unknown };
    try {
        manifest = JSON.parse(manifestFile.data.toString("utf8")) as typeof manifest;
    } catch (e) {
        return { files: [], problems: [...problems, `${MANIFEST} is not JSON: ${(e as Error).message}`] };
    }
    if (manifest.version !== expected.version) problems.push(`${MANIFEST} says version ${String(manifest.version)}, the release record ${expected.version}`);
    const listed = manifest.files && typeof manifest.files === "object" ? (manifest.files as Record<string, unknown>) : undefined;
    if (!listed) return { files: [], problems: [...problems, `${MANIFEST} has no "files" map`] };
    const served = files.filter((f) => f.path !== MANIFEST);
    const seen = new Set<string>();
    for (const f of served) {
        seen.add(f.path);
        if (!(f.path in listed)) problems.push(`${f.path} is in the artifact but not in ${MANIFEST}`);
        else if (listed[f.path] !== sha256(f.data)) problems.push(`${f.path}: SHA-256 ${sha256(f.data)}, ${MANIFEST} says ${String(listed[f.path])}`);
    }
    for (const p of Object.keys(listed)) if (!seen.has(p)) problems.push(`${p} is in ${MANIFEST} but not in the artifact`);
    if (served.length === 0) problems.push("the artifact holds no files to serve");
    return problems.length > 0 ? { files: [], problems } : { files: served, problems };
}
