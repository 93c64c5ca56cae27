import { deriveDnsRecords } from "../../catalog/dns";
import { buildCatalog } from "../../catalog";
import { normalizeConfig } from "../../config/parse";
import { parseConfig } from "../../stack";
import { stackRaw } from "../helpers/config-reader";

/**
 * DNS name conflicts have one home, `dnsNameIssues` (catalog/validate.ts), run by the stack's validation: each kind of
 * conflict a stack file can ask for is a listed problem naming the key and the fix, and the DNS derivation
 * (catalog/dns.ts) no longer throws on any of them (it used to, for the kinds the validation missed).
 */
const CASES: [string, "dev" | "prod", Record<string, unknown>, string, RegExp, RegExp][] = [
    ["two routes on one hostname", "prod", { hostnames: { ws: "api" } }, "visualkit:hostnames.ws", /api\.visualkit\.live is already used by route "api"/, /hostnames\.ws' ws2 -s prod/],
    ["the TURN name on a route's hostname", "prod", { hostnames: { turn: "api" } }, "visualkit:hostnames.turn", /api\.visualkit\.live is already used by route "api"/, /hostnames\.turn' turn2 -s prod/],
    ["a Pages site on a route's hostname", "prod", { hostnames: { app: "api" } }, "visualkit:hostnames.app", /api\.visualkit\.live is already used by route "api"/, /hostnames\.app' app2/],
    ["the redirect on a route's hostname", "prod", { hostnames: { www: "api" } }, "visualkit:hostnames.www", /already used by route "api"/, /hostnames\.www' www2/],
    ["a route at the apex beside the landing site's flattened CNAME", "prod", { hostnames: { api: "@" } }, "visualkit:hostnames.landing", /visualkit\.live is already used by route "api"/, /hostnames\.landing' landing2/],
    ["e-mail below the apex beside the landing site's CNAME", "dev", { emailMx: ["10 mx.zoho.com"] }, "visualkit:emailMx", /the mail exchanger mx\.zoho\.com at dev\.visualkit\.live would sit beside the CNAME of the Pages site "landing", which DNS forbids below the zone apex/, /leave visualkit:emailMx out of this stack, or move the site: .*hostnames\.landing' landing2 -s dev/],
    ["one mail host twice", "prod", { emailMx: ["10 mx.zoho.com", "20 mx.zoho.com"] }, "visualkit:emailMx", /a second MX record at visualkit\.live/, /remove the repeated entry from visualkit:emailMx/],
    ["two mail hosts whose resource names collide", "prod", { emailMx: ["10 mx.zoho.com", "20 mx-zoho.com"] }, "visualkit:emailMx", /a second DNS record named mx-mx-zoho-com/, /remove the repeated entry/],
];

describe.each(CASES)("%s", (_what, stack, set, key, problem, fix) => {
    test("is one listed problem naming the key and the fix", () => {
        const { config, issues } = parseConfig(stackRaw(stack, set));
        expect(config).toBeUndefined();
        expect(issues).toEqual([{ key, problem: expect.stringMatching(problem), fix: expect.stringMatching(fix) }]);
    });

    test("does not throw in the DNS derivation, which trusts validated input", () => {
        const { catalogInput, email } = normalizeConfig(stackRaw(stack, set));
        const catalog = buildCatalog(catalogInput!);
        expect(() => deriveDnsRecords(catalog, { zone: catalog.zone, project: "visualkit", stack, email })).not.toThrow();
    });
});

test.each(["dev", "prod"] as const)("the committed %s stack has no name conflict, e-mail at prod's apex beside the landing CNAME included", (stack) => {
    expect(parseConfig(stackRaw(stack)).issues).toEqual([]);
    expect(parseConfig(stackRaw("dev", { emailMx: ["10 mx.zoho.com"], pagesEnabled: "false" })).issues).toEqual([]);
});
