import type { CatalogInput, EmailInput } from "../catalog/input";
import type { ConfigIssue } from "./issues";
import type { RawConfig } from "./raw";
import { ConfigReader } from "./reader";
import { readBackups } from "./sections/backups";
import { readChatwoot } from "./sections/chatwoot";
import { readEmail } from "./sections/email";
import { readEnv } from "./sections/env";
import { readImages } from "./sections/images";
import { readJanus } from "./sections/janus";
import { readLocal } from "./sections/local";
import { readMonitoring } from "./sections/monitoring";
import { readNames } from "./sections/names";
import { readPages } from "./sections/pages";
import { checkPlaceholders } from "./sections/placeholders";
import { checkProviders } from "./sections/providers";
import { readRouting } from "./sections/routing";
import { readServer } from "./sections/server";
import { readHosts } from "./sections/hosts";
import { readSsh } from "./sections/ssh";
import { checkStackFile } from "./sections/stack-file";
import { readTakeover } from "./sections/takeover";
import type { PlatformConfig } from "./types";

export type { FolderFacts, LocalFacts, RawConfig } from "./raw";

export interface NormalizedConfig {
    /** The typed config; only when no section found a problem. */
    readonly config?: PlatformConfig;
    /**
     * What the catalog is built from, even beside problems elsewhere, so the catalog's own conflicts are listed in
     * the same run (stack/index.ts). Absent when the Janus RTP range is unusable: the catalog's firewall needs it.
     */
    readonly catalogInput?: CatalogInput;
    /** The e-mail records as read, even beside problems elsewhere: their DNS names are checked with the catalog's. */
    readonly email?: EmailInput;
    readonly issues: ConfigIssue[];
}

/**
 * Normalize → validate, one section of the stack file at a time (config/sections/). Every section reads its keys and
 * reports every problem; the config is assembled only when there are none. Pure: local facts come in `raw.local`.
 */
export function normalizeConfig(raw: RawConfig): NormalizedConfig {
    const r = new ConfigReader(raw);
    checkStackFile(r);
    const names = readNames(r);
    const server = readServer(r);
    const placement = readHosts(r, { type: server.type, location: server.location, volumeSizeGb: server.volumeSizeGb });
    const ssh = readSsh(r, names.environment);
    const { images, registry } = readImages(r, names.environment);
    const { ports, hostnames } = readRouting(r);
    const env = readEnv(r);
    const janus = readJanus(r);
    const chatwoot = readChatwoot(r);
    const pages = readPages(r);
    const { email } = readEmail(r);
    const takeover = readTakeover(r);
    checkProviders(r);
    const backups = readBackups(r, names.environment);
    const monitoring = readMonitoring(r);
    const local = readLocal(r, ssh.privateKey);
    checkPlaceholders(r);

    const { domain, zone } = names;
    const allImages = images as CatalogInput["images"];
    const catalogInput: CatalogInput | undefined = janus.rtpPorts && {
        domain: domain ?? "invalid.example",
        zone: zone ?? domain ?? "invalid.example",
        ports,
        hostnames,
        janus: { rtpPorts: janus.rtpPorts, stun: janus.stun },
        images: allImages,
        pages,
        standbyReplicas: server.standbyReplicas ?? true,
        ...(placement.hosts ? { hosts: placement.hosts } : {}),
        ...(placement.mediaCells ? { mediaCells: placement.mediaCells } : {}),
    };
    if (r.issues.length > 0 || !catalogInput || !backups.valid) return { catalogInput, email, issues: r.issues };

    // Every value a section leaves undefined came with a problem, so none is undefined here.
    const config: PlatformConfig = {
        project: raw.project,
        stack: raw.stack,
        environment: names.environment!,
        domain: domain!,
        cloudflare: { zone: zone!, zoneId: names.zoneId, accountId: names.accountId! },
        acmeEmail: names.acmeEmail!,
        logLevel: names.logLevel!,
        server: { type: server.type!, location: server.location!, image: server.image!, backups: server.backups!, rebootstrap: server.rebootstrap!, volumeSizeGb: server.volumeSizeGb! },
        protect: server.protect!,
        ssh: { publicKeys: ssh.publicKeys!, allowedCidrs: ssh.allowedCidrs!, privateKey: ssh.privateKey },
        caddyVersion: server.caddyVersion!,
        standbyReplicas: server.standbyReplicas!,
        janusForceRestart: janus.forceRestart!,
        caddyTls: server.caddyTls,
        images: allImages,
        registry: registry && { server: registry.server, username: registry.username!, password: registry.password! },
        ports,
        hostnames,
        env: env.env,
        secretEnv: env.secretEnv,
        geminiApiKey: env.geminiApiKey!,
        janus: catalogInput.janus,
        chatwoot,
        widgetCdnSourceDir: local.widgetCdnSourceDir,
        backups: backups.config,
        monitoring,
        pages,
        ...takeover,
        email,
    };
    return { config, catalogInput, email, issues: r.issues };
}
