import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { packFolder } from "../lib/tar";
import type { HostHandle } from "../lib/host";
import { renderWidgetFolderScript, renderWidgetSyncScript } from "../render/widget-cdn";

export interface WidgetCdnArgs {
    /** The host Caddy serves the CDN from (SSH connection, readiness). */
    host: HostHandle;
    /** Identity of the machine (Hetzner server id): a new server gets the folder and the files again. */
    instance: pulumi.Input<string>;
    /** Folder on the data volume that holds the files, e.g. /mnt/data/widget-cdn. */
    folder: string;
    /** The static root of the catalog's `cdn` route (/opt/widget-cdn), linked to `folder`. */
    root: string;
    /**
     * Local folder whose content replaces the CDN's on `pulumi up` when it changed (deleted files disappear too).
     * @default undefined (files on the server are left alone; deploy them another way)
     */
    sourceDir?: string;
}

/**
 * The widget SDK's static files: the folder on the persistent volume and the link Caddy serves, and, when a local
 * folder is configured, its content synced as one archive triggered on the content hash (unchanged files upload
 * nothing; the archive is stored outside the stack state).
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
            { connection, create: folderScript, triggers: [folderScript, args.instance] },
            { parent: this, dependsOn: [args.host.ready] },
        );

        let contentHash = "";
        let fileCount = 0;
        if (args.sourceDir !== undefined) {
            const source = resolve(args.sourceDir);
            if (!existsSync(source) || !statSync(source).isDirectory()) {
                throw new Error(`visualkit:widgetCdnSourceDir: ${source} is not a folder; set it to the built widget files or to "" to leave the CDN alone`);
            }
            const packed = packFolder(source);
            if (packed.files.length === 0) throw new Error(`visualkit:widgetCdnSourceDir: ${source} is empty; a sync would empty the CDN`);
            contentHash = packed.sha256;
            fileCount = packed.files.length;
            const short = packed.sha256.slice(0, 16);
            // CopyFile uploads a local file; named by the hash, the archive is written once per content.
            const localDir = join(tmpdir(), "visualkit-widget-cdn");
            const localPath = join(localDir, `${short}.tar.gz`);
            if (!existsSync(localPath)) {
                mkdirSync(localDir, { recursive: true });
                writeFileSync(localPath, packed.archive);
            }
            const remotePath = `/var/tmp/visualkit-widget-cdn-${short}.tar.gz`;
            const upload = new command.remote.CopyFile(
                `${name}-upload`,
                { connection, localPath, remotePath, triggers: [packed.sha256, args.instance] },
                // The temp folder differs between machines (laptop, CI); only the content decides a new upload.
                { parent: this, dependsOn: [folder], ignoreChanges: ["localPath"] },
            );
            new command.remote.Command(
                `${name}-sync`,
                { connection, create: renderWidgetSyncScript(remotePath, args.folder), triggers: [packed.sha256, args.instance] },
                { parent: this, dependsOn: [upload] },
            );
        }

        this.contentHash = pulumi.output(contentHash);
        this.fileCount = pulumi.output(fileCount);
        this.registerOutputs({ contentHash: this.contentHash, fileCount: this.fileCount });
    }
}
