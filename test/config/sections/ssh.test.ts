import { readSsh } from "../../../config/sections/ssh";
import { issue, readSection } from "../../helpers/config-reader";

// A well-formed ed25519 public key: the blob names its own type.
const KEY = `ssh-ed25519 ${Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.alloc(36, 1)]).toString("base64")} ops@laptop`;
const VALID = { sshPublicKeys: [KEY], sshAllowedCidrs: ["203.0.113.0/24", "2001:db8::/32"] };

describe("ssh section", () => {
    test("valid keys and ranges normalize; no private key means the ssh-agent", () => {
        const { value, issues } = readSection(readSsh, VALID);
        expect(issues).toEqual([]);
        expect(value).toEqual({ publicKeys: [KEY], allowedCidrs: ["203.0.113.0/24", "2001:db8::/32"], privateKey: undefined });
    });

    test("a stored private key is kept as a secret that does not print itself", () => {
        const { value } = readSection(readSsh, { ...VALID, sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----" });
        expect(String(value.privateKey)).toBe("[secret]");
        expect(value.privateKey?.reveal()).toBe("-----BEGIN OPENSSH PRIVATE KEY-----");
    });

    test.each([
        ["no key at all", { sshPublicKeys: [] }, issue("sshPublicKeys", /is empty, so nobody could log in/, /~\/\.ssh\/id_ed25519\.pub/)],
        ["a private key pasted as a public key", { sshPublicKeys: ["-----BEGIN OPENSSH PRIVATE KEY-----"] }, issue("sshPublicKeys[0]", /is not an OpenSSH public key/, /ssh-keygen -y/)],
        ["keys as one string", { sshPublicKeys: "ssh-ed25519 AAAA" }, issue("sshPublicKeys", /must be a list of strings/, /YAML list under visualkit:sshPublicKeys/)],
        ["no address allowed", { sshAllowedCidrs: [] }, issue("sshAllowedCidrs", /would be unreachable/, /203\.0\.113\.7\/32/)],
        ["a range with host bits", { sshAllowedCidrs: ["203.0.113.7/24"] }, issue("sshAllowedCidrs[0]", /has host bits set/, /use a CIDR such as/)],
    ])("%s is reported with its key and fix", (_, change, expected) => {
        expect(readSection(readSsh, { ...VALID, ...change }).issues).toEqual([expected]);
    });
});
