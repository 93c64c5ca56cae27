import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, parseDocument } from "yaml";
import { CloudflareReader } from "../../scripts/adopt/cloudflare-api";
import { runAdopt } from "../../scripts/adopt/run";
import { OLD_IP, startStandin, TOKEN, zoneInvokes, type Standin } from "../helpers/cloudflare-standin";
import { ROOT, runProgram, withoutStackFrames } from "../helpers/program";

/** A copy of the project's stack files in a temp folder, so adopt writes there and never into the repository. */
function stackCopy(set: Record<string, unknown> = {}): string {
    const dir = mkdtempSync(join(tmpdir(), "vk-adopt-"));
    copyFileSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
    const doc = parseDocument(readFileSync(join(ROOT, "Pulumi.prod.yaml"), "utf8"));
    for (const [k, v] of Object.entries(set)) doc.setIn(["config", k], v);
    writeFileSync(join(dir, "Pulumi.prod.yaml"), doc.toString({ lineWidth: 0 }));
    return dir;
}

const rowsOf = (run: Awaited<ReturnType<typeof runAdopt>>, status: string) => run.rows.filter((r) => r.status === status);

describe("npm run adopt against today's zone (a local Cloudflare stand-in)", () => {
    let cf: Standin;
    let dir: string;
    let run: Awaited<ReturnType<typeof runAdopt>>;
    let copied: string;
    const before = readFileSync(join(ROOT, "Pulumi.prod.yaml"), "utf8");

    beforeAll(async () => {
        cf = await startStandin();
        dir = stackCopy({ "visualkit:cutoverFromIpv4": OLD_IP });
        copied = readFileSync(join(dir, "Pulumi.prod.yaml"), "utf8");
        run = await withoutStackFrames(() => runAdopt({ root: dir, stack: "prod", token: TOKEN, baseUrl: cf.url, write: true }));
    }, 60_000);
    afterAll(async () => {
        await cf.close();
        rmSync(dir, { recursive: true, force: true });
    });

    test("adopts the six service A records (kept on the old server), the Pages CNAMEs, MX, SPF and DMARC unchanged", () => {
        const unchanged = rowsOf(run, "unchanged").map((r) => r.object);
        for (const s of ["agent", "api", "cdn", "janus", "support", "ws"]) expect(unchanged).toContain(`A ${s}.visualkit.live → ${OLD_IP}`);
        expect(unchanged).toEqual(
            expect.arrayContaining([
                "CNAME app.visualkit.live → visualkit-dashboard.pages.dev (proxied)",
                "CNAME meet.visualkit.live → visualkit-meeting.pages.dev (proxied)",
                "CNAME visualkit.live → visualkit-landing.pages.dev (proxied)",
                "MX visualkit.live → 10 mx.zoho.com",
                "MX visualkit.live → 20 mx2.zoho.com",
                "MX visualkit.live → 50 mx3.zoho.com",
                "TXT visualkit.live → v=spf1 include:zoho.com ~all",
                "TXT _dmarc.visualkit.live → v=DMARC1; p=none; rua=mailto:dmarc@visualkit.live",
            ]),
        );
    });

    test("shows what the first up changes, old → new: the DKIM key, the zone's TLS settings", () => {
        const change = Object.fromEntries(rowsOf(run, "change").map((r) => [r.object, r.detail]));
        expect(change["TXT zmail._domainkey.visualkit.live → v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQTodaysKey"]).toMatch(/^content: v=DKIM1; .*TodaysKey → v=DKIM1; .*placeholderReplaceWithZohoKey$/);
        expect(change["zone setting ssl"]).toBe("value: full → strict");
        expect(change["zone setting always_use_https"]).toBe("value: off → on");
        expect(change["zone setting min_tls_version"]).toBe("value: 1.0 → 1.2");
        expect(Object.keys(change)).toEqual(expect.arrayContaining(["Pages project visualkit-landing", "Pages project visualkit-dashboard", "Pages project visualkit-meeting"]));
    });

    test("www's Railway CNAME is at a managed name but not adoptable, with what to do; the foreign TXT is left alone", () => {
        expect(rowsOf(run, "blocked")).toEqual([
            expect.objectContaining({ resource: "visualkit-prod-dns-www-aaaa", object: "CNAME www.visualkit.live → l4xm51g7.up.railway.app (proxied)", detail: expect.stringMatching(/Delete this record/) }),
        ]);
        expect(rowsOf(run, "foreign").map((r) => r.object)).toEqual(["TXT visualkit.live → google-site-verification=standin-not-ours"]);
        expect(rowsOf(run, "create").map((r) => r.resource)).toEqual(expect.arrayContaining(["visualkit-prod-dns-janus-api-a", "visualkit-prod-redirects-ruleset"]));
    });

    test("prints one table with a row per object and a summary", () => {
        const lines = run.output.split("\n");
        expect(lines[0]).toMatch(/^STATUS\s+RESOURCE\s+IN CLOUDFLARE\s+CHANGE \/ WHAT TO DO$/);
        expect(run.output).toMatch(/ADOPTED, UNCHANGED\s+visualkit-prod-dns-api-a\s+A api\.visualkit\.live → 178\.156\.151\.139/);
        expect(run.output).toMatch(/NOT ADOPTABLE\s+visualkit-prod-dns-www-aaaa/);
        expect(run.output).toMatch(/NOT OURS, LEFT ALONE\s+-\s+TXT visualkit\.live → google-site-verification/);
        expect(run.output).toMatch(/\n\d+ adopted \(\d+ will change\), 1 not adoptable, \d+ to create, 0 already this stack's, 1 left alone\n/);
    });

    test("writes the import ids into visualkit:adopt of the stack file, in the formats the provider documents; the repository's file is untouched", () => {
        const written = (parse(readFileSync(join(dir, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> }).config["visualkit:adopt"] as Record<string, string>;
        const zid = cf.seed.zone.id;
        const acct = cf.seed.accountId;
        const api = cf.seed.records.find((r) => r.name === "api.visualkit.live")!;
        expect(written["visualkit-prod-dns-api-a"]).toBe(`${zid}/${api.id}`);
        expect(written["visualkit-prod-pages-landing-project"]).toBe(`${acct}/visualkit-landing`);
        expect(written["visualkit-prod-pages-dashboard-domain"]).toBe(`${acct}/visualkit-dashboard/app.visualkit.live`);
        expect(written["visualkit-prod-zone-min-tls-version"]).toBe(`${zid}/min_tls_version`);
        expect(written).toEqual(run.adopt);
        expect(Object.keys(written)).toHaveLength(rowsOf(run, "unchanged").length + rowsOf(run, "change").length);
        // Every line that was there stays as it was; the map is added below them.
        expect(readFileSync(join(dir, "Pulumi.prod.yaml"), "utf8").startsWith(copied)).toBe(true);
        expect(readFileSync(join(ROOT, "Pulumi.prod.yaml"), "utf8")).toBe(before);
    });

    test("only reads: every request the stand-in saw was a GET, and the record list was fetched page by page", () => {
        expect(new Set(cf.requests.map((r) => r.method))).toEqual(new Set(["GET"]));
        const pages = cf.requests.filter((r) => r.path.includes("/dns_records")).map((r) => new URLSearchParams(r.path.split("?")[1]).get("page"));
        expect(pages).toEqual(["1", "2", "3", "4", "5"]);
    });
});

const sameSlot = (a: { name: string; type: string }, b: { name: string; type: string }) => a.name === b.name && a.type === b.type;

describe("the program after adopt: imports exactly the adopted resources, never a duplicate", () => {
    let cf: Standin;
    let adopt: Record<string, string>;
    beforeAll(async () => {
        cf = await startStandin();
        const dir = stackCopy({ "visualkit:cutoverFromIpv4": OLD_IP });
        adopt = (await withoutStackFrames(() => runAdopt({ root: dir, stack: "prod", token: TOKEN, baseUrl: cf.url, write: false }))).adopt;
        rmSync(dir, { recursive: true, force: true });
    }, 60_000);
    afterAll(() => cf.close());
    /** The operator's one manual step in Cloudflare: the Railway CNAME at www goes (the redirect rule replaces it). */
    const withoutRailway = () => cf.seed.records.filter((r) => !(r.name === "www.visualkit.live" && r.type === "CNAME"));

    test("pulumi preview would show an import on exactly the adopted resources, each with its id; every other record is new at its name", async () => {
        const zone = withoutRailway();
        const run = await runProgram("prod", { set: { adopt, cutoverFromIpv4: OLD_IP }, invokes: zoneInvokes(zone) });
        const imported = Object.fromEntries(run.resources.filter((r) => r.options.import !== undefined).map((r) => [r.name, r.options.import]));
        expect(imported).toEqual(adopt);
        const created = run.ofType("cloudflare:index/dnsRecord:DnsRecord").filter((r) => r.options.import === undefined);
        // turn: new with the TURN service (docs/turn.md); it points at the new host's TURN address from the start.
        expect(created.map((r) => `${r.inputs.type} ${r.inputs.name}`).sort()).toEqual(["A janus-api.visualkit.live", "A turn.visualkit.live", "AAAA www.visualkit.live"]);
        for (const r of created) expect(zone.filter((z) => sameSlot(z, { name: String(r.inputs.name), type: String(r.inputs.type) }))).toEqual([]);
        // No Cloudflare record is taken over by two resources.
        const ids = Object.values(adopt);
        expect(new Set(ids).size).toBe(ids.length);
    }, 60_000);

    test("refuses, before creating anything, while www still has the Railway CNAME", async () => {
        await expect(runProgram("prod", { set: { adopt, cutoverFromIpv4: OLD_IP }, invokes: zoneInvokes(cf.seed.records) })).rejects.toThrow(
            /www\.visualkit\.live AAAA: the zone has CNAME www\.visualkit\.live → l4xm51g7\.up\.railway\.app .*a CNAME cannot share its name/,
        );
    }, 60_000);

    test("without an adopt map, today's zone makes the program refuse a second A record at every service name", async () => {
        const err = await runProgram("prod", { set: { cutoverFromIpv4: OLD_IP }, invokes: zoneInvokes(withoutRailway()) }).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(err?.name).toBe("TakeoverError");
        for (const s of ["agent", "api", "cdn", "janus", "support", "ws"]) {
            expect(err?.message).toContain(`${s}.visualkit.live A: the zone already has A ${s}.visualkit.live → ${OLD_IP}`);
        }
        expect(err?.message).toMatch(/pulumi up would add a second A record beside it\. Run npm run adopt -- prod/);
        expect(err?.message).not.toMatch(/google-site-verification/);
    }, 60_000);

    test("records the stack made itself (its comment) are not in the way of the next preview", async () => {
        const ours = withoutRailway().map((r) => ({ ...r, comment: `Managed by Pulumi visualkit/prod: ${r.name}` }));
        const run = await runProgram("prod", { set: { cutoverFromIpv4: OLD_IP }, invokes: zoneInvokes(ours) });
        expect(run.resources.filter((r) => r.options.import !== undefined)).toEqual([]);
    }, 60_000);

    test("an adopt entry that names no resource of the stack is refused, naming it", async () => {
        await expect(
            runProgram("prod", { set: { adopt: { ...adopt, "visualkit-prod-dns-old-name-a": "abc/def" }, cutoverFromIpv4: OLD_IP }, invokes: zoneInvokes(withoutRailway()) }),
        ).rejects.toThrow(/visualkit:adopt in Pulumi\.prod\.yaml names resources this stack does not create: visualkit-prod-dns-old-name-a/);
    }, 60_000);
});

describe("npm run adopt: errors", () => {
    let cf: Standin;
    beforeAll(async () => {
        cf = await startStandin();
    });
    afterAll(() => cf.close());

    test("without CLOUDFLARE_API_TOKEN it says what token to make, and exits 2", () => {
        const env = { ...process.env, CLOUDFLARE_API_TOKEN: "" };
        const r = spawnSync(process.execPath, [join(ROOT, "scripts/run-ts.js"), join(ROOT, "scripts/adopt.ts"), "prod"], { env, encoding: "utf8" });
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(/CLOUDFLARE_API_TOKEN is not set.*DNS Read.*Cloudflare Pages Read/);
    });

    test("a token without DNS rights: the 403 names the permission", async () => {
        cf.forbid = /\/dns_records/;
        await expect(new CloudflareReader(TOKEN, cf.url).dnsRecords(cf.seed.zone.id)).rejects.toThrow(/HTTP 403.*lacks "Zone: DNS Read"/);
        cf.forbid = undefined;
    });

    test("an unknown zone is named, with the key to check", async () => {
        await expect(new CloudflareReader(TOKEN, cf.url).zoneId("example.org")).rejects.toThrow(/no Cloudflare zone named example\.org .*visualkit:cloudflareZone/);
    });
});
