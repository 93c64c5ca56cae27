import { checkStackFile } from "../../../config/sections/stack-file";
import { issue, readSection } from "../../helpers/config-reader";

describe("stack-file section", () => {
    test("declared keys, other namespaces and secrets set with --secret pass", () => {
        expect(readSection(checkStackFile, { domain: "visualkit.live", "hcloud:token": "t", geminiApiKey: "k" }).issues).toEqual([]);
    });

    test.each([
        ["a typo", { domian: "visualkit.live" }, [], issue("domian", /is not a key this program reads/, /did you mean visualkit:domain\? Rename it in Pulumi\.prod\.yaml/)],
        ["a key nothing resembles", { colourScheme: "dark" }, [], issue("colourScheme", /is not a key this program reads/, /^remove it from Pulumi\.prod\.yaml$/)],
        ["a secret in plain text", { geminiApiKey: "AIza" }, ["geminiApiKey"], issue("geminiApiKey", /is stored in plain text in the stack file but is a secret/, /set --secret visualkit:geminiApiKey <value> -s prod \(this overwrites/)],
    ])("%s is reported with its key and fix", (_, values, plain, expected) => {
        expect(readSection(checkStackFile, values, { plain }).issues).toEqual([expected]);
    });
});
