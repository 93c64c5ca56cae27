import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IMAGE_PRUNE_DEFAULTS, IMAGE_PRUNE_UNITS, renderImagePruneInstall, renderImagePruneUnits } from "../../render/image-prune";

/** The image-prune timer: shellcheck, a real shell running the install twice, systemd-analyze on the units. */

let dir: string;
beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "vk-prune-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const install = (root: string) => spawnSync("sh", ["-c", renderImagePruneInstall(IMAGE_PRUNE_DEFAULTS)], { encoding: "utf8", env: { ...process.env, VISUALKIT_INSTALL_ROOT: root } });

test("shellcheck accepts the install script", () => {
    const res = spawnSync("shellcheck", ["-s", "sh", "-"], { input: renderImagePruneInstall(IMAGE_PRUNE_DEFAULTS), encoding: "utf8" });
    expect(res.stdout + res.stderr).toBe("");
    expect(res.status).toBe(0);
});

test("the install runs twice with the same result (a re-run of the remote step), leaving no .new files", () => {
    const root = join(dir, "root");
    const first = install(root);
    expect([first.status, first.stderr]).toEqual([0, ""]);
    const files = () => readdirSync(join(root, "etc/systemd/system")).sort().map((f) => [f, readFileSync(join(root, "etc/systemd/system", f), "utf8")]);
    const before = files();
    const second = install(root);
    expect([second.status, second.stderr]).toEqual([0, ""]);
    expect(files()).toEqual(before);
    expect(before.map(([f]) => f)).toEqual([IMAGE_PRUNE_UNITS.service, IMAGE_PRUNE_UNITS.timer]);
});

test("systemd accepts the units; the service removes unused images older than the age, the timer is persistent", () => {
    const root = join(dir, "root");
    expect(install(root).status).toBe(0);
    cpSync("/usr/lib/systemd/system", join(root, "usr/lib/systemd/system"), { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(root, "etc/systemd/system/docker.service"), "[Unit]\nDescription=Docker\n[Service]\nExecStart=/bin/true\n");
    // Debian's docker.io (what cloud-init installs) puts the client at /usr/bin/docker; verify checks ExecStart exists.
    cpSync(spawnSync("sh", ["-c", "command -v docker"], { encoding: "utf8" }).stdout.trim(), join(root, "usr/bin/docker"));
    const units = Object.values(IMAGE_PRUNE_UNITS).map((u) => `/etc/systemd/system/${u}`);
    const res = spawnSync("systemd-analyze", ["verify", "--man=no", `--root=${root}`, ...units], { encoding: "utf8" });
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: "" });
    const service = renderImagePruneUnits(IMAGE_PRUNE_DEFAULTS)[IMAGE_PRUNE_UNITS.service];
    expect(service).toMatch(/^ExecStart=\/usr\/bin\/docker image prune --all --force --filter until=336h$/m);
    // docker's own parser accepts exactly these arguments (it refuses an unknown flag before contacting a daemon).
    const help = spawnSync("docker", ["image", "prune", "--help"], { encoding: "utf8" });
    expect(help.stdout).toMatch(/--all/);
    expect(help.stdout).toMatch(/--filter/);
    expect(() => renderImagePruneUnits({ ...IMAGE_PRUNE_DEFAULTS, olderThanDays: 0 })).toThrow(/olderThanDays/);
});
