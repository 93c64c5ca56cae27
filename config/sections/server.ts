import { KNOWN_SERVER_TYPES } from "../../render/cost";
import type { ConfigReader } from "../reader";
import type { CaddyTls } from "../types";

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
    const image = r.str("serverImage");
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
    const caddyVersion = r.checked("caddyVersion", r.str("caddyVersion"), (v) => (/^\d+\.\d+(\.\d+)?$/.test(v) ? undefined : "is not a version such as 2.6.2"), "2.6.2");
    return { type, location, image, backups, rebootstrap, volumeSizeGb, protect, standbyReplicas, caddyTls, caddyVersion };
}
