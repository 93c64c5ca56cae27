import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { runWithMocks } from "../mocks/runtime";

/**
 * The SDK floor for `npm run bench`: registers exactly the resources of rendered/prod/resources.json (same types,
 * names and inputs) under the same mocks, with none of the program around them — no config, catalog, renderers,
 * TypeScript or files. What the render costs above this is the program's own overhead.
 */
type Entry = { type: string; name: string; inputs: Record<string, unknown> };

const ROOT = join(__dirname, "..");
const entries = JSON.parse(readFileSync(join(ROOT, "rendered", "prod", "resources.json"), "utf8")) as Entry[];

function resourceClass(type: string): new (name: string, args: unknown) => pulumi.Resource {
    const [pkg, module, cls] = type.split(":");
    const sdk = require(`@pulumi/${pkg === "pulumi" ? cls : pkg}`);
    if (pkg === "pulumi") return sdk.Provider;
    const mod = module.split("/")[0];
    return mod === "index" ? sdk[cls] : sdk[mod][cls];
}

void runWithMocks({
    project: "visualkit",
    stack: "prod",
    config: {},
    secretKeys: [],
    program: async () => {
        for (const e of entries) {
            if (e.type.startsWith("visualkit:")) new pulumi.ComponentResource(e.type, e.name);
            else new (resourceClass(e.type))(e.name, e.inputs);
        }
        return {};
    },
});
