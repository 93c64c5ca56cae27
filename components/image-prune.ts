import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { publishFile } from "../lib/artifacts";
import type { HostHandle } from "../lib/host";
import { REMOTE_COMMAND_DEFAULTS } from "../lib/ssh";
import { IMAGE_PRUNE_DEFAULTS, renderImagePruneInstall, renderImagePruneUnits, type ImagePruneSettings } from "../render/image-prune";

export interface ImagePruneArgs {
    /** The host whose Docker engine is pruned (SSH connection, readiness). */
    host: HostHandle;
    /**
     * Age and schedule. A longer age keeps more old releases on the disk (a revert to them needs no pull); a shorter
     * one frees the disk sooner.
     * @default IMAGE_PRUNE_DEFAULTS (14 days, daily at 04:30 UTC)
     */
    settings?: ImagePruneSettings;
    /**
     * Publish the units under this folder of rendered/<stack>/ (one host: `image-prune`).
     * @default "image-prune"
     */
    publishAs?: string;
}

/**
 * A systemd timer on the host that removes Docker images no container uses (`docker image prune --all --filter
 * until=…`), installed over SSH like the backup timers (a day-2 step: existing servers get it on the next `up`, no
 * rebuild). The images are pulled with `keepLocally`, so the provider never removes them itself (see
 * render/image-prune.ts for why).
 */
export class ImagePrune extends pulumi.ComponentResource {
    constructor(name: string, args: ImagePruneArgs, opts?: pulumi.ComponentResourceOptions) {
        super("visualkit:docker:ImagePrune", name, {}, opts);
        const settings = args.settings ?? IMAGE_PRUNE_DEFAULTS;
        const install = renderImagePruneInstall(settings);
        const folder = args.publishAs ?? "image-prune";
        for (const [unit, text] of Object.entries(renderImagePruneUnits(settings))) publishFile(`${folder}/${unit}`, text);
        new command.remote.Command(
            `${name}-install`,
            { ...REMOTE_COMMAND_DEFAULTS, connection: args.host.connection, create: install, triggers: [install, args.host.instance] },
            { parent: this, dependsOn: [args.host.ready] },
        );
        this.registerOutputs({});
    }
}
