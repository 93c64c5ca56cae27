import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { matchAccount, TYPES, type RenderedResource } from "../../scripts/adopt/match";
import { runProgram, stackConfig } from "../helpers/program";
import { EMPTY_STATE, modelEffects, newHost, up, type Host, type State, type UpResult } from "./engine";
import { scenarios, withCurrentKeys, type Scenario, type ScenarioUp } from "./scenarios";

/**
 * The scenarios of ./scenarios.ts, each `up` the real program under mocks (the goal graph) played by the
 * engine/provider model (./engine.ts) against the state and host the previous `up` left.
 */

const CONTAINER = "docker:index/container:Container";
let work: string;
beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "vk-sequence-"));
    mkdirSync(join(work, "widget"), { recursive: true });
    writeFileSync(join(work, "widget", "sdk.js"), "console.log('widget')\n");
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** `visualkit:adopt` as npm run adopt writes it for an account that has the stack's Pages projects and domains. */
function adoptMap(resources: readonly RenderedResource[], stack: string, inState: ReadonlySet<string>): Record<string, string> {
    const accountId = stackConfig(stack).config["visualkit:cloudflareAccountId"];
    const pages = resources.filter((r) => r.type === TYPES.pagesProject || r.type === TYPES.pagesDomain);
    const projects = pages.filter((r) => r.type === TYPES.pagesProject).map((r) => ({ name: String(r.inputs.name) }));
    const domains = Object.fromEntries(
        projects.map((p) => [p.name, pages.filter((r) => r.type === TYPES.pagesDomain && r.inputs.projectName === p.name).map((r) => ({ id: String(r.inputs.name), name: String(r.inputs.name) }))]),
    );
    return matchAccount(pages, { zone: "z", zoneId: "0".repeat(32), accountId, records: [], projects, domains, settings: {} }, { ownerPrefix: "x", stack, inState }).adopt;
}

interface Played {
    readonly up: ScenarioUp;
    readonly result: UpResult;
    readonly containersTouched: string[];
    readonly commandRuns: string[];
}

/** Resource name → Docker name of every container any scenario saw (names are unique per stack). */
const dockerNames = new Map<string, string>();

async function play(s: Scenario): Promise<Played[]> {
    let state: State = EMPTY_STATE;
    const host: Host = newHost();
    const played: Played[] = [];
    const base = Object.fromEntries(Object.entries(s.base ?? {}).map(([k, v]) => [k, v === "<widget folder>" ? join(work, "widget") : v]));
    for (const u of s.ups) {
        const current = JSON.parse(stackConfig(s.stack).config["visualkit:sshPublicKeys"]) as string[];
        let set: Record<string, unknown> = { ...base, ...withCurrentKeys(u.set ?? {}, current) };
        if (u.adopt) {
            const plain = await runProgram(s.stack, { set: set as Record<string, string> });
            const rendered = plain.resources.map((r) => ({ type: r.type, name: r.name, inputs: r.rawInputs }));
            const map = adoptMap(rendered, s.stack, u.adopt === "rewritten" ? new Set(state.live.keys()) : new Set());
            set = { ...set, adopt: Object.keys(map).length ? map : undefined };
        }
        const run = await runProgram(s.stack, { set: set as Record<string, string>, secrets: u.secrets });
        host.brokenImages.clear();
        host.failingJobs.clear();
        u.brokenImages?.forEach((i) => host.brokenImages.add(i));
        u.failingJobs?.forEach((i) => host.failingJobs.add(i));
        const dockerName = new Map(run.ofType(CONTAINER).map((c) => [c.name, String(c.rawInputs.name)]));
        for (const r of state.live.values()) if (r.type === CONTAINER) dockerName.set(r.name, String(r.inputs.name));
        for (const [k, v] of dockerName) dockerNames.set(k, v);
        const runsBefore = host.commandRuns.length;
        const result = await up(state, run.resources, modelEffects(host));
        const containersTouched = [...new Set(result.steps.filter((x) => x.op !== "same" && dockerName.has(x.name)).map((x) => dockerName.get(x.name)!))].sort();
        played.push({ up: u, result, containersTouched, commandRuns: host.commandRuns.slice(runsBefore) });
        state = result.state;
    }
    return played;
}

