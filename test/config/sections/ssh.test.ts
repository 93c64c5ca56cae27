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

    // Before: Hetzner got one key, authorized_keys two (the second line a key nobody listed).
    test.each([
        ["a line break", `${KEY}\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMl9/JEi4YjZ3PB6MZEsTI9IzbxA4k41036ci93unqjY hidden`, "U+000A"],
        ["a carriage return", KEY.replace("ops@laptop", "ops\r@laptop"), "U+000D"],
        ["an escape sequence in the comment", KEY.replace("ops@laptop", "ops\u001b[8m@laptop"), "U+001B"],
    ])("a key entry holding %s is refused, and the message shows it escaped", (_, key, code) => {
        const { issues } = readSection(readSsh, { ...VALID, sshPublicKeys: [key] });
        expect(issues).toEqual([issue("sshPublicKeys[0]", new RegExp(`holds a control character \\(${code.replace("+", "\\+")}\\)`), /paste the whole public key line/)]);
        expect(issues[0].problem).not.toMatch(/[\u0000-\u001f]/);
    });

    test("a tab between the fields is an ordinary separator", () => {
        expect(readSection(readSsh, { ...VALID, sshPublicKeys: [KEY.replace(" ", "\t")] }).issues).toEqual([]);
    });
});

describe("SSH open to the internet", () => {
    const prod = (values: Record<string, unknown>) => readSection((r) => readSsh(r, "prod"), { ...VALID, ...values }).issues;
    const dev = (values: Record<string, unknown>) => readSection((r) => readSsh(r, "dev"), { ...VALID, ...values }, { stack: "dev" }).issues;

    test.each([["0.0.0.0/0"], ["::/0"], ["0.0.0.0/1"], ["128.0.0.0/1"], ["2000::/3"]])("prod refuses %s unless visualkit:sshOpenToTheWorld says it is deliberate", (cidr) => {
        expect(prod({ sshAllowedCidrs: ["203.0.113.0/24", cidr] })).toEqual([issue("sshAllowedCidrs[1]", /opens SSH .* in prod/, /self-hosted runner.*GitHub-hosted runner has no fixed address.*sshOpenToTheWorld true -s prod/)]);
        expect(prod({ sshAllowedCidrs: ["203.0.113.0/24", cidr], sshOpenToTheWorld: "true" })).toEqual([]);
    });

    test("dev accepts it (a throwaway host), and narrow ranges pass everywhere", () => {
        expect(dev({ sshAllowedCidrs: ["0.0.0.0/0", "::/0"] })).toEqual([]);
        expect(prod({ sshAllowedCidrs: ["11.0.0.0/8", "2001::/16", "203.0.113.7/32"] })).toEqual([]);
    });

    test("visualkit:sshOpenToTheWorld without a wide range is reported, so it cannot linger unnoticed", () => {
        expect(prod({ sshOpenToTheWorld: "true" })).toEqual([issue("sshOpenToTheWorld", /no entry .* is wider/, /pulumi config rm visualkit:sshOpenToTheWorld -s prod/)]);
    });
});
