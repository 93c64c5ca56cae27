import { PLATFORM_API_DERIVED_ENV } from "../../catalog/input";
import { JANUS_PLUGINS, janusAdminKeyEnv } from "../../catalog/janus-plugins";
import { janusApiUrl, janusSettings } from "../../render/janus";
import { parsedStack, runProgram, type ProgramRun } from "../helpers/program";

/**
 * The generated Janus API secrets under the mock runtime: each is a RandomPassword, the rendered configs hold exactly
 * those values, and platform-api and vk-agent get the same values as secret environment variables (what they need to
 * mint tokens and create rooms), nothing more.
 */

const PASSWORD = "random:index/randomPassword:RandomPassword";
let run: ProgramRun;
const generated = (suffix: string) => `generated-visualkit-prod-janus-secrets-${suffix}`;

beforeAll(async () => {
    run = await runProgram("prod", { state: (type, name) => (type === PASSWORD ? { result: `generated-${name}` } : undefined) });
});

const envsOf = (name: string): string[] => {
    const c = run.ofType("docker:index/container:Container").find((r) => r.rawInputs.name === name)!;
    return c.rawInputs.envs as string[];
};
const value = (envs: string[], key: string) => envs.find((e) => e.startsWith(`${key}=`))?.slice(key.length + 1);

test("one token secret and one admin key per allowed plugin, generated", () => {
    const names = run.ofType(PASSWORD).map((r) => r.name).filter((n) => n.includes("janus-secrets"));
    expect(names.sort()).toEqual(["visualkit-prod-janus-secrets-token-secret", ...JANUS_PLUGINS.map((p) => `visualkit-prod-janus-secrets-${p.id}-admin-key`)].sort());
    for (const r of run.ofType(PASSWORD).filter((x) => x.name.includes("janus-secrets"))) expect(r.rawInputs.special).toBe(false);
});

test("janus.jcfg signs tokens with the generated secret; each plugin file carries its own generated admin key", () => {
    expect(run.files.get("janus/janus.jcfg")).toContain(`token_auth_secret = "${generated("token-secret")}"`);
    for (const p of JANUS_PLUGINS) expect(run.files.get(`janus/${p.package}.jcfg`)).toContain(`admin_key = "${generated(`${p.id}-admin-key`)}"`);
});

test("platform-api gets Janus's internal URL, the token secret and every admin key; vk-agent only the token secret", () => {
    const { config, catalog } = parsedStack("prod");
    const api = envsOf("platform-api");
    expect(value(api, "JANUS_API_URL")).toBe(janusApiUrl(janusSettings(catalog, config)));
    expect(value(api, "JANUS_TOKEN_SECRET")).toBe(generated("token-secret"));
    for (const p of JANUS_PLUGINS) expect(value(api, janusAdminKeyEnv(p))).toBe(generated(`${p.id}-admin-key`));
    // The names the stack file may not set are exactly the Janus and TURN ones the program sets.
    // MEDIA_CELLS only with media cells (test/components/multihost.test.ts).
    expect(api.map((e) => e.split("=")[0]).filter((n) => /^(JANUS|TURN|MEDIA)_/.test(n)).sort()).toEqual([...PLATFORM_API_DERIVED_ENV].filter((n) => n !== "MEDIA_CELLS").sort());
    const agent = envsOf("vk-agent");
    expect(value(agent, "VK_AGENT_JANUS_TOKEN_SECRET")).toBe(generated("token-secret"));
    expect(agent.filter((e) => /ADMIN_KEY|ADMIN_SECRET/.test(e))).toEqual([]);
    // The standby copies get the same.
    expect(value(envsOf("vk-agent-standby"), "VK_AGENT_JANUS_TOKEN_SECRET")).toBe(generated("token-secret"));
    expect(value(envsOf("platform-api-standby"), "JANUS_TOKEN_SECRET")).toBe(generated("token-secret"));
});

test("the environment holding them is a Pulumi secret", () => {
    for (const name of ["platform-api", "vk-agent"]) {
        const c = run.ofType("docker:index/container:Container").find((r) => r.rawInputs.name === name)!;
        expect(c.secretInputs).toContain("envs");
    }
});