describe.each(scenarios().map((s) => [s.id, s] as const))("%s", (_id, s) => {
    let played: Played[];
    beforeAll(async () => {
        played = await play(s);
    }, 120_000);

    test(s.title, () => {
        for (const [i, p] of played.entries()) {
            const where = `up ${i + 1} (${p.up.label})`;
            expect([where, p.result.error === undefined ? "ok" : "fail", p.result.error ?? ""]).toEqual([where, p.up.expect, p.up.expect === "ok" ? "" : expect.stringContaining(p.up.errorIncludes ?? "")]);
            if (p.up.noChanges) expect([where, p.result.steps.filter((x) => x.op !== "same").map((x) => `${x.op} ${x.name}${x.detail ? ` (${x.detail})` : ""}`)]).toEqual([where, []]);
            if (p.up.touches) expect([where, p.containersTouched]).toEqual([where, [...p.up.touches].sort()]);
            // A copy and its standby: the standby is replaced (and healthy) before the primary is touched.
            for (const [primary, standby] of [["platform-api", "platform-api-standby"], ["vk-agent", "vk-agent-standby"], ["chatwoot-rails", "chatwoot-rails-standby"]]) {
                if (i === 0 || !p.containersTouched.includes(primary)) continue;
                const at = (op: string, docker: string) => p.result.steps.findIndex((x) => x.op === op && dockerNames.get(x.name) === docker);
                expect([where, primary, at("replace-create", standby) >= 0 && at("replace-create", standby) < at("delete-replaced", primary)]).toEqual([where, primary, true]);
            }
            if (i > 0 && s.keepServing) {
                for (const { step, serving } of p.result.servingAfterEachStep) {
                    for (const group of s.keepServing) expect([where, step, group, group.some((c) => serving.has(c))]).toEqual([where, step, group, true]);
                }
            }
        }
    });
});

test("a key rotation re-runs every remote step of the host with the same inputs (test/sequence/remote-rerun.test.ts proves each is safe to) and copies nothing again", async () => {
    const s = scenarios().find((x) => x.id === "dev-ssh-key-rotation")!;
    const [, trust, rotation] = await play(s);
    // Trusting the new key changes only the authorized keys on the host (and adds its Hetzner SSH key object).
    expect(trust.result.steps.filter((x) => x.op !== "same").map((x) => `${x.op} ${x.name.replace(/-main-ssh-\w+$/, "-main-ssh-<hash>")}`)).toEqual(["create visualkit-dev-main-ssh-<hash>", "update visualkit-dev-main-authorized-keys"]);
    const remote = rotation.result.steps.filter((x) => x.name.includes("-") && /command|sync|folder|install|guard|ready|keys|off/.test(x.name));
    expect(rotation.commandRuns).toEqual(expect.arrayContaining(["visualkit-dev-widget-cdn-sync", "visualkit-dev-widget-cdn-folder", "visualkit-dev-main-caddy-install", "visualkit-dev-main-ready"]));
    // The upload's update copies only when its source hash or remotePath changed (pulumi-command v1.2.1 copyController.go:137-152).
    expect(rotation.result.steps.find((x) => x.name === "visualkit-dev-widget-cdn-upload")?.op).toBe("update");
    expect(remote.filter((x) => x.op.startsWith("replace") || x.op.startsWith("delete")).map((x) => x.name)).toEqual([]);
}, 120_000);

test("the model reproduces the engine's rules it cites: a delete-before-replace resource takes property-dependent dependents down first, dependsOn ones not", async () => {
    const res = (name: string, deps: Record<string, string[]>, dependsOn: string[] = [], dbr = true) => ({
        type: CONTAINER,
        name,
        parent: null,
        custom: true,
        inputs: {},
        rawInputs: { name, image: `img-${name}` },
        secretInputs: [],
        propertyDependencies: deps,
        options: { dependsOn, deleteBeforeReplace: dbr, replaceOnChanges: ["*"] },
    });
    const effects = modelEffects(newHost());
    const first = await up(EMPTY_STATE, [res("job", {}), res("byInput", { image: ["job"] }), res("byDependsOn", {}, ["job"])], effects);
    expect(first.error).toBeUndefined();
    const changed = { ...res("job", {}), rawInputs: { name: "job", image: "img-new" } };
    const second = await up(first.state, [changed, res("byInput", { image: ["job"] }), res("byDependsOn", {}, ["job"])], effects);
    expect(second.steps.slice(0, 3).map((x) => `${x.op} ${x.name}`)).toEqual(["delete-dependent byInput", "delete-replaced job", "replace-create job"]);
    expect(second.steps.find((x) => x.name === "byDependsOn")?.op).toBe("same");
});
