import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runHostScript, stub } from "../../helpers/shell";

/** The readiness script with stub cloud-init, docker, curl and caddy that answer as a healthy or broken host would. */
let stubs: string;
beforeEach(() => {
    stubs = mkdtempSync(join(tmpdir(), "vk-ready-"));
    stub(stubs, "cloud-init", 'echo "status: done"');
    stub(stubs, "docker", 'echo "20.10.24+dfsg1"');
    stub(stubs, "curl", "exit 0");
    stub(stubs, "caddy", 'echo "v2.6.2 h1:abc="');
});
afterEach(() => rmSync(stubs, { recursive: true, force: true }));

const run = (timeout: string) => runHostScript("wait-ready.sh", [timeout], { stubDir: stubs });

test("a healthy host: exit 0 with what is running", () => {
    expect(run("60")).toMatchObject({ status: 0, stdout: "host ready: cloud-init done, Docker 20.10.24+dfsg1, v2.6.2\n" });
});

test("cloud-init finished with errors: exit 1 with its long status and where to look", () => {
    stub(stubs, "cloud-init", 'if [ "$2" = "--long" ]; then echo "status: error"; echo "errors: runcmd failed"; fi; exit 1');
    const res = run("60");
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("host not ready: cloud-init finished with errors: status: error errors: runcmd failed");
    expect(res.stderr).toContain("/var/log/cloud-init-output.log");
});

test("cloud-init done with recoverable errors (exit 2 since cloud-init 23.4): a warning, and the host is ready", () => {
    stub(stubs, "cloud-init", 'if [ "$2" = "--long" ]; then echo "status: done"; echo "recoverable_errors: DEPRECATED: 1"; exit 0; fi; exit 2');
    const res = run("60");
    expect(res.status).toBe(0);
    expect(res.stderr).toContain("warning: cloud-init finished with recoverable errors: status: done recoverable_errors: DEPRECATED: 1");
});

test("cloud-init still running when the time is up: exit 1, bounded by the timeout", () => {
    stub(stubs, "cloud-init", "exec sleep 30");
    const res = run("1");
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("host not ready: cloud-init still running after 1s");
});

test("Docker not answering: exit 1 naming the Docker daemon", () => {
    stub(stubs, "docker", "exit 1");
    const res = run("0");
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("host not ready: the Docker daemon does not answer");
});

test("Caddy not answering: exit 1 naming Caddy", () => {
    stub(stubs, "curl", "exit 7");
    const res = run("0");
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("host not ready: Caddy does not answer on http://127.0.0.1/");
});
