import { checkProviders } from "../../../config/sections/providers";
import { issue, readSection } from "../../helpers/config-reader";

describe("providers section", () => {
    test.each([
        ["secret tokens in the stack file", { "hcloud:token": "t", "cloudflare:apiToken": "t" }, {}, []],
        ["tokens from the environment", {}, { HCLOUD_TOKEN: "t", CLOUDFLARE_API_TOKEN: "t" }, []],
    ])("%s are enough", (_, values, env, expected) => {
        expect(readSection(checkProviders, values, { env }).issues).toEqual(expected);
    });

    test("a missing token and a plain-text token are each reported", () => {
        const { issues } = readSection(checkProviders, { "cloudflare:apiToken": "t" }, { plain: ["cloudflare:apiToken"] });
        expect(issues).toEqual([
            issue("hcloud:token", /is not set \(Hetzner Cloud API token/, /set --secret hcloud:token <token> -s prod {2}\(or export HCLOUD_TOKEN\)/),
            issue("cloudflare:apiToken", /is stored in plain text/, /set --secret cloudflare:apiToken <token>/),
        ]);
    });
});
