import { readServer } from "../../../config/sections/server";
import { issue, readSection } from "../../helpers/config-reader";

const VALID = { serverType: "cx22", serverBackups: "false", protect: "true", volumeSizeGb: "20" };

describe("server section", () => {
    test("valid host settings normalize, with the declared defaults for the rest", () => {
        const { value, issues } = readSection(readServer, VALID);
        expect(issues).toEqual([]);
        expect(value).toEqual({ type: "cx22", location: "nbg1", image: "debian-12", backups: false, rebootstrap: false, volumeSizeGb: 20, protect: true, standbyReplicas: true, caddyTls: "acme", caddyVersion: "2.6.2" });
    });

    test.each([
        ["an unpriced server type", { serverType: "cx99" }, issue("serverType", /not a server type in catalog\/prices\.json/, /set visualkit:serverType cx22/)],
        ["a location Hetzner does not have", { serverLocation: "mars1" }, issue("serverLocation", /must be one of fsn1, nbg1/, /set visualkit:serverLocation fsn1/)],
        ["a yes for a boolean", { protect: "yes" }, issue("protect", /must be true or false, not "yes"/, /set visualkit:protect true/)],
        ["a volume under Hetzner's minimum", { volumeSizeGb: "5" }, issue("volumeSizeGb", /5 GB is outside what Hetzner volumes allow/, /set visualkit:volumeSizeGb 10/)],
        ["a volume size in words", { volumeSizeGb: "ten" }, issue("volumeSizeGb", /must be a whole number/, /<number>/)],
        ["a Caddy version that is not one", { caddyVersion: "latest" }, issue("caddyVersion", /is not a version such as 2\.6\.2/, /set visualkit:caddyVersion 2\.6\.2/)],
        ["a TLS mode Caddy has no name for", { caddyTls: "self" }, issue("caddyTls", /must be one of acme, internal/, /set visualkit:caddyTls acme/)],
    ])("%s is reported with its key and fix", (_, change, expected) => {
        expect(readSection(readServer, { ...VALID, ...change }).issues).toEqual([expected]);
    });
});
