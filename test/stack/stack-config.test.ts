import { mkdtempSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readStackConfig } from "../../stack/stack-config";
import { ROOT } from "../helpers/program";

describe("reading a stack file for the offline render", () => {
    function withStack(body: string) {
        const dir = mkdtempSync(join(tmpdir(), "vk-stack-"));
        copyFileSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
        writeFileSync(join(dir, "Pulumi.test.yaml"), body);
        return readStackConfig(dir, "test");
    }

    test("encrypted values, top-level or nested, become [secret] placeholders marked secret", () => {
        const { config, secretKeys } = withStack(
            [
                "config:",
                "  visualkit:geminiApiKey:",
                "    secure: v1:AAAABBBBCCCC",
                "  visualkit:platformApiSecretEnv:",
                "    DATABASE_URL:",
                "      secure: v1:DDDDEEEE",
                "  visualkit:domain: dev.visualkit.live",
                "",
            ].join("\n"),
        );
        expect(config["visualkit:geminiApiKey"]).toBe("[secret]");
        expect(JSON.parse(config["visualkit:platformApiSecretEnv"])).toEqual({ DATABASE_URL: "[secret]" });
        expect(secretKeys).toEqual(expect.arrayContaining(["visualkit:geminiApiKey", "visualkit:platformApiSecretEnv"]));
        expect(secretKeys).not.toContain("visualkit:domain");
        expect(JSON.stringify(config)).not.toContain("v1:");
    });

    test("missing required secrets and provider tokens are filled with placeholders; optional ones are not", () => {
        const { config, secretKeys } = withStack("config:\n  visualkit:domain: dev.visualkit.live\n");
        expect(config["visualkit:geminiApiKey"]).toBe("[secret]");
        expect(config["hcloud:token"]).toBe("[secret]");
        expect(config["cloudflare:apiToken"]).toBe("[secret]");
        expect(config["visualkit:sshPrivateKey"]).toBeUndefined();
        expect(config["visualkit:registryPassword"]).toBeUndefined();
        expect(secretKeys).toContain("hcloud:token");
    });

    test("a secret that goes with another key is filled only when that key is set", () => {
        const { config } = withStack("config:\n  visualkit:registryServer: ghcr.io\n");
        expect(config["visualkit:registryPassword"]).toBe("[secret]");
    });

    test("lists and maps arrive as JSON, as the CLI passes them", () => {
        const { config } = withStack("config:\n  visualkit:emailMx:\n    - 10 mx.zoho.com\n  visualkit:ports:\n    platformApi: 4001\n");
        expect(JSON.parse(config["visualkit:emailMx"])).toEqual(["10 mx.zoho.com"]);
        expect(JSON.parse(config["visualkit:ports"])).toEqual({ platformApi: 4001 });
    });
});
