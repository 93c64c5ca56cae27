import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { packFolder, type PackedFolder } from "../lib/tar";
import type { HostHandle } from "../lib/host";
import { PROJECT_ROOT } from "../lib/shipped";
import { REMOTE_COMMAND_DEFAULTS } from "../lib/ssh";
import { renderWidgetFolderScript, renderWidgetSyncScript } from "../render/widget-cdn";

/**
 * Where the archives are written, relative to the project folder: CopyToRemote reads its FileAsset on the machine running
 * `pulumi up`, and the provider runs in the project folder (https://github.com/pulumi/pulumi/pull/706), so this
 * path is the same on every laptop and CI runner and changes only with the content. Under node_modules, so git
 * ignores it.
 */
export const ARCHIVE_CACHE_DIR = "node_modules/.cache/visualkit-widget-cdn";
/** Archives of other content are removed after a day: a younger one may be another stack's run from this checkout. */
const ARCHIVE_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** Writes the archive to the cache (unless it is already there intact), removes stale ones; returns its relative path. */
function cacheArchive(packed: PackedFolder): string {
    const dir = resolve(PROJECT_ROOT, ARCHIVE_CACHE_DIR);
    const name = `${packed.sha256}.tar.gz`;
    const path = join(dir, name);
    mkdirSync(dir, { recursive: true });
    if (existsSync(path) && createHash("sha256").update(readFileSync(path)).digest("hex") === packed.sha256) {
        const now = new Date();
        utimesSync(path, now, now);
    } else {
        // Written aside and renamed: an interrupted run never leaves a truncated archive under the content's name.
        const tmp = `${path}.${process.pid}.tmp`;
        writeFileSync(tmp, packed.archive);
        renameSync(tmp, path);
    }
    for (const other of readdirSync(dir)) {
        if (other === name || !/\.tar\.gz(\.\d+\.tmp)?$/.test(other)) continue;
        const full = join(dir, other);
        const st = statSync(full, { throwIfNoEntry: false });
        if (st && Date.now() - st.mtimeMs > ARCHIVE_MAX_AGE_MS) rmSync(full, { force: true });
    }
    return `${ARCHIVE_CACHE_DIR}/${name}`;
}

export interface WidgetCdnArgs {
    /** The host Caddy serves the CDN from (SSH connection, readiness). */
    host: HostHandle;
    /** Identity of the machine (Hetzner server id): a new server gets the folder and the files again. */
    instance: pulumi.Input<string>;
    /** Path on the data volume the root links to, e.g. /mnt/data/widget-cdn: a link to the live release in `<folder>-releases`. */
    folder: string;
    /** The static root of the catalog's `cdn` route (/opt/widget-cdn), linked to `folder`. */
    root: string;
    /**
     * Local folder whose content replaces the CDN's on `pulumi up` when it changed (deleted files disappear too); a
     * non-empty folder, which config validation checks (config/sections/local.ts) so a bad path is reported with every other problem.
     * @default undefined (files on the server are left alone; deploy them another way)
     */
    sourceDir?: string;
}

/**
 * The widget SDK's static files: releases on the persistent volume, the link to the live one and the link Caddy
 * serves, and, when a local folder is configured, its content synced as one archive triggered on the content hash
 * (unchanged files upload nothing; the archive is stored outside the stack state) and switched in atomically.
 */
export class WidgetCdn extends pulumi.ComponentResource {
    /** SHA-256 of the synced archive; empty when no source folder is configured. */
    public readonly contentHash: pulumi.Output<string>;
    /** Number of files synced from the source folder. */
    public readonly fileCount: pulumi.Output<number>;

    constructor(name: string, args: WidgetCdnArgs, opts?: pulumi.ComponentResourceOptions) {
        super("visualkit:docker:WidgetCdn", name, {}, opts);
        const connection = args.host.connection;
        const folderScript = renderWidgetFolderScript(args.folder, args.root);
        const folder = new command.remote.Command(
            `${name}-folder`,
            { ...REMOTE_COMMAND_DEFAULTS, connection, create: folderScript, triggers: [folderScript, args.instance] },
            { parent: this, dependsOn: [args.host.ready] },
        );

        let contentHash = "";
        let fileCount = 0;
        if (args.sourceDir !== undefined) {
            const packed = packFolder(resolve(args.sourceDir));
            contentHash = packed.sha256;
            fileCount = packed.files.length;
            const short = packed.sha256.slice(0, 16);
            const localPath = cacheArchive(packed);
            const remotePath = `/var/tmp/visualkit-widget-cdn-${short}.tar.gz`;
            const syncScript = renderWidgetSyncScript(remotePath, args.folder, short);
            // The sync deletes the archive, and a changed script alone would re-run it (a Command's update runs
            // `create` again): the script is a trigger of both, so the archive is uploaded again first.
            const triggers = [packed.sha256, args.instance, syncScript];
            // An asset: Pulumi hashes the file itself and records that hash with the path, so other content is always a
            // diff, never a stale upload. No ignoreChanges on `source`: Pulumi would send the asset from the state, even
            // on a replacement, so every later upload would read the first archive (stale, or missing on another machine).
            const source = new pulumi.asset.FileAsset(localPath);
            const upload = new command.remote.CopyToRemote(`${name}-upload`, { connection, source, remotePath, triggers }, { parent: this, dependsOn: [folder] });
            new command.remote.Command(`${name}-sync`, { ...REMOTE_COMMAND_DEFAULTS, connection, create: syncScript, triggers }, { parent: this, dependsOn: [upload] });
        }

        this.contentHash = pulumi.output(contentHash);
        this.fileCount = pulumi.output(fileCount);
        this.registerOutputs({ contentHash: this.contentHash, fileCount: this.fileCount });
    }
}
