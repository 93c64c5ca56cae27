import type { CatalogImages } from "../../catalog/input";
import type { ConfigReader } from "../reader";
import type { SecretString } from "../secret";
import type { Environment } from "../types";
import { checkRegistryHost } from "../checks";
import { isPinned, parseImageRef } from "../validators";

/** The container images (pinned in prod) and the private registry they may come from. */
export interface ImagesSection {
    /** Only the images that are valid references; every other one was reported. */
    readonly images: Partial<CatalogImages>;
    readonly registry?: { readonly server: string; readonly username?: string; readonly password?: SecretString };
}

/** The stack file key (without `visualkit:`) of each image, by catalog image key. */
export const IMAGE_KEYS = { platformApi: "imagePlatformApi", vkAgent: "imageVkAgent", janus: "imageJanus", chatwoot: "imageChatwoot", postgres: "imagePostgres", redis: "imageRedis", websocket: "imageWebsocket" } as const;

export function readImages(r: ConfigReader, environment: Environment | undefined): ImagesSection {
    const images: Partial<Record<keyof typeof IMAGE_KEYS, string>> = {};
    for (const [id, key] of Object.entries(IMAGE_KEYS) as [keyof typeof IMAGE_KEYS, string][]) {
        // Only the WebSocket image may be left empty: platform-api then serves WebSockets itself.
        const v = id === "websocket" ? r.optStr(key) : r.str(key);
        if (v === undefined) continue;
        const ref = parseImageRef(v);
        if (!ref) {
            r.add(key, `"${v}" is not an image reference (registry/name:tag or name@sha256:digest, no spaces, lowercase name)`, r.setCmd(key, "ghcr.io/visualkit/name:1.2.3"));
            continue;
        }
        if (environment === "prod" && !isPinned(ref)) {
            r.add(key, `"${v}" is not pinned; prod deploys only a full version tag (1.2.3, v4.7.0, 0.8.0-pg16) or a digest, never latest, a branch or a floating major/minor tag such as :1 or :7.4-alpine`, r.setCmd(key, `${ref.repository}:<version>`));
        }
        images[id] = v;
    }
    const server = r.checked("registryServer", r.optStr("registryServer"), checkRegistryHost, "ghcr.io");
    const username = r.optStr("registryUsername");
    const password = r.secret("registryPassword", r.requiredNow("registryPassword"));
    if (server && !username) r.add("registryUsername", `is required when visualkit:registryServer is set`, r.setCmd("registryUsername", "<user>"));
    return { images, registry: server ? { server, username, password } : undefined };
}
