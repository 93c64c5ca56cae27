import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { RecordedResource } from "../../mocks/runtime";
import { containerRequest } from "../host/lib/docker";
import { startDockerd, type Dockerd } from "../helpers/dockerd";
import { runProgram } from "../helpers/program";

/**
 * The container limits against a real Docker Engine (Debian's docker.io 20.10, the servers' version), started here
 * with its own data root, socket and bridge and stopped by its PID: the rendered sidekiq container's limits and
 * privileges, as the Engine API request the provider sends holds them (test/host/lib/docker.ts) and passed on through
 * the docker CLI, are accepted; what Docker reads back is what the program wrote (the provider stores the read-back, and every one of these inputs is
 * ForceNew: a different spelling would replace the container on each `pulumi up`); the rendered `docker update` step
 * sets the pids limit; inside, no-new-privileges holds, the capabilities are gone and a fork loop stops at the limit.
 */

const IMAGE = "vk-limits-test:1";
let engine: Dockerd;
let sidekiq: RecordedResource;
let pidsStep: RecordedResource;

const docker = (...args: string[]) => engine.docker(...args);

beforeAll(async () => {
    const run = await runProgram("dev");
    sidekiq = run.ofType("docker:index/container:Container").find((c) => c.rawInputs.name === "chatwoot-sidekiq")!;
    pidsStep = run.resources.find((r) => r.type === "command:remote:Command" && String(r.rawInputs.create).includes("--pids-limit") && String(r.rawInputs.create).includes(" chatwoot-sidekiq "))!;

    engine = await startDockerd("limits");
    // A one-binary image: busybox (busybox-static) with the few applets the checks use.
    engine.importBusybox(IMAGE, ["sh", "sleep", "cat", "grep"]);
}, 90_000);

afterAll(async () => {
    await engine?.stop(["vk-limits"]);
}, 60_000);

test("the rendered limits and privileges are what Docker enforces and reads back, and the pids step caps forks", () => {
    // The provider's request for the rendered container; only its limits and privileges are kept here (its networks,
    // volumes and command belong to the real host).
    const request = containerRequest(sidekiq.rawInputs, () => IMAGE, () => Buffer.from(""));
    const host = request.body.HostConfig as Record<string, unknown>;
    const limits = ["Memory", "MemorySwap", "NanoCpus", "SecurityOpt", "CapAdd", "CapDrop"];
    const flags = [
        `--memory=${Number(host.Memory)}b`,
        `--memory-swap=${Number(host.MemorySwap)}b`,
        `--cpus=${Number(host.NanoCpus) / 1e9}`,
        ...(host.SecurityOpt as string[]).map((o) => `--security-opt=${o}`),
        ...(host.CapDrop as string[]).map((c) => `--cap-drop=${c}`),
        ...(host.CapAdd as string[]).map((c) => `--cap-add=${c}`),
    ];
    expect(limits.every((k) => k in host)).toBe(true);
    const created = docker("run", "-d", "--name", "vk-limits", "--network", "none", ...flags, IMAGE, "sleep", "600");
    expect({ status: created.status, stderr: created.stderr }).toEqual({ status: 0, stderr: "" });

    // Read back as the provider reads it (resource_docker_container_funcs.go v4.5.0 lines 854-947).
    const inspected = JSON.parse(docker("inspect", "vk-limits").stdout)[0].HostConfig as Record<string, unknown>;
    expect(inspected.CapDrop).toEqual(sidekiq.rawInputs.capabilities && (sidekiq.rawInputs.capabilities as { drops: string[] }).drops);
    expect(inspected.SecurityOpt).toEqual(sidekiq.rawInputs.securityOpts);
    expect(Number(inspected.Memory) / 1024 / 1024).toBe(sidekiq.rawInputs.memory);
    expect(Number(inspected.MemorySwap) / 1024 / 1024).toBe(sidekiq.rawInputs.memorySwap);
    expect(Number(inspected.NanoCpus)).toBe(Number(sidekiq.rawInputs.cpus) * 1e9);

    // The rendered step, as the host runs it.
    const update = spawnSync("sh", ["-c", String(pidsStep.rawInputs.create).replace("chatwoot-sidekiq", "vk-limits")], { env: engine.env, encoding: "utf8" });
    expect({ status: update.status, stderr: update.stderr }).toEqual({ status: 0, stderr: "" });
    const pids = Number(/--pids-limit (\d+)/.exec(String(pidsStep.rawInputs.create))![1]);
    expect(JSON.parse(docker("inspect", "vk-limits").stdout)[0].HostConfig.PidsLimit).toBe(pids);

    const status = docker("exec", "vk-limits", "cat", "/proc/1/status").stdout;
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    // CAP_CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID: bits 0, 1, 3, 4, 5, 6, 7.
    expect(/^CapBnd:\s+([0-9a-f]+)$/m.exec(status)![1]).toBe("00000000000000fb");
    const forks = docker("exec", "vk-limits", "sh", "-c", `n=0; while [ $n -lt ${pids + 20} ]; do sleep 60 & n=$((n+1)); done; echo done`);
    expect(forks.stderr).toMatch(/can't fork/);
}, 120_000);

test("dockerd was this test's own and is still running (a failed start would make the checks above vacuous)", () => {
    expect(engine.running()).toBe(true);
    expect(existsSync(join(engine.dir, "docker.sock"))).toBe(true);
});
