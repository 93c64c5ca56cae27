import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";

/**
 * A local folder as the widget CDN deploys it: what it holds (config validation checks it before anything is created)
 * and a hash of its content (what a sync is triggered on and the release is named by). Reads only: Pulumi uploads
 * the folder itself as a `FileArchive`, so nothing is packed or written on this machine.
 */

/** What the folder holds: folders and files (links to files count as files), sorted, with `/` separators. */
export interface FolderListing {
    readonly dirs: readonly string[];
    readonly files: readonly string[];
    /** Links that point nowhere: reading them would fail, so they are listed apart (config validation reports them). */
    readonly broken: readonly string[];
    /**
     * Links to folders: Pulumi's folder archive leaves them out and the upload (command 1.2.1's SFTP copy) fails on
     * them, so config validation reports them too.
     */
    readonly linkedFolders: readonly string[];
}

/** Code-unit order, the same on every machine and locale (localeCompare is not). */
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function listFolder(dir: string): FolderListing {
    const files: string[] = [];
    const dirs: string[] = [];
    const broken: string[] = [];
    const linkedFolders: string[] = [];
    const walk = (d: string) => {
        for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => byName(a.name, b.name))) {
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
                else if (target.isDirectory()) linkedFolders.push(rel);
            }
        }
    };
    walk(dir);
    return { dirs, files, broken, linkedFolders };
}

export interface FolderContent {
    /**
     * SHA-256 over the folder's paths and file bytes, in a fixed order: the same files give the same hash on every
     * machine, whatever their timestamps, owners or modes; any changed, added, removed or renamed file gives another.
     */
    readonly sha256: string;
    /** Relative paths of the files, sorted, with `/` separators. */
    readonly files: readonly string[];
}

export function folderContent(dir: string): FolderContent {
    const { dirs, files } = listFolder(dir);
    const hash = createHash("sha256");
    // Length-prefixed fields: no path or content can be mistaken for the start of the next entry.
    const field = (b: Buffer) => hash.update(`${b.length}:`).update(b);
    for (const d of dirs) field(Buffer.from(`d ${d}`));
    for (const f of files) {
        field(Buffer.from(`f ${f}`));
        field(readFileSync(join(dir, f)));
    }
    return { sha256: hash.digest("hex"), files };
}
