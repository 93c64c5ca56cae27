import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { ROOT } from "../../helpers/program";

/** The key-sync script against a scratch .ssh folder, fed on standard input as the remote command feeds it. */
let sshDir: string;
beforeEach(() => {
    sshDir = mkdtempSync(join(tmpdir(), "vk-keys-"));
});
afterEach(() => rmSync(sshDir, { recursive: true, force: true }));

const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEWtOjFYbf4ORWFI8STa7hIP6udHFvc03LP90/G8BUoe ops-laptop";
const KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMl9/JEi4YjZ3PB6MZEsTI9IzbxA4k41036ci93unqjY ci-deploy";
const run = (stdin: string) =>
    spawnSync("bash", [join(ROOT, "scripts/host/install-authorized-keys.sh")], { input: stdin, encoding: "utf8", env: { ...process.env, VISUALKIT_SSH_DIR: sshDir } });
const header = (n: number) => `# visualkit-authorized-keys: ${n}\n`;
const authorized = () => readFileSync(join(sshDir, "authorized_keys"), "utf8");

test("replaces authorized_keys with exactly the given keys, readable by root only", () => {
    writeFileSync(join(sshDir, "authorized_keys"), `${KEY_A}\nssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC0ld old-removed-key\n`);
    const res = run(`${header(2)}${KEY_A}\n${KEY_B}\n`);
    expect(res).toMatchObject({ status: 0, stdout: "authorized_keys now holds 2 keys\n" });
    expect(authorized()).toBe(`${KEY_A}\n${KEY_B}\n`);
    expect(statSync(join(sshDir, "authorized_keys")).mode & 0o777).toBe(0o600);
});

test("refuses an input without a key and leaves the old file alone (no lock-out)", () => {
    writeFileSync(join(sshDir, "authorized_keys"), `${KEY_A}\n`);
    const res = run(`${header(0)}\n`);
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("no public key on standard input");
    expect(authorized()).toBe(`${KEY_A}\n`);
});

describe("refuses, leaving the file as it was, an input that is not what the program sent", () => {
    beforeEach(() => writeFileSync(join(sshDir, "authorized_keys"), `${KEY_A}\n`));

    // Before: a line break inside one visualkit:sshPublicKeys entry reached the script as two key lines, and both
    // were installed (Hetzner had one key, authorized_keys two).
    test.each([
        ["one key more than the header says (a smuggled line)", `${header(1)}${KEY_A}\n${KEY_B}\n`, /2 keys on standard input, 1 expected/],
        ["one key fewer", `${header(2)}${KEY_A}\n`, /1 keys on standard input, 2 expected/],
        ["no header", `${KEY_A}\n`, /first line is not '# visualkit-authorized-keys: <count>'/],
        ["a line that is not a key", `${header(1)}${KEY_A}\ncommand="curl evil" hidden\n`, /1 line\(s\) on standard input are not public keys/],
        ["a carriage return inside a key line", `${header(1)}${KEY_A.replace(" ops-laptop", " ops\rlaptop")}\n`, /control character/],
    ])("%s", (_name, input, message) => {
        const res = run(input);
        expect(res.status).toBe(1);
        expect(res.stderr).toMatch(message);
        expect(res.stderr).toContain("left as it was");
        expect(authorized()).toBe(`${KEY_A}\n`);
    });
});
