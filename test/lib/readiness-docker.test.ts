import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { HEALTH_TIMING } from "../../lib/containers";
import { readinessScript, readinessTarget } from "../../lib/readiness";
import { startDockerd, type Dockerd } from "../helpers/dockerd";
import { runProgram } from "../helpers/program";

/**
 * The readiness gate (lib/readiness.ts) against a real Docker Engine (Debian's docker.io 20.10, the servers' version),
 * started here with its own data root, socket and bridge and stopped by its PID, as container-limits-docker.test.ts
 * does. The rendered gate of platform-api's standby passes within seconds of the service answering while Docker's own
 * status is still `starting` (its first check comes one 30 s interval after the start: the wait the gate removes); a
 * check that never passes and a container that exits fail the gate, naming the container.
 */

const IMAGE = "vk-readiness-test:1";
let engine: Dockerd;
const docker = (...args: string[]) => engine.docker(...args);
const gate = (script: string) => {
    const t0 = Date.now();
    const res = spawnSync("sh", ["-c", script], { env: engine.env, encoding: "utf8", timeout: 120_000 });
    return { status: res.status, out: `${res.stdout}${res.stderr}`, seconds: (Date.now() - t0) / 1000 };
};
const health = (name: string) => docker("inspect", "-f", "{{.State.Status}} {{.State.Health.Status}}", name).stdout.trim();

beforeAll(async () => {
    engine = await startDockerd("ready");
    // busybox-static: its wget is what the rendered HTTP probe falls back to when an image has no curl; its httpd the service.
    // Debian's busybox-static wget segfaults with `-T` (seen here: exit 139), so the image gets the probe's first
    // choice, `curl -fsS -o /dev/null --max-time N URL`, as a wrapper fetching the URL (its last word) with plain wget.
    engine.importBusybox(IMAGE, ["sh", "sleep", "touch", "test", "false", "httpd", "wget", "mkdir", "echo"], (rootfs) =>
        writeFileSync(join(rootfs, "bin", "curl"), '#!/bin/sh\nfor u; do :; done\nexec wget -q -O /dev/null "$u"\n', { mode: 0o755 }),
    );
}, 90_000);

afterAll(async () => {
    await engine?.stop(["platform-api-standby", "vk-never", "vk-exits"]);
}, 60_000);

test("the rendered gate of platform-api's standby passes seconds after the service answers, while Docker still says starting", async () => {
    const run = await runProgram("dev");
    const container = run.ofType("docker:index/container:Container").find((c) => c.rawInputs.name === "platform-api-standby")!;
    const step = run.resources.find((r) => r.type === "command:remote:Command" && readinessTarget(String(r.rawInputs.create ?? "")) === "platform-api-standby")!;
    const hc = container.rawInputs.healthcheck as { tests: string[]; interval: string; startPeriod: string };
    const port = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(hc.tests[1])![1];
    // The container as the program defines its health check (the Docker CLI's flags for the same fields); the service
    // starts answering /health 2 s after the start.
    const started = docker(
        "run", "-d", "--name", "platform-api-standby", "--network", "none",
        "--health-cmd", hc.tests[1], "--health-interval", hc.interval, "--health-timeout", `${HEALTH_TIMING.timeoutSeconds}s`, "--health-retries", String(HEALTH_TIMING.retries), "--health-start-period", hc.startPeriod,
        IMAGE, "sh", "-c", `sleep 2; mkdir -p /www; echo ok > /www/health; httpd -f -p ${port} -h /www`,
    );
    expect({ status: started.status, stderr: started.stderr }).toEqual({ status: 0, stderr: "" });
    const res = gate(String(step.rawInputs.create));
    expect(res).toMatchObject({ status: 0, out: expect.stringContaining("ready") });
    expect(res.out).toMatch(/^platform-api-standby ready after \d+ s$/m);
    // Docker has not probed yet: its first check is one interval (30 s) after the start; the provider's `wait` would still be waiting.
    expect(hc.interval).toBe("30s");
    expect(health("platform-api-standby")).toBe("running starting");
}, 120_000);

test("a check that never passes fails the gate at its limit, naming the container; a container that exits fails it at once", () => {
    const never = docker("run", "-d", "--name", "vk-never", "--network", "none", "--health-cmd", "false", "--health-interval", "30s", IMAGE, "sleep", "600");
    expect(never.status).toBe(0);
    const res = gate(readinessScript({ container: "vk-never", tests: ["CMD-SHELL", "test -f /tmp/ready"], probeTimeoutSeconds: 5, limitSeconds: 3 }));
    expect(res.status).toBe(1);
    expect(res.out).toContain("readiness: vk-never did not pass its health check in 3 s");
    expect(res.seconds).toBeLessThan(15);

    const exits = docker("run", "-d", "--name", "vk-exits", "--network", "none", "--health-cmd", "true", "--health-interval", "30s", IMAGE, "sh", "-c", "echo bye; exit 3");
    expect(exits.status).toBe(0);
    spawnSync("sleep", ["1"]);
    const gone = gate(readinessScript({ container: "vk-exits", tests: ["CMD", "test", "-f", "/tmp/ready"], probeTimeoutSeconds: 5, limitSeconds: 60 }));
    expect(gone.status).toBe(1);
    expect(gone.out).toContain("readiness: vk-exits is exited");
    expect(gone.out).toContain("bye");
    expect(gone.seconds).toBeLessThan(10);
}, 120_000);

test("dockerd was this test's own and is still running (a failed start would make the checks above vacuous)", () => {
    expect(engine.running()).toBe(true);
});
