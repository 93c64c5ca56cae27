import { DEFAULT_CADDY_VERSION, KNOWN_SERVER_TYPES } from "../../catalog/input";
import type { ConfigReader } from "../reader";
import type { CaddyTls } from "../types";

/** Hetzner OS images the bootstrap is written for. */
export const SERVER_IMAGES: readonly string[] = ["debian-12"];

export const HETZNER_LOCATIONS = ["fsn1", "nbg1", "hel1", "ash", "hil", "sin"] as const;

/** The host: Hetzner server and volume, protection, how containers and Caddy run on it. */
export interface ServerSection {
    readonly type?: string;
    readonly location?: string;
    readonly image?: string;
    readonly backups?: boolean;
    readonly rebootstrap?: boolean;
    readonly volumeSizeGb?: number;
    readonly protect?: boolean;
    readonly standbyReplicas?: boolean;
    readonly caddyTls: CaddyTls;
    readonly caddyVersion?: string;
}

export function readServer(r: ConfigReader): ServerSection {
    // Only priced types: the cost in every pull request (render/cost.ts) would otherwise be a silent €0.
    const type = r.checked(
        "serverType",
        r.str("serverType"),
        (v) => (KNOWN_SERVER_TYPES.includes(v) ? undefined : `is not a server type in catalog/prices.json (known: ${KNOWN_SERVER_TYPES.join(", ")}); pick one, or add the type with its monthly price from hetzner.com/cloud to catalog/prices.json`),
        "cx22",
    );
    const location = r.oneOf("serverLocation", HETZNER_LOCATIONS);
    // cloud-init's bootstrap (render/cloud-init.ts) installs Debian 12's packages: any other image breaks it.
    const image = r.checked("serverImage", r.str("serverImage"), (v) => (SERVER_IMAGES.includes(v) ? undefined : `is not an image the bootstrap targets (${SERVER_IMAGES.join(", ")}); cloud-init installs Debian 12 packages`), "debian-12");
    const backups = r.bool("serverBackups");
    const rebootstrap = r.bool("serverRebootstrap");
    const protect = r.bool("protect");
    const standbyReplicas = r.bool("standbyReplicas");
    let volumeSizeGb = r.int("volumeSizeGb");
    if (volumeSizeGb !== undefined && (volumeSizeGb < 10 || volumeSizeGb > 10240)) {
        r.add("volumeSizeGb", `${volumeSizeGb} GB is outside what Hetzner volumes allow (10 to 10240 GB)`, r.setCmd("volumeSizeGb", "10"));
        volumeSizeGb = undefined;
    }
    const caddyTls = r.oneOf<CaddyTls>("caddyTls", ["acme", "internal"]) ?? "acme";
    const caddyVersion = r.checked("caddyVersion", r.str("caddyVersion"), (v) => (/^\d+\.\d+(\.\d+)?$/.test(v) ? undefined : `is not a version such as ${DEFAULT_CADDY_VERSION}`), DEFAULT_CADDY_VERSION);
    return { type, location, image, backups, rebootstrap, volumeSizeGb, protect, standbyReplicas, caddyTls, caddyVersion };
}
