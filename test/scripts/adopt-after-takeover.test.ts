import { mkdtempSync, readFileSync, rmSync, copyFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { matchAccount, TYPES, type AccountSnapshot, type RenderedResource } from "../../scripts/adopt/match";
import { resourceNamesInState, runAdopt } from "../../scripts/adopt/run";
import { OLD_IP, startStandin, TOKEN, zoneInvokes, type Standin, type StandinRecord } from "../helpers/cloudflare-standin";
import { ROOT, runProgram, withoutStackFrames } from "../helpers/program";

/**
 * The adopt map after the takeover: it must not outlive its use (an import id left on a resource makes the engine
 * refuse its replacement, pulumi/pulumi pkg/resource/deploy/step_generator.go:1976-1995), and the table must show
 * every change the first `up` makes to an adopted Pages project and why a redirect ruleset under another name cannot
 * be adopted.
 */

function stackCopy(): string {
    const dir = mkdtempSync(join(tmpdir(), "vk-adopt-end-"));
    copyFileSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
    const doc = parseDocument(readFileSync(join(ROOT, "Pulumi.prod.yaml"), "utf8"));
    doc.setIn(["config", "visualkit:cutoverFromIpv4"], OLD_IP);
    writeFileSync(join(dir, "Pulumi.prod.yaml"), doc.toString({ lineWidth: 0 }));
    return dir;
}

/** A `pulumi stack export` whose resources are the given names (URNs as the engine writes them). */
const exported = (names: readonly string[], pendingDelete: readonly string[] = []) => ({
    version: 3,
    deployment: {
        resources: [
            ...names.map((n) => ({ urn: `urn:pulumi:prod::visualkit::pulumi:pulumi:Stack$x:y:Z::${n}` })),
            ...pendingDelete.map((n) => ({ urn: `urn:pulumi:prod::visualkit::x:y:Z::${n}`, delete: true })),
        ],
    },
});

describe("after the first successful up nothing is imported again", () => {
    let cf: Standin;
    let dir: string;
    beforeAll(async () => {
        cf = await startStandin();
        cf.seed.records = cf.seed.records.filter((r) => !(r.name === "www.visualkit.live" && r.type === "CNAME"));
        dir = stackCopy();
    });
    afterAll(async () => {
        await cf.close();
        rmSync(dir, { recursive: true, force: true });
    });

    test("adopt writes entries only for objects the stack's state does not hold; with all of them in the state the map is empty", async () => {
        const first = await withoutStackFrames(() => runAdopt({ root: dir, stack: "prod", token: TOKEN, baseUrl: cf.url, write: false, inState: new Set() }));
        const names = Object.keys(first.adopt);
        expect(names.length).toBeGreaterThan(10);
        // Half of them deployed (a first up that stopped half way): only the other half stays in the map.
        const half = names.slice(0, Math.floor(names.length / 2));
        const inState = resourceNamesInState(exported(half, names.slice(-1)));
        const partial = await withoutStackFrames(() => runAdopt({ root: dir, stack: "prod", token: TOKEN, baseUrl: cf.url, write: false, inState }));
        expect(Object.keys(partial.adopt).sort()).toEqual(names.filter((n) => !half.includes(n)).sort());
        for (const n of half) expect(partial.rows.find((r) => r.resource === n)?.status).toBe("managed");
        // After the first successful up: every adopted resource is in the state, and the written map is gone.
        const done = await withoutStackFrames(() => runAdopt({ root: dir, stack: "prod", token: TOKEN, baseUrl: cf.url, write: true, inState: new Set(names) }));
        expect(done.adopt).toEqual({});
        expect(readFileSync(join(dir, "Pulumi.prod.yaml"), "utf8")).not.toContain("visualkit:adopt");
    }, 60_000);

    test("the program never imports a DNS record again once it carries the stack's owner comment (the first up wrote it)", async () => {
        const adopt = (await withoutStackFrames(() => runAdopt({ root: dir, stack: "prod", token: TOKEN, baseUrl: cf.url, write: false, inState: new Set() }))).adopt;
        const dnsEntries = Object.keys(adopt).filter((n) => n.includes("-dns-"));
        expect(dnsEntries.length).toBeGreaterThan(5);
        // The zone after the first up: the adopted records now carry the comment the program sets.
        const afterFirstUp: StandinRecord[] = cf.seed.records.map((r) => ({ ...r, comment: `Managed by Pulumi visualkit/prod: ${r.name}` }));
        const run = await runProgram("prod", { set: { adopt, cutoverFromIpv4: OLD_IP }, invokes: zoneInvokes(afterFirstUp) });
        const imported = run.resources.filter((r) => r.options.import !== undefined).map((r) => r.name);
        expect(imported.filter((n) => dnsEntries.includes(n))).toEqual([]);
        // What the program cannot see (Pages, ruleset, settings) is imported until adopt empties the map (above).
        expect(imported.length).toBeGreaterThan(0);
    }, 60_000);

    test("resourceNamesInState refuses what is not a stack export", () => {
        expect(() => resourceNamesInState({ resources: [] })).toThrow(/not the output of pulumi stack export/);
    });
});

describe("the adopt table compares the whole Pages deployment configuration and the ruleset's name", () => {
    let rendered: RenderedResource[];
    const account = (over: Partial<AccountSnapshot>): AccountSnapshot => ({
        zone: "visualkit.live",
        zoneId: "z".repeat(32),
        accountId: "a".repeat(32),
        records: [],
        projects: [],
        domains: {},
        settings: {},
        ...over,
    });
    beforeAll(async () => {
        const run = await runProgram("prod");
        rendered = run.resources.filter((r) => r.type === TYPES.pagesProject || r.type === TYPES.ruleset).map((r) => ({ type: r.type, name: r.name, inputs: r.rawInputs }));
    });

    test("every field the first up changes is reported: deleted bindings and flags, defaulted build image and fail_open, env vars", () => {
        const landing = rendered.find((r) => r.type === TYPES.pagesProject && r.inputs.name === "visualkit-landing")!;
        const envVars = (landing.inputs.deploymentConfigs as { production: { envVars: Record<string, { value: string }> } }).production.envVars;
        const keep = Object.fromEntries(Object.entries(envVars).map(([k, v]) => [k, { type: "plain_text", value: v.value }]));
        const production = {
            env_vars: { ...keep, LEGACY_FLAG: { type: "plain_text", value: "1" } },
            kv_namespaces: { SESSIONS: { namespace_id: "abc" } },
            compatibility_flags: ["nodejs_compat"],
            compatibility_date: "2024-09-23",
            build_image_major_version: 2,
            fail_open: false,
        };
        const project = {
            name: "visualkit-landing",
            production_branch: "main",
            build_config: { build_caching: false, build_command: "pnpm build", destination_dir: "dist", root_dir: "apps/landing" },
            source: { type: "github", config: { owner: "visualkit", repo_name: "visualkit", production_branch: "main" } },
            deployment_configs: { production, preview: { env_vars: keep, compatibility_date: "2024-09-23", build_image_major_version: 3 } },
        };
        const { rows } = matchAccount([landing], account({ projects: [project] }), { ownerPrefix: "Managed by Pulumi visualkit/prod", stack: "prod" });
        const row = rows.find((r) => r.resource === landing.name)!;
        expect(row.status).toBe("change");
        const detail = row.detail.split("; ");
        expect(detail).toEqual(
            expect.arrayContaining([
                "production kv_namespaces: SESSIONS → (none) (deleted: the program declares none)",
                "production compatibility_flags: nodejs_compat → (none) (deleted: the program declares none)",
                "production build_image_major_version: 2 → 3 (the provider's default)",
                "production fail_open: false → true (the provider's default)",
                "production env var LEGACY_FLAG: deleted (the program does not set it)",
                "build caching: false → true",
            ]),
        );
        // The compatibility date is kept (Computed, UseStateForUnknown): no row claims it changes; preview is unchanged.
        expect(detail.filter((d) => d.includes("compatibility_date") || d.startsWith("preview "))).toEqual([]);
    });

    test("a redirect entrypoint under another name is not adoptable (name forces replacement), with the way to fix it", () => {
        const ruleset = rendered.find((r) => r.type === TYPES.ruleset)!;
        const existing = { id: "r1", name: "zone redirects", kind: "zone", phase: "http_request_dynamic_redirect", rules: [] };
        const blocked = matchAccount([ruleset], account({ redirectEntrypoint: existing }), { ownerPrefix: "x", stack: "prod" });
        expect(blocked.adopt).toEqual({});
        expect(blocked.rows[0]).toMatchObject({ status: "blocked" });
        expect(blocked.rows[0].detail).toContain(`its name is "zone redirects", the stack's is "${String(ruleset.inputs.name)}"`);
        expect(blocked.rows[0].detail).toContain("PUT /zones/");
        const same = matchAccount([ruleset], account({ redirectEntrypoint: { ...existing, name: String(ruleset.inputs.name) } }), { ownerPrefix: "x", stack: "prod" });
        expect(Object.keys(same.adopt)).toEqual([ruleset.name]);
    });
});
