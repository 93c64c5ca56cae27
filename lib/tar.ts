import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { gzipSync } from "node:zlib";
import { ustarSplit } from "./ustar";

/**
 * A deterministic .tar.gz of a local folder (sorted entries, owner 0, mtime 0, fixed modes): the same files always
 * give the same bytes and the same hash, so a sync runs only when the content changed. Plain ustar, which every
 * `tar` reads; no dependency.
 */
export interface PackedFolder {
    readonly archive: Buffer;
    /** SHA-256 of the archive: the content hash a sync is triggered on. */
    readonly sha256: string;
    /** Relative paths of the files, sorted, with `/` separators. */
    readonly files: readonly string[];
}

/** What an archive of `dir` holds: folders and files (links to files count as files), sorted, with `/` separators. */
export interface FolderListing {
    readonly dirs: readonly string[];
    readonly files: readonly string[];
    /** Links that point nowhere: reading them would fail, so they are listed apart (config validation reports them). */
    readonly broken: readonly string[];
}

export function listFolder(dir: string): FolderListing {
    const files: string[] = [];
    const dirs: string[] = [];
    const broken: string[] = [];
    const walk = (d: string) => {
        for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
            const full = join(d, entry.name);
            const rel = relative(dir, full).split(sep).join("/");
            if (entry.isDirectory()) {
                dirs.push(rel);
                walk(full);
            } else if (entry.isFile()) {
                files.push(rel);
            } else if (entry.isSymbolicLink()) {
                const target = statSync(full, { throwIfNoEntry: false });
                if (!target) broken.push(rel);
                else if (target.isFile()) files.push(rel);
            }
        }
    };
    walk(dir);
    return { dirs, files, broken };
}

export function packFolder(dir: string): PackedFolder {
    const { dirs, files } = listFolder(dir);
    const blocks: Buffer[] = [];
    for (const rel of [...dirs, ...files].sort()) {
        const isDir = dirs.includes(rel);
        const content = isDir ? Buffer.alloc(0) : readFileSync(join(dir, rel));
        blocks.push(header(isDir ? `${rel}/` : rel, content.length, isDir), content, Buffer.alloc((512 - (content.length % 512)) % 512));
    }
    blocks.push(Buffer.alloc(1024));
    const archive = gzipSync(Buffer.concat(blocks), { level: 9 });
    return { archive, sha256: createHash("sha256").update(archive).digest("hex"), files };
}

function header(path: string, size: number, isDir: boolean): Buffer {
    const h = Buffer.alloc(512);
    const split = ustarSplit(path);
    if (!split) throw new Error(`tar: path too long for ustar: ${path}`);
    const { name, prefix } = split;
    const put = (text: string, offset: number, length: number) => h.write(text, offset, length, "utf8");
    const octal = (n: number, length: number) => `${n.toString(8).padStart(length - 1, "0")}\0`;
    put(name, 0, 100);
    put(octal(isDir ? 0o755 : 0o644, 8), 100, 8);
    put(octal(0, 8), 108, 8);
    put(octal(0, 8), 116, 8);
    put(octal(size, 12), 124, 12);
    put(octal(0, 12), 136, 12);
    put("        ", 148, 8);
    put(isDir ? "5" : "0", 156, 1);
    put("ustar\0", 257, 6);
    put("00", 263, 2);
    put("root", 265, 32);
    put("root", 297, 32);
    put(prefix, 345, 155);
    let sum = 0;
    for (const b of h) sum += b;
    put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
    return h;
}
