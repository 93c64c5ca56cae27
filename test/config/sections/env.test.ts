import { readEnv } from "../../../config/sections/env";
import { issue, readSection } from "../../helpers/config-reader";

const VALID = { geminiApiKey: "AIza-key", platformApiEnv: { NODE_ENV: "production", WORKERS: "2", DEBUG: "false" }, vkAgentEnv: { LOG_LEVEL: "debug" }, platformApiSecretEnv: { DATABASE_URL: "postgres://x" } };

describe("env section", () => {
    test("plain values become strings; secret values and the Gemini key stay secrets", () => {
        const { value, issues } = readSection(readEnv, VALID);
        expect(issues).toEqual([]);
        expect(value.env).toEqual({ platformApi: { NODE_ENV: "production", WORKERS: "2", DEBUG: "false" }, vkAgent: { LOG_LEVEL: "debug" } });
        expect(JSON.stringify(value.secretEnv)).toBe('{"platformApi":{"DATABASE_URL":"[secret]"}}');
        expect(value.secretEnv.platformApi.DATABASE_URL.reveal()).toBe("postgres://x");
        expect(value.geminiApiKey?.reveal()).toBe("AIza-key");
    });

    test.each([
        ["a name starting with a digit", { platformApiEnv: { "1X": "a" } }, issue("platformApiEnv.1X", /is not a valid environment variable name/, /rename it in Pulumi\.prod\.yaml/)],
        ["a nested value", { vkAgentEnv: { OPTS: { a: 1 } } }, issue("vkAgentEnv.OPTS", /is a map, not text/, /quote it in Pulumi\.prod\.yaml: OPTS: "<value>"/)],
        ["a variable the program derives", { vkAgentEnv: { VK_AGENT_RTP_PORT: "5005" } }, issue("vkAgentEnv.VK_AGENT_RTP_PORT", /is set by the program/, /remove it from visualkit:vkAgentEnv/)],
        ["vk-agent's Janus token secret", { vkAgentEnv: { VK_AGENT_JANUS_TOKEN_SECRET: "mine" } }, issue("vkAgentEnv.VK_AGENT_JANUS_TOKEN_SECRET", /is set by the program/, /remove it from visualkit:vkAgentEnv/)],
        ["platform-api's Janus token secret", { platformApiSecretEnv: { JANUS_TOKEN_SECRET: "mine" } }, issue("platformApiSecretEnv.JANUS_TOKEN_SECRET", /is set by the program \(Janus/, /remove it from visualkit:platformApiSecretEnv/)],
        ["a Janus plugin admin key", { platformApiEnv: { JANUS_VIDEOROOM_ADMIN_KEY: "k" } }, issue("platformApiEnv.JANUS_VIDEOROOM_ADMIN_KEY", /is set by the program/, /remove it from visualkit:platformApiEnv/)],
        ["the TURN secret (platform-api mints TURN credentials with the generated one)", { platformApiSecretEnv: { TURN_SECRET: "k" } }, issue("platformApiSecretEnv.TURN_SECRET", /is set by the program/, /remove it from visualkit:platformApiSecretEnv/)],
        ["Janus's internal URL", { platformApiEnv: { JANUS_API_URL: "http://x" } }, issue("platformApiEnv.JANUS_API_URL", /is set by the program/, /remove it from visualkit:platformApiEnv/)],
        ["a variable both plain and secret", { platformApiEnv: { DATABASE_URL: "x" } }, issue("platformApiSecretEnv.DATABASE_URL", /is also set in visualkit:platformApiEnv/, /remove visualkit:platformApiEnv\.DATABASE_URL/)],
        ["no Gemini key", { geminiApiKey: undefined }, issue("geminiApiKey", /is a required secret and is not set/, /set --secret visualkit:geminiApiKey <value> -s prod/)],
    ])("%s is reported with its key and fix", (_, change, expected) => {
        expect(readSection(readEnv, { ...VALID, ...change }).issues).toEqual([expected]);
    });
});
