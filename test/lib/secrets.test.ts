import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { SecretString } from "../../config/secret";
import { toPulumiSecret, toPulumiSecrets } from "../../lib/secrets";
import { ROOT, runComponents } from "../helpers/program";

class Thing extends pulumi.CustomResource {
    constructor(name: string, props: pulumi.Inputs) {
        super("test:index:Thing", name, props);
    }
}

test("a config secret reaches a resource as a Pulumi secret: redacted in what is recorded, the value intact", async () => {
    const env = toPulumiSecrets({ API_KEY: new SecretString("key-1"), DB_URL: new SecretString("postgres://u:p@db/x") });
    const run = await runComponents(async () => {
        new Thing("t", { plain: "p", password: toPulumiSecret(new SecretString("hunter2")), apiKey: env.API_KEY, dbUrl: env.DB_URL });
        return {};
    });
    const thing = run.resources.find((r) => r.name === "t")!;
    expect([...thing.secretInputs].sort()).toEqual(["apiKey", "dbUrl", "password"]);
    expect(thing.inputs).toMatchObject({ plain: "p", password: "[secret]", apiKey: "[secret]", dbUrl: "[secret]" });
    expect(thing.rawInputs).toMatchObject({ password: "hunter2", apiKey: "key-1", dbUrl: "postgres://u:p@db/x" });
});

/** Every program source file (the tests and config/, which owns SecretString and validates its values, aside). */
function programSources(dir = ROOT): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const path = join(dir, e.name);
        if (e.isDirectory()) return e.name.startsWith(".") || ["node_modules", "test", "config", "rendered"].includes(e.name) ? [] : programSources(path);
        return /\.(ts|js)$/.test(e.name) ? [relative(ROOT, path)] : [];
    });
}

test("no component, library or script reveals a config secret itself: lib/secrets.ts is the one boundary", () => {
    const sources = programSources();
    expect(sources).toEqual(expect.arrayContaining(["index.ts", "components/backups.ts", "lib/ssh.ts", "lib/secrets.ts"]));
    const revealing = sources.filter((f) => /\.reveal\s*\(/.test(readFileSync(join(ROOT, f), "utf8")));
    expect(revealing).toEqual(["lib/secrets.ts"]);
});
