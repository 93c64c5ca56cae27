import { readImages } from "../../../config/sections/images";
import { issue, readSection } from "../../helpers/config-reader";

const VALID = { imagePlatformApi: "ghcr.io/visualkit/platform-api:1.4.0", imageVkAgent: "ghcr.io/visualkit/vk-agent:0.9.1", imageJanus: "ghcr.io/visualkit/janus:1.3.2", imageChatwoot: "chatwoot/chatwoot:v4.7.0" };

describe("images section", () => {
    test("valid references normalize, with the declared Postgres and Redis images and no separate WebSocket image", () => {
        const { value, issues } = readSection((r) => readImages(r, "prod"), VALID);
        expect(issues).toEqual([]);
        expect(value).toEqual({
            images: { platformApi: VALID.imagePlatformApi, vkAgent: VALID.imageVkAgent, janus: VALID.imageJanus, chatwoot: VALID.imageChatwoot, postgres: "pgvector/pgvector:0.8.0-pg16", redis: "redis:7.4.2-alpine" },
            registry: undefined,
        });
    });

    test("dev may run a moving tag; a registry login is kept with its secret password", () => {
        const { value, issues } = readSection((r) => readImages(r, "dev"), { ...VALID, imageVkAgent: "ghcr.io/visualkit/vk-agent:main", registryServer: "ghcr.io", registryUsername: "ci", registryPassword: "token" });
        expect(issues).toEqual([]);
        expect(value.images.vkAgent).toBe("ghcr.io/visualkit/vk-agent:main");
        expect({ ...value.registry, password: value.registry?.password?.reveal() }).toEqual({ server: "ghcr.io", username: "ci", password: "token" });
    });

    test.each([
        ["a moving tag in prod", { imageJanus: "ghcr.io/visualkit/janus:latest" }, issue("imageJanus", /is not pinned; prod deploys only a full version tag/, /set visualkit:imageJanus ghcr\.io\/visualkit\/janus:<version>/)],
        ["a reference with a space", { imageChatwoot: "chatwoot chatwoot" }, issue("imageChatwoot", /is not an image reference/, /ghcr\.io\/visualkit\/name:1\.2\.3/)],
        ["a missing required image", { imagePlatformApi: undefined }, issue("imagePlatformApi", /is required/, /set visualkit:imagePlatformApi <value>/)],
        ["a registry without a user", { registryServer: "ghcr.io", registryPassword: "token" }, issue("registryUsername", /is required when visualkit:registryServer is set/, /set visualkit:registryUsername <user>/)],
        ["a registry without a password", { registryServer: "ghcr.io", registryUsername: "ci" }, issue("registryPassword", /is a required secret and is not set/, /set --secret visualkit:registryPassword/)],
    ])("%s is reported with its key and fix", (_, change, expected) => {
        expect(readSection((r) => readImages(r, "prod"), { ...VALID, ...change }).issues).toEqual([expected]);
    });
});
