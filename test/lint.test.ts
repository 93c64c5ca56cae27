import { ESLint } from "eslint";
import { ROOT } from "./helpers/program";

/**
 * The layers (eslint.config.js) as the linter applies them: an import against a layer is reported with the rule's
 * message, and the imports the layers allow are not. `npm test` runs `eslint .` on the whole tree; this shows that
 * each rule would catch a breach, so a rule that no longer matches anything fails here.
 */
// The config is handed over as data: ESLint loads a config file with a dynamic import, which jest's VM does not offer.
const eslint = new ESLint({ cwd: ROOT, overrideConfigFile: true, overrideConfig: require("../eslint.config.js") });

async function problems(file: string, code: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath: `${ROOT}/${file}` });
    return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

test.each([
    ["config/sections/server.ts", 'import { PRICES } from "../../render/cost";', /config\/ must not import from render/],
    ["config/local.ts", 'import { shippedFile } from "../lib/shipped";', /config\/ must not import from .*lib/],
    ["lib/containers.ts", 'import { renderJanusMain } from "../render/janus";', /lib\/ must not import from render/],
    ["render/janus.ts", 'import type { LogLevel } from "../config/types";', /a renderer must not import from config/],
    ["render/caddyfile.ts", 'import { CaddyConfig } from "../components/caddy-config";', /a renderer must not import from .*components/],
    ["render/cost.ts", 'import * as pulumi from "@pulumi/pulumi";', /a renderer is pure: no Pulumi SDK import/],
    ["catalog/index.ts", 'import { loadConfig } from "../config";', /catalog\/ must not import from config/],
    ["policy/index.ts", 'import { renderCaddyfile } from "../scripts/render";', /policy\/ must not import from scripts/],
    ["scripts/adopt/run.ts", 'import { HetznerHost } from "../../components/hetzner-host";', /scripts\/ must not import from components/],
    ["components/caddy-config.ts", 'import { runWithMocks } from "../mocks/runtime";', /components\/ must not import from scripts\/, mocks/],
])("%s: %s is reported", async (file, code, message) => {
    expect(await problems(file, code)).toEqual([expect.stringMatching(message)]);
});

test.each([
    ["config/sections/server.ts", 'import { KNOWN_SERVER_TYPES } from "../../catalog/input";'],
    ["render/cost.ts", 'import { KNOWN_SERVER_TYPES } from "../catalog/input";'],
    ["lib/containers.ts", 'import { healthcheckTest } from "./healthcheck";'],
    ["components/hetzner-host.ts", 'import { renderCloudInit } from "../render/cloud-init";'],
    ["policy/index.ts", 'import { readStackConfig } from "../stack/stack-config";'],
])("%s: %s is allowed", async (file, code) => {
    expect(await problems(file, code)).toEqual([]);
});
