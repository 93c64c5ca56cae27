import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../helpers/program";
import { stub } from "../../helpers/shell";
import { removeAsRoot, runAsRoot } from "../../helpers/coturn";

/**
 * scripts/host/install-coturn.sh with apt-get and systemctl stubbed and every file under a test folder: what it
 * writes, that a second run with the same config does not restart coturn (a restart drops relayed calls), and the
 * certificate sync it generates. The nftables rules it writes are proven in test/render/coturn-netns.test.ts.
 */

const SCRIPT = join(ROOT, "scripts", "host", "install-coturn.sh");
const CONF = "listening-port=3478\nstatic-auth-secret=abcdefABCDEF0123456789\n";

let dir: string;
let root: string;
let stubs: string;
let calls: string;
beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "install-coturn-"));
    root = join(dir, "root");
    stubs = join(dir, "stubs");
    calls = join(dir, "calls.log");
    writeFileSync(calls, "");
    for (const cmd of ["systemctl", "apt-get"]) stub(stubs, cmd, `echo "${cmd} $*" >> ${calls}`);
});
afterEach(() => removeAsRoot(dir));

/** The script runs as root (it installs files owned by root:turnserver), with apt-get and systemctl stubbed. */
const env = () => ({ PATH: `${stubs}:${process.env.PATH}`, VISUALKIT_TURN_ROOT: root, CADDY_CERTIFICATES: join(dir, "caddy"), TURN_TLS_DIR: join(dir, "tls") });
const ARGS = ["198.51.100.20", "5349", "443", "turn.example.com", "203.0.113.10", "10000-60000"];
function run(conf = CONF, args = ARGS) {
    const r = runAsRoot(["bash", SCRIPT, ...args], env(), conf);
    return { status: r.status, out: r.out };
}
const log = () => readFileSync(calls, "utf8");
/** Reads a file only root and turnserver may read. */
const readRoot = (path: string) => runAsRoot(["cat", path], {}).stdout;
/** Mode (octal) and group name of a file. */
const modeOf = (path: string) => runAsRoot(["stat", "-c", "%a %G", path], {}).stdout.trim();

test("shellcheck finds nothing in the script or in the scripts it generates", () => {
    expect(run().status).toBe(0);
    for (const file of [SCRIPT, `${root}/usr/local/sbin/visualkit-turn-address`, `${root}/usr/local/sbin/visualkit-turn-cert-sync`]) {
        const res = spawnSync("shellcheck", [file], { encoding: "utf8" });
        if (res.error) throw new Error(`shellcheck could not run: ${res.error.message}`);
        expect({ file, out: res.stdout }).toEqual({ file, out: "" });
    }
});

test("writes the config 0640 root:turnserver, the address unit and the nftables redirect to the TURN address itself", () => {
    const r = run();
    expect(r.status).toBe(0);
    expect(modeOf(`${root}/etc/turnserver.conf`)).toBe("640 turnserver");
    expect(readRoot(`${root}/etc/turnserver.conf`)).toBe(CONF);
    const nft = readFileSync(`${root}/etc/visualkit/turn-address.nft`, "utf8");
    expect(nft).toContain("ip daddr 198.51.100.20 tcp dport 443 dnat to 198.51.100.20:5349");
    expect(nft).not.toContain("redirect");
    // coturn's own packets to Janus's address: the RTP range only.
    expect(nft).toContain('meta skuid "turnserver" ip daddr 203.0.113.10 udp dport != 10000-60000 counter drop');
    expect(readFileSync(`${root}/usr/local/sbin/visualkit-turn-address`, "utf8")).toContain("ip addr replace 198.51.100.20/32");
    expect(log()).toContain("systemctl restart coturn.service");
    expect(log()).toContain("systemctl enable --now visualkit-turn-address.service visualkit-turn-cert-sync.timer");
    // The secret travels on stdin only.
    expect(log()).not.toContain("abcdef");
});

