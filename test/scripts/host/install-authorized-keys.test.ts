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
const authorized = () => readFileSync(join(sshDir, "authorized_keys"), "utf8");

test("replaces authorized_keys with exactly the given keys, readable by root only", () => {
    writeFileSync(join(sshDir, "authorized_keys"), `${KEY_A}\nssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC0ld old-removed-key\n`);
    const res = run(`${KEY_A}\n${KEY_B}\n`);
    expect(res).toMatchObject({ status: 0, stdout: "authorized_keys now holds 2 keys\n" });
    expect(authorized()).toBe(`${KEY_A}\n${KEY_B}\n`);
    expect(statSync(join(sshDir, "authorized_keys")).mode & 0o777).toBe(0o600);
});

test("refuses an input without a key and leaves the old file alone (no lock-out)", () => {
    writeFileSync(join(sshDir, "authorized_keys"), `${KEY_A}\n`);
    const res = run("\n# nothing here\n");
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("no public key on standard input");
    expect(authorized()).toBe(`${KEY_A}\n`);
});
