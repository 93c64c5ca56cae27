import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ed25519HostKey, pinnedHostKeyOptions } from "../../lib/ssh-host-key";
import { hostKeySecret } from "../../scripts/install-host-key";
import { ROOT } from "../helpers/program";
import { startSshd, type LocalSshd } from "../helpers/sshd";

/**
 * `npm run install-host-key` against a real sshd standing in for a server created before host keys were pinned: it
 * presents a key of its own (OLD). The script installs the program's key (derived from the state's secret) over a
 * connection pinned to OLD; afterwards the server presents the program's key, which the program's clients accept.
 */

const SECRET = "generated-host-key-secret-in-the-state-0123456789abcdefghijklmnop";
const PROGRAM_KEY = ed25519HostKey(SECRET, "visualkit-main");
const OLD = ed25519HostKey("the key the server generated on its first boot", "root@old");
const ELSE = ed25519HostKey("a machine in the middle", "x");

let dir: string;
let server: LocalSshd;
let stateFile: string;

beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "vk-install-host-key-"));
    const sshdDir = join(dir, "sshd");
    // The script finds the key files, the config and the reload where the real server has them; here in sshdDir.
    server = await startSshd(
        sshdDir,
        { VISUALKIT_SSH_ETC: sshdDir, VISUALKIT_SSHD_CONFIG: join(sshdDir, "sshd_config"), VISUALKIT_SSHD_RELOAD: `kill -HUP $(cat ${join(sshdDir, "sshd.pid")})` },
        { hostKey: OLD.privateKey, logLevel: "DEBUG1", hostKeyFile: "ssh_host_ed25519_key" },
    );
    // A stack export with --show-secrets: the secret as Pulumi writes it (sig + JSON-encoded plaintext).
    stateFile = join(dir, "state.json");
    writeFileSync(
        stateFile,
        JSON.stringify({
            deployment: {
                resources: [
                    { urn: "urn:pulumi:prod::visualkit::visualkit:hetzner:HetznerHost$random:index/randomPassword:RandomPassword::visualkit-prod-main-ssh-host-key", type: "random:index/randomPassword:RandomPassword", outputs: { result: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", plaintext: JSON.stringify(SECRET) } } },
                    { urn: "urn:pulumi:prod::visualkit::random:index/randomPassword:RandomPassword::visualkit-prod-secrets-redis", type: "random:index/randomPassword:RandomPassword", outputs: { result: "other" } },
                ],
            },
        }),
    );
}, 30_000);

afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
});

const install = (currentKey: string) =>
    spawnSync(
        process.execPath,
        [join(ROOT, "scripts/run-ts.js"), join(ROOT, "scripts/install-host-key.ts"), "prod", "--host", "root@127.0.0.1", "--port", String(server.port), "--identity", server.identity, "--state", stateFile, "--current-key", currentKey],
        { encoding: "utf8", timeout: 60_000 },
    );
const presented = () => spawnSync("ssh-keyscan", ["-t", "ed25519", "-p", String(server.port), "127.0.0.1"], { encoding: "utf8" }).stdout.trim().split(/\s+/).slice(1, 3).join(" ");
const blob = (k: { publicKey: string }) => k.publicKey.split(" ").slice(0, 2).join(" ");
const pinnedLogin = (key: string) =>
    spawnSync("ssh", [...pinnedHostKeyOptions(key), "-o", "BatchMode=yes", "-p", String(server.port), "-i", server.identity, "-o", "IdentitiesOnly=yes", "root@127.0.0.1", "true"], { encoding: "utf8", timeout: 20_000 });

test("reads the host's secret from a stack export, in plain or --show-secrets form, and refuses an export without it", () => {
    const state = JSON.parse(readFileSync(stateFile, "utf8"));
    expect(hostKeySecret(state, "prod", "main")).toBe(SECRET);
    expect(() => hostKeySecret(state, "dev", "main")).toThrow(/0 host key secrets for host main/);
});

test("pinned to a key the server does not present: refused before authenticating, the server's key untouched", () => {
    const before = (server.log().match(/userauth-request/g) ?? []).length;
    const res = install(ELSE.publicKey);
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/Host key verification failed/);
    expect((server.log().match(/userauth-request/g) ?? []).length).toBe(before);
    expect(presented()).toBe(blob(OLD));
});

test("pinned to the key it presents now: the program's key is installed and served; the program's clients get in, the old pin no longer does", async () => {
    expect(pinnedLogin(PROGRAM_KEY.publicKey).status).toBe(255);
    const res = install(OLD.publicKey);
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: "" });
    expect(res.stdout).toContain("run pulumi up -s prod again");
    // sshd re-executes itself on SIGHUP; new connections get the new key.
    for (let i = 0; i < 50 && presented() !== blob(PROGRAM_KEY); i++) await new Promise((r) => setTimeout(r, 100));
    expect(presented()).toBe(blob(PROGRAM_KEY));
    expect(pinnedLogin(PROGRAM_KEY.publicKey).status).toBe(0);
    expect(pinnedLogin(OLD.publicKey).status).toBe(255);
    // Re-running (pinned to the new key now) writes the same key again.
    expect(install(PROGRAM_KEY.publicKey).status).toBe(0);
});
