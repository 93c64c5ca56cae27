import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DOCKER_SCOPE_STOP } from "../../../render/cloud-init";
import { ROOT } from "../../helpers/program";
import { stub } from "../../helpers/shell";

/**
 * scripts/host/install-unit-file.sh with systemctl stubbed and the files under a test folder: the drop-in the
 * DockerHost component sends to servers bootstrapped before it (render/cloud-init.ts DOCKER_SCOPE_STOP), written once,
 * systemd reloaded only when the content changed, and paths outside systemd's unit folder refused.
 */

const SCRIPT = join(ROOT, "scripts", "host", "install-unit-file.sh");

let dir: string;
let calls: string;
beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "install-unit-file-"));
    calls = join(dir, "calls.log");
    writeFileSync(calls, "");
    stub(join(dir, "stubs"), "systemctl", `echo "systemctl $*" >> ${calls}`);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(path: string, input: string) {
    const r = spawnSync("bash", [SCRIPT, path], { input, encoding: "utf8", env: { PATH: `${join(dir, "stubs")}:${process.env.PATH}`, VISUALKIT_ROOT: join(dir, "root") } });
    return { status: r.status, out: r.stdout + r.stderr };
}
const reloads = () => readFileSync(calls, "utf8").split("\n").filter((l) => l === "systemctl daemon-reload").length;

test("shellcheck finds nothing in the script", () => {
    const res = spawnSync("shellcheck", [SCRIPT], { encoding: "utf8" });
    if (res.error) throw new Error(`shellcheck could not run: ${res.error.message}`);
    expect(res.stdout).toBe("");
});

test("installs the docker scope drop-in 0644 and reloads systemd; an unchanged re-run does not reload, a change does", () => {
    const target = join(dir, "root", DOCKER_SCOPE_STOP.path);
    const first = run(DOCKER_SCOPE_STOP.path, DOCKER_SCOPE_STOP.content);
    expect(first).toEqual({ status: 0, out: `${DOCKER_SCOPE_STOP.path} installed; systemd reloaded\n` });
    expect(readFileSync(target, "utf8")).toBe(DOCKER_SCOPE_STOP.content);
    expect((statSync(target).mode & 0o777).toString(8)).toBe("644");
    expect(reloads()).toBe(1);

    expect(run(DOCKER_SCOPE_STOP.path, DOCKER_SCOPE_STOP.content)).toEqual({ status: 0, out: `${DOCKER_SCOPE_STOP.path} unchanged\n` });
    expect(reloads()).toBe(1);

    const changed = DOCKER_SCOPE_STOP.content.replace(/TimeoutStopSec=\d+s/, "TimeoutStopSec=45s");
    expect(run(DOCKER_SCOPE_STOP.path, changed).status).toBe(0);
    expect(readFileSync(target, "utf8")).toBe(changed);
    expect(reloads()).toBe(2);
    // No temp file is left beside it for systemd to find.
    expect(readdirSync(dirname(target))).toEqual([DOCKER_SCOPE_STOP.path.split("/").pop()]);
});

test.each([
    ["/etc/caddy/Caddyfile", "is not a unit file"],
    ["/etc/systemd/system/../../passwd.conf", "contains '..'"],
    ["", "is not a unit file"],
])("refuses %j and changes nothing", (path, message) => {
    const r = run(path, "[Unit]\n");
    expect(r.status).toBe(1);
    expect(r.out).toContain(message);
    expect(reloads()).toBe(0);
});

test("refuses empty input and leaves the installed file as it was", () => {
    expect(run(DOCKER_SCOPE_STOP.path, DOCKER_SCOPE_STOP.content).status).toBe(0);
    const r = run(DOCKER_SCOPE_STOP.path, "");
    expect(r.status).toBe(1);
    expect(r.out).toContain("standard input is empty");
    expect(readFileSync(join(dir, "root", DOCKER_SCOPE_STOP.path), "utf8")).toBe(DOCKER_SCOPE_STOP.content);
    expect(reloads()).toBe(1);
});
