import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { folderContent } from "../config/folder";
import type { HostHandle } from "../lib/host";
import { REMOTE_COMMAND_DEFAULTS } from "../lib/ssh";
import { renderWidgetFolderScript, renderWidgetSyncScript } from "../render/widget-cdn";

/**
 * The folder as Pulumi uploads it: a `FileArchive` of the folder itself, which the engine hashes by content (names
 * and bytes, not timestamps) on every preview and `up` and the command provider copies file by file over SFTP. Nothing
 * is packed or written on this machine, in a preview, a test or an `up`. The trailing slash makes the copy put the
 * folder's files straight into `remotePath` (without it they would land in `remotePath/<folder name>`). The path is
 * kept as written in the stack file (relative to the project folder, where the engine and the provider run), so the
 * state records the same path on every laptop and CI runner.
 */
function folderArchive(sourceDir: string): pulumi.asset.FileArchive {
    return new pulumi.asset.FileArchive(`${sourceDir.replace(/\/+$/, "")}/`);
}

export interface WidgetCdnArgs {
    /** The host Caddy serves the CDN from (SSH connection, readiness). */
    host: HostHandle;
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
 * serves, and, when a local folder is configured, its content uploaded when its hash changes (unchanged files upload
 * nothing; the files are not stored in the stack state) and switched in atomically.
 */
export class WidgetCdn extends pulumi.ComponentResource {
    /** SHA-256 of the synced folder's content (config/folder.ts); empty when no source folder is configured. */
    public readonly contentHash: pulumi.Output<string>;
    /** Number of files synced from the source folder. */
    public readonly fileCount: pulumi.Output<number>;

    constructor(name: string, args: WidgetCdnArgs, opts?: pulumi.ComponentResourceOptions) {
        // Files behind Caddy, not a container: the type named Docker before, and the alias keeps existing stacks'
        // component (and, through it, its children's URNs) instead of replacing the folder, upload and sync.
        super("visualkit:cdn:WidgetCdn", name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), { type: "visualkit:docker:WidgetCdn" }] });
        const connection = args.host.connection;
        const folderScript = renderWidgetFolderScript(args.folder, args.root);
        const folder = new command.remote.Command(
            `${name}-folder`,
            { ...REMOTE_COMMAND_DEFAULTS, connection, create: folderScript, triggers: [folderScript, args.host.instance] },
            { parent: this, dependsOn: [args.host.ready] },
        );

        let contentHash = "";
        let fileCount = 0;
        if (args.sourceDir !== undefined) {
            const content = folderContent(args.sourceDir);
            contentHash = content.sha256;
            fileCount = content.files.length;
            const short = content.sha256.slice(0, 16);
            // Named by the content: a copy left by an interrupted run holds the same files, and the copy overwrites them.
            const remotePath = `/var/tmp/visualkit-widget-cdn-${short}`;
            const syncScript = renderWidgetSyncScript(remotePath, args.folder, short);
            // The sync deletes the staged copy, and a changed script alone would re-run it (a Command's update runs
            // `create` again): the script is a trigger of both, so the files are uploaded again first.
            const triggers = [content.sha256, args.host.instance, syncScript];
            // No ignoreChanges on `source`: Pulumi would send the archive from the state, even on a replacement, so
            // every later upload would copy the path recorded first (another folder, or missing on another machine).
            const source = folderArchive(args.sourceDir);
            const upload = new command.remote.CopyToRemote(`${name}-upload`, { connection, source, remotePath, triggers }, { parent: this, dependsOn: [folder] });
            new command.remote.Command(`${name}-sync`, { ...REMOTE_COMMAND_DEFAULTS, connection, create: syncScript, triggers }, { parent: this, dependsOn: [upload] });
        }

        this.contentHash = pulumi.output(contentHash);
        this.fileCount = pulumi.output(fileCount);
        this.registerOutputs({ contentHash: this.contentHash, fileCount: this.fileCount });
    }
}
