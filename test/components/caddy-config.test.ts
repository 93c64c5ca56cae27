import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as random from "@pulumi/random";
import type { Catalog } from "../../catalog/types";
import { renderCaddyfile } from "../../render/caddyfile";
import { CaddyConfig } from "../../components/caddy-config";
import { sha256 } from "../../lib/artifacts";
import { shellQuote } from "../../lib/shipped";
import type { MockRunResult } from "../../mocks/runtime";
import { stackOptions } from "../helpers/caddy";
import { fakeHost, parsedStack, ROOT, runComponents, runProgram, type ProgramRun } from "../helpers/program";

const INSTALL = "command:remote:Command";
const prod = parsedStack("prod");

/** One CaddyConfig under the mocks, on a fake host whose readiness is a stand-in resource. */
function runCaddy(catalog: Catalog = prod.catalog, caddyVersion?: string, serverId = "1001"): Promise<MockRunResult> {
    return runComponents(async () => {
        const ready = new random.RandomId("main-ready", { byteLength: 4 });
        const caddy = new CaddyConfig("caddy-main", { host: fakeHost(ready, "main", serverId), catalog, acmeEmail: prod.config.acmeEmail, caddyVersion, logLevel: "info" });
        return { sha256: caddy.sha256, caddyfile: caddy.caddyfile };
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
        expect(install.rawInputs.connection).toMatchObject({ host: "203.0.113.10", user: "root" });
        expect(install.inputs.stdin).toBe(run.files.get("Caddyfile"));
    });

    test("the install is triggered by the hash of the text and the host's instance (its server id)", async () => {
        const run = await runCaddy();
        const text = run.files.get("Caddyfile")!;
        expect(installOf(run).inputs.triggers).toEqual([sha256(text), "1001"]);
        expect(run.outputs.sha256).toBe(sha256(text));
    });

    test("a replaced server (new server id behind the same IPs) re-triggers the install with the same text", async () => {
        const [before, after] = [await runCaddy(), await runCaddy(prod.catalog, undefined, "1002")];
        const [a, b] = [installOf(before).inputs.triggers as string[], installOf(after).inputs.triggers as string[]];
        expect(b[0]).toBe(a[0]);
        expect(b[1]).not.toBe(a[1]);
    });

    test("the command runs the repository's install script, reading the Caddyfile from stdin", async () => {
        const create = String(installOf(await runCaddy()).inputs.create);
        const script = readFileSync(join(ROOT, "scripts", "host", "install-caddyfile.sh"), "utf8");
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

describe("CaddyConfig in the program", () => {
    test("one per host that serves routes, installing after that host's readiness step; the file is rendered/<stack>/Caddyfile", async () => {
        const run = await runProgram("prod");
        expect(run.ofType("visualkit:caddy:CaddyConfig").map((r) => r.name)).toEqual(["visualkit-prod-main-caddy"]);
        const install = run.named("visualkit-prod-main-caddy-install");
        expect(install.options.dependsOn).toContain("visualkit-prod-main-ready");
        expect(install.rawInputs.stdin).toBe(run.files.get("Caddyfile"));
        expect(run.files.get("Caddyfile")).toBe(renderCaddyfile(prod.catalog, stackOptions(prod.config)));
    });

    test("changing a route reinstalls the Caddyfile and never touches the server or the host's own steps", async () => {
        const before = await runProgram("prod");
        const after = await runProgram("prod", { set: { hostnames: { support: "help" } } });
        const inputs = (run: ProgramRun, name: string) => JSON.stringify(run.named(name).inputs);
        const changed = after.resources.filter((r) => before.resources.some((b) => b.name === r.name) && inputs(after, r.name) !== inputs(before, r.name)).map((r) => r.name);
        expect(changed).toContain("visualkit-prod-main-caddy-install");
        const hostSide = after.resources.filter((r) => r.type.startsWith("hcloud:") || r.parent === "visualkit-prod-main").map((r) => r.name);
        expect(hostSide.length).toBeGreaterThan(0);
        expect(changed.filter((n) => hostSide.includes(n))).toEqual([]);
        expect(String(after.named("visualkit-prod-main-caddy-install").rawInputs.stdin)).toContain("help.visualkit.live {");
    });
});

describe.each(["dev", "prod"])("the %s Caddyfile is installed only once its names point at the host", (stack) => {
    let run: ProgramRun;
    beforeAll(async () => {
        run = await runProgram(stack);
    });

    test("the install waits for exactly the A/AAAA records of the sites in the Caddyfile, pointing at its host", () => {
        const install = run.named(`visualkit-${stack}-main-caddy-install`);
        // What Caddy requests certificates for: every site address of the installed file.
        const sites = [...String(install.rawInputs.stdin).matchAll(/^([a-z0-9.-]+\.[a-z]+) \{$/gm)].map((m) => m[1]);
        expect(sites.length).toBeGreaterThanOrEqual(7);
        const host = (run.outputs.hosts as Record<string, { ipv4: string; ipv6: string }>).main;
        // The TURN name's certificate-only site: one A record, at the TURN address (docs/turn.md).
        const turn = (run.outputs as { turn: { hostname: string; address: string } }).turn;
        expect(sites).toContain(turn.hostname);
        const records = run.ofType("cloudflare:index/dnsRecord:DnsRecord");
        const expected = records
            .filter(
                (r) =>
                    sites.includes(String(r.rawInputs.name)) &&
                    ((r.rawInputs.type === "A" && r.rawInputs.content === host.ipv4) ||
                        (r.rawInputs.type === "AAAA" && r.rawInputs.content === host.ipv6) ||
                        (r.rawInputs.type === "A" && r.rawInputs.name === turn.hostname && r.rawInputs.content === turn.address)),
            )
            .map((r) => r.name);
        // Both families for every route site, or a certificate request could race the missing one; the TURN name has
        // IPv4 only.
        expect(expected).toHaveLength(2 * (sites.length - 1) + 1);
        const dnsDeps = install.options.dependsOn.filter((d) => records.some((r) => r.name === d));
        expect(dnsDeps.sort()).toEqual(expected.sort());
        // Nothing else of the zone: Pages CNAMEs, e-mail records, the www redirect's placeholder.
        for (const d of dnsDeps) expect(["A", "AAAA"]).toContain(records.find((r) => r.name === d)!.rawInputs.type);
        expect(install.options.dependsOn.filter((d) => !dnsDeps.includes(d))).toEqual([`visualkit-${stack}-main-ready`]);
    });
});

