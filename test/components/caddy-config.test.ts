import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { Catalog } from "../../catalog/types";
import { renderCaddyfile } from "../../caddy/render";
import { CaddyConfig, shellQuote } from "../../components/caddy-config";
import { sha256 } from "../../lib/artifacts";
import type { HostHandle } from "../../lib/host";
import { runWithMocks, type MockRunResult } from "../../scripts/mock-runtime";
import { stackCatalog, stackOptions } from "../helpers/caddy";
import { ROOT } from "../helpers/program";

const INSTALL = "command:remote:Command";
const prod = stackCatalog("prod");

/** One CaddyConfig under the mocks, on a fake host whose readiness is a stand-in resource. */
function runCaddy(catalog: Catalog = prod.catalog, caddyVersion?: string): Promise<MockRunResult> {
    return runWithMocks({
        project: "visualkit",
        stack: "prod",
        config: {},
        secretKeys: [],
        program: async () => {
            const ready = new random.RandomId("main-ready", { byteLength: 4 });
            const host: HostHandle = {
                name: "main",
                ipv4: pulumi.output("203.0.113.10"),
                ipv6: pulumi.output("2001:db8::1"),
                connection: pulumi.output({ host: "203.0.113.10", user: "root" }),
                ready,
            };
            const caddy = new CaddyConfig("caddy-main", { host, catalog, acmeEmail: prod.config.acmeEmail, caddyVersion, logLevel: "info" });
            return { sha256: caddy.sha256, caddyfile: caddy.caddyfile };
        },
    });
}

const installOf = (run: MockRunResult) => {
    const found = run.resources.filter((r) => r.type === INSTALL);
    expect(found.map((r) => r.name)).toEqual(["caddy-main-install"]);
    return found[0];
};

describe("CaddyConfig (fake host under mocks)", () => {
    test("publishes the rendered Caddyfile as rendered/<stack>/Caddyfile, the same text the renderer gives", async () => {
        const run = await runCaddy();
        expect([...run.files.keys()]).toEqual(["Caddyfile"]);
        expect(run.files.get("Caddyfile")).toBe(renderCaddyfile(prod.catalog, stackOptions(prod.config)));
        expect(run.outputs.caddyfile).toBe(run.files.get("Caddyfile"));
    });

    test("the install waits for the host to be ready, connects to it, and sends exactly the published text", async () => {
        const run = await runCaddy();
        const install = installOf(run);
        expect(install.parent).toBe("caddy-main");
        expect(install.options.dependsOn).toEqual(["main-ready"]);
        expect(install.inputs.connection).toMatchObject({ host: "203.0.113.10", user: "root" });
        expect(install.inputs.stdin).toBe(run.files.get("Caddyfile"));
    });

    test("the install is triggered by the hash of the text", async () => {
        const run = await runCaddy();
        const text = run.files.get("Caddyfile")!;
        expect(installOf(run).inputs.triggers).toEqual([sha256(text)]);
        expect(run.outputs.sha256).toBe(sha256(text));
    });

    test("the command runs the repository's install script, reading the Caddyfile from stdin", async () => {
        const create = String(installOf(await runCaddy()).inputs.create);
        const script = readFileSync(join(ROOT, "caddy", "install-caddyfile.sh"), "utf8");
        expect(create).toBe(`bash -c ${shellQuote(script)} install-caddyfile`);
        // What the remote shell hands bash is the script byte for byte (quotes in it included).
        const words = spawnSync("sh", ["-c", create.replace(/^bash -c /, "printf '%s\\0' ")], { encoding: "utf8" }).stdout.split("\0");
        expect(words.slice(0, 2)).toEqual([script, "install-caddyfile"]);
    });

    test("changing a route changes only the install's text and hash; the host is untouched", async () => {
        const before = await runCaddy();
        const moved: Catalog = {
            ...prod.catalog,
            services: prod.catalog.services.map((s) =>
                s.id === "chatwoot" ? { ...s, routes: s.routes.map((r) => ({ ...r, label: "help", hostname: "help.visualkit.live" })) } : s,
            ),
        };
        const after = await runCaddy(moved);
        const changed = after.resources.filter((r) => JSON.stringify(r.inputs) !== JSON.stringify(before.resources.find((b) => b.name === r.name)?.inputs));
        expect(changed.map((r) => r.name)).toEqual(["caddy-main-install"]);
        const diff = Object.keys(changed[0].inputs).filter((k) => JSON.stringify(changed[0].inputs[k]) !== JSON.stringify(installOf(before).inputs[k]));
        expect(diff.sort()).toEqual(["stdin", "triggers"]);
        expect(String(changed[0].inputs.stdin)).toContain("help.visualkit.live {");
    });

    test("the configured Caddy version reaches the renderer", async () => {
        expect(String(installOf(await runCaddy(prod.catalog, "2.6.2")).inputs.stdin)).not.toContain("stream_close_delay");
        expect(String(installOf(await runCaddy(prod.catalog, "2.8.4")).inputs.stdin)).toContain("stream_close_delay");
    });
});