test("a second run with the same config does not restart coturn; a changed config does", () => {
    expect(run().status).toBe(0);
    writeFileSync(calls, "");
    const again = run();
    expect(again.out).toContain("config unchanged");
    expect(log()).not.toContain("restart coturn.service");
    expect(log()).toContain("systemctl start coturn.service");
    writeFileSync(calls, "");
    expect(run(CONF + "verbose\n").out).toContain("config updated");
    expect(log()).toContain("systemctl restart coturn.service");
});

test("on a host without coturn, the unit is masked before the package is installed and unmasked once the config is written", () => {
    // A PATH with the system tools the script uses, but neither turnserver nor nft: the install branch runs.
    const bin = join(dir, "bin");
    mkdirSync(bin);
    for (const tool of ["bash", "cat", "grep", "install", "mktemp", "rm", "mv", "chmod", "cmp", "env", "dirname"]) {
        const path = spawnSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
        if (path) symlinkSync(path, join(bin, tool));
    }
    const r = runAsRoot(["bash", SCRIPT, ...ARGS], { ...env(), PATH: `${stubs}:${bin}` }, CONF);
    expect(r.status).toBe(0);
    const lines = log().split("\n");
    const at = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix));
    expect(at("systemctl mask coturn.service")).toBeGreaterThanOrEqual(0);
    expect(at("systemctl mask coturn.service")).toBeLessThan(at("apt-get install"));
    expect(at("apt-get install")).toBeLessThan(at("systemctl unmask coturn.service"));
    expect(at("systemctl unmask coturn.service")).toBeLessThan(at("systemctl restart coturn.service"));
    expect(readRoot(`${root}/etc/turnserver.conf`)).toBe(CONF);
});

test("refuses a config without the shared secret, and arguments that are not an address, ports and a hostname", () => {
    expect(run("listening-port=3478\n")).toMatchObject({ status: 1 });
    expect(run(CONF, ["not-an-ip", ...ARGS.slice(1)])).toMatchObject({ status: 2 });
    expect(run(CONF, [...ARGS.slice(0, 3), "turn example", ...ARGS.slice(4)])).toMatchObject({ status: 2 });
    expect(run(CONF, [...ARGS.slice(0, 5), "10000"])).toMatchObject({ status: 2 });
    expect(run(CONF, ARGS.slice(0, 4))).toMatchObject({ status: 2 });
    expect(log()).toBe("");
});

test("the certificate sync copies Caddy's certificate, restarts coturn the first time and signals it after", () => {
    expect(run().status).toBe(0);
    const sync = `${root}/usr/local/sbin/visualkit-turn-cert-sync`;
    const syncRun = () => runAsRoot([sync], env());
    writeFileSync(calls, "");
    expect(syncRun().stdout).toContain("no certificate for turn.example.com yet");
    expect(log()).toBe("");

    const store = join(dir, "caddy", "acme-v02.api.letsencrypt.org-directory", "turn.example.com");
    mkdirSync(store, { recursive: true });
    writeFileSync(join(store, "turn.example.com.crt"), "CERT-1");
    writeFileSync(join(store, "turn.example.com.key"), "KEY-1");
    expect(syncRun().status).toBe(0);
    expect(readRoot(join(dir, "tls", "turn.crt"))).toBe("CERT-1");
    expect(modeOf(join(dir, "tls", "turn.key"))).toBe("640 turnserver");
    expect(log()).toBe("systemctl restart coturn.service\n");

    writeFileSync(calls, "");
    expect(syncRun().status).toBe(0);
    expect(log()).toBe("");

    writeFileSync(join(store, "turn.example.com.crt"), "CERT-2");
    expect(syncRun().status).toBe(0);
    expect(readRoot(join(dir, "tls", "turn.crt"))).toBe("CERT-2");
    expect(log()).toBe("systemctl kill -s USR2 coturn.service\n");
});
