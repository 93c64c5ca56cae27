import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { KEYS } from "../../config/keys";
import { configTable } from "../../scripts/config-table";
import { ROOT } from "../helpers/program";

describe("one list of config keys", () => {
    const project = parse(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as { name: string; config: Record<string, Record<string, unknown>> };

    test("Pulumi.yaml declares exactly the scalar and list keys of config/keys.ts, with the same types, descriptions and defaults", () => {
        const expected = Object.fromEntries(
            KEYS.filter((k) => !k.secret && k.type !== "object").map((k) => [
                k.key,
                { type: k.type, description: k.description, ...(k.type === "array" ? { items: { type: "string" } } : {}), ...(k.default !== undefined ? { default: k.default } : {}) },
            ]),
        );
        expect(project.config).toEqual(expected);
    });

    test("no secret is declared in Pulumi.yaml or given a plain value in a stack file", () => {
        for (const stack of ["dev", "prod"]) {
            const doc = parse(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
            for (const k of KEYS.filter((x) => x.secret)) {
                const v = doc.config[`visualkit:${k.key}`];
                if (v !== undefined) expect(v).toHaveProperty("secure");
            }
            for (const p of ["hcloud:token", "cloudflare:apiToken"]) {
                if (doc.config[p] !== undefined) expect(doc.config[p]).toHaveProperty("secure");
            }
        }
    });

    test("docs/configuration.md's config table is the generated one (regenerate: node scripts/run-ts.js scripts/config-table.ts)", () => {
        const doc = readFileSync(join(ROOT, "docs/configuration.md"), "utf8");
        const block = doc.match(/<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/);
        expect(block?.[1]).toBe(configTable());
    });
});
