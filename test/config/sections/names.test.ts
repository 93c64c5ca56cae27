import { readNames } from "../../../config/sections/names";
import { issue, readSection } from "../../helpers/config-reader";

const VALID = { environment: "prod", domain: "dev.visualkit.live", cloudflareZone: "visualkit.live", cloudflareAccountId: "0123456789abcdef0123456789abcdef", acmeEmail: "ops@visualkit.live" };

describe("names section", () => {
    test("valid names normalize, with the declared defaults for the rest", () => {
        const { value, issues } = readSection(readNames, VALID);
        expect(issues).toEqual([]);
        expect(value).toEqual({ environment: "prod", domain: "dev.visualkit.live", zone: "visualkit.live", zoneId: undefined, accountId: VALID.cloudflareAccountId, acmeEmail: "ops@visualkit.live", logLevel: "info" });
    });

    test.each([
        ["a missing domain", { domain: undefined }, issue("domain", /is required/, /^pulumi config set visualkit:domain <value> -s prod/)],
        ["an unknown environment", { environment: "staging" }, issue("environment", /must be one of dev, prod, not "staging"/, /set visualkit:environment dev/)],
        ["a domain outside the zone", { domain: "dev.example.com" }, issue("domain", /not inside the Cloudflare zone visualkit\.live/, /use a domain under visualkit\.live/)],
        ["an uppercase zone", { cloudflareZone: "Visualkit.live" }, issue("cloudflareZone", /"Visualkit.live" is not a lowercase domain name/, /set visualkit:cloudflareZone visualkit\.live/)],
        ["a short account id", { cloudflareAccountId: "abc" }, issue("cloudflareAccountId", /not a Cloudflare id/, /<32-hex account id>/)],
        ["an address without @", { acmeEmail: "ops" }, issue("acmeEmail", /not an e-mail address/, /set visualkit:acmeEmail ops@visualkit\.live/)],
        ["a log level Caddy does not know", { logLevel: "trace" }, issue("logLevel", /must be one of debug, info, warn/, /set visualkit:logLevel debug/)],
    ])("%s is reported with its key and fix", (_, change, expected) => {
        const { issues } = readSection(readNames, { ...VALID, ...change });
        expect(issues).toEqual([expected]);
    });
});
