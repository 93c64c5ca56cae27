import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { janusSettings, janusTestSettings, renderJanusFiles } from "../../render/janus";
import { debianLayout, testJanusSecrets } from "../helpers/janus";
import { parsedStack, ROOT } from "../helpers/program";

/**
 * The Janus image's entry point (images/janus/start-janus.sh) against the transports the program renders: it runs
 * Janus only once the bind address is on an interface with carrier, and gives up with a clear message so Docker's
 * restart policy tries again. Carrier is read from a stand-in of /sys/class/net (the address itself is the real
 * loopback, found with the real `ip`).
 */

const SCRIPT = join(ROOT, "images", "janus", "start-janus.sh");
const tmp = mkdtempSync(join(tmpdir(), "vk-start-janus-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A configs folder with the rendered transports bound to `address`, and a sys folder where `lo` has `carrier`. */
function setup(name: string, address: string, carrier: "0" | "1" | "absent"): { configs: string; sys: string } {
    const { config, catalog } = parsedStack("dev");
    const s = janusSettings(catalog, config);
    const configs = join(tmp, name, "configs");
    const files = renderJanusFiles(janusTestSettings(s, { bindAddress: address, ports: s.ports, layout: debianLayout(configs) }), testJanusSecrets("secret"));
    const sys = join(tmp, name, "sys");
    mkdirSync(configs, { recursive: true });
    mkdirSync(join(sys, "lo"), { recursive: true });
    for (const [file, text] of Object.entries(files)) writeFileSync(join(configs, file), text);
    if (carrier !== "absent") writeFileSync(join(sys, "lo", "carrier"), `${carrier}\n`);
    return { configs, sys };
}

function run(dirs: { configs: string; sys: string }, wait: number) {
    const res = spawnSync("sh", [SCRIPT, "echo", "janus ran with", `--configs-folder=${dirs.configs}`], {
        encoding: "utf8",
        env: { ...process.env, VISUALKIT_SYS_CLASS_NET: dirs.sys, VISUALKIT_JANUS_BIND_WAIT: String(wait) },
        timeout: 30_000,
    });
    return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

test("the image's entry point is this script, in front of Janus", () => {
    const dockerfile = readFileSync(join(ROOT, "images", "janus", "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^COPY start-janus\.sh \/usr\/local\/bin\/start-janus$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/local\/bin\/start-janus", "\/usr\/bin\/janus", "--configs-folder=\/etc\/janus"\]$/m);
});

test("passes shellcheck as a POSIX sh script", () => {
    const res = spawnSync("shellcheck", ["-s", "sh", SCRIPT], { encoding: "utf8" });
    if (res.error) throw new Error(`shellcheck could not run (is it installed?): ${res.error.message}`);
    expect(res.stdout).toBe("");
});

test("with the bind address on an interface with carrier, Janus runs at once with its arguments", () => {
    const dirs = setup("up", "127.0.0.1", "1");
    const r = run(dirs, 5);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("start-janus: 127.0.0.1 is on lo");
    expect(r.stdout).toContain(`janus ran with --configs-folder=${dirs.configs}`);
});

test("without carrier it waits, then exits 1 naming the address, and Janus never runs", () => {
    const r = run(setup("down", "127.0.0.1", "0"), 2);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("waiting for 127.0.0.1");
    expect(r.stderr).toContain("127.0.0.1 is not on an interface with carrier after 2 s; exiting so Docker restarts Janus");
    expect(r.stdout).not.toContain("janus ran");
});

test("an address no interface holds is waited for the same way", () => {
    const r = run(setup("absent", "192.0.2.77", "absent"), 1);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("192.0.2.77 is not on an interface with carrier");
});

test("carrier arriving during the wait starts Janus", async () => {
    const dirs = setup("later", "127.0.0.1", "0");
    const child = spawn("sh", [SCRIPT, "echo", "janus ran", `--configs-folder=${dirs.configs}`], {
        env: { ...process.env, VISUALKIT_SYS_CLASS_NET: dirs.sys, VISUALKIT_JANUS_BIND_WAIT: "20" },
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    await new Promise((r) => setTimeout(r, 1500));
    expect(out).not.toContain("janus ran");
    writeFileSync(join(dirs.sys, "lo", "carrier"), "1\n");
    const code = await new Promise<number | null>((r) => child.on("exit", r));
    expect(code).toBe(0);
    expect(out).toContain("janus ran");
});

test("listeners on all addresses need no interface", () => {
    const r = run(setup("any", "0.0.0.0", "0"), 1);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("janus ran with");
});
