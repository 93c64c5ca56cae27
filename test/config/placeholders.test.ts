import { generateKeyPairSync } from "node:crypto";
import { isRealDkimKey } from "../../config/sections/placeholders";
import { parseConfig, type LocalFacts, type RawConfig } from "../../stack";
import { NO_FILES, stackRaw } from "../helpers/config-reader";

/*
 * The committed stack files' examples render offline and are refused, each by name, by a real preview or up
 * (LocalFacts.engine, set by config/index.ts only when a real engine runs the program).
 */
function raw(stack: "dev" | "prod", engine: LocalFacts["engine"], set: Record<string, unknown> = {}): RawConfig {
    // A real up also checks the ssh-agent: give it one, so only the placeholders are listed.
    return stackRaw(stack, set, { local: { ...NO_FILES, engine, ...(engine === "up" ? { sshAgent: { state: "running" as const, socket: "/tmp/agent" } } : {}) } });
}

const RSA_SPKI = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "spki", format: "der" }).toString("base64");
const REAL = {
    sshPublicKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAuB4ua0GBY4Y8Y3dSPa1d0/mG2T4Cpo5Xi8i3YmNpOW ops@laptop"],
    sshAllowedCidrs: ["94.130.12.0/24", "2a01:4f8:c012::/48"],
    cloudflareAccountId: "9f3c2a7b1e4d4c0b8a6f5e2d1c3b4a59",
    emailDkim: `v=DKIM1; k=rsa; p=${RSA_SPKI}`,
};

describe("offline (the render, the tests, the policy pack) the examples are accepted", () => {
    test.each(["dev", "prod"] as const)("%s", (stack) => {
        expect(parseConfig(raw(stack, undefined)).issues).toEqual([]);
    });
});

describe.each(["preview", "up"] as const)("a real %s refuses each placeholder, naming it", (engine) => {
    test("prod: both example keys, both documentation ranges, the example account id and the placeholder DKIM", () => {
        const found = parseConfig(raw("prod", engine)).issues;
        expect(found.map((i) => i.key)).toEqual([
            "visualkit:sshPublicKeys[0]",
            "visualkit:sshPublicKeys[1]",
            "visualkit:sshAllowedCidrs[0]",
            "visualkit:sshAllowedCidrs[1]",
            "visualkit:cloudflareAccountId",
            "visualkit:emailDkim",
        ]);
        expect(found[0].problem).toMatch(new RegExp(`example keys .* after pulumi ${engine} nobody could log in`));
        expect(found[2].problem).toMatch(/"203\.0\.113\.0\/24" is a documentation range \(RFC 5737\)/);
        expect(found[3].problem).toMatch(/"2001:db8::\/32" is the documentation range \(RFC 3849\)/);
        expect(found[4].fix).toMatch(/pulumi config set visualkit:cloudflareAccountId <32-hex id> -s prod/);
        expect(found[5].problem).toMatch(/no usable public key .* would replace the real record/);
    });

    test("dev: the same, without e-mail", () => {
        expect(parseConfig(raw("dev", engine)).issues.map((i) => i.key)).toEqual(["visualkit:sshPublicKeys[0]", "visualkit:sshPublicKeys[1]", "visualkit:sshAllowedCidrs[0]", "visualkit:sshAllowedCidrs[1]", "visualkit:cloudflareAccountId"]);
    });

    test("real values pass", () => {
        expect(parseConfig(raw("prod", engine, REAL)).issues).toEqual([]);
    });

    test.each([
        ["an all-zero account id", { cloudflareAccountId: "0".repeat(32) }, "visualkit:cloudflareAccountId"],
        ["an all-zero zone id", { cloudflareZoneId: "0".repeat(32) }, "visualkit:cloudflareZoneId"],
        ["a key whose comment says it is an example", { sshPublicKeys: [REAL.sshPublicKeys[0].replace("ops@laptop", "example-replace-me")] }, "visualkit:sshPublicKeys[0]"],
        ["one address inside a documentation range", { sshAllowedCidrs: ["198.51.100.7/32"] }, "visualkit:sshAllowedCidrs[0]"],
        ["a DKIM key cut short", { emailDkim: `v=DKIM1; k=rsa; p=${RSA_SPKI.slice(0, 60)}` }, "visualkit:emailDkim"],
    ])("%s", (_, change, key) => {
        expect(parseConfig(raw("prod", engine, { ...REAL, ...change })).issues.map((i) => i.key)).toEqual([key]);
    });
});

test("a DKIM key is real when a receiver could load it: RSA as SubjectPublicKeyInfo, ed25519 as 32 raw bytes", () => {
    expect(isRealDkimKey(REAL.emailDkim)).toBe(true);
    expect(isRealDkimKey(`v=DKIM1; k=ed25519; p=${Buffer.alloc(32, 7).toString("base64")}`)).toBe(true);
    expect(isRealDkimKey("v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDplaceholderReplaceWithZohoKey")).toBe(false);
    expect(isRealDkimKey(`v=DKIM1; k=ed25519; p=${Buffer.alloc(31).toString("base64")}`)).toBe(false);
});
