import { readTakeover } from "../../../config/sections/takeover";
import { issue, readSection } from "../../helpers/config-reader";

describe("takeover section", () => {
    test("the adopt map and the old server's address normalize; empty means none", () => {
        const adopt = { "visualkit-prod-dns-api-a": "z1/r1", "visualkit-prod-redirects-ruleset": "zones/z1/rs1" };
        expect(readSection(readTakeover, { adopt, cutoverFromIpv4: "178.156.151.139" })).toEqual({ value: { adopt, cutoverFromIpv4: "178.156.151.139" }, issues: [] });
        expect(readSection(readTakeover, {})).toEqual({ value: { adopt: {}, cutoverFromIpv4: undefined }, issues: [] });
    });

    test.each([
        ["another stack's resource", { adopt: { "visualkit-dev-dns-api-a": "z1/r1" } }, issue("adopt.visualkit-dev-dns-api-a", /is not a resource of stack prod/, /re-run npm run adopt -- prod/)],
        ["an id without its zone", { adopt: { "visualkit-prod-dns-api-a": "r1" } }, issue("adopt.visualkit-prod-dns-api-a", /is not a Cloudflare import id/, /re-run npm run adopt -- prod/)],
        ["an IPv6 old address", { cutoverFromIpv4: "2001:db8::1" }, issue("cutoverFromIpv4", /is not an IPv4 address/, /set visualkit:cutoverFromIpv4 178\.156\.151\.139/)],
    ])("%s is reported with its key and fix", (_, values, expected) => {
        expect(readSection(readTakeover, values).issues).toEqual([expected]);
    });
});
