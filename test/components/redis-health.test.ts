import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RecordedResource } from "../../mocks/runtime";
import { runProgram } from "../helpers/program";

/**
 * Chatwoot's Redis health check, run as Docker runs it (`/bin/sh -c <CMD-SHELL string>` with the container's
 * environment) against a real redis-server that requires the generated password, in a network namespace of its own
 * (so its port 6379, the one the check uses, is free). A `redis-cli` wrapper records its command line — what `ps`
 * shows every user on the host each time the check runs — before running the real one.
 */

const PASSWORD = "generated-redis-password-0123456789";
let redis: RecordedResource;
let dir: string;

beforeAll(async () => {
    const run = await runProgram("prod", { state: (type, name) => (type === "random:index/randomPassword:RandomPassword" && name.endsWith("-redis") ? { result: PASSWORD } : undefined) });
    redis = run.ofType("docker:index/container:Container").find((c) => c.rawInputs.name === "chatwoot-redis")!;
    dir = mkdtempSync(join(tmpdir(), "vk-redis-health-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the health check in a fresh network namespace with redis-server on 127.0.0.1:6379; returns its status and the recorded argv. */
function healthCheck(env: readonly string[]): { status: number | null; argv: string; stderr: string } {
    const tests = (redis.rawInputs.healthcheck as { tests: string[] }).tests;
    expect(tests[0]).toBe("CMD-SHELL");
    writeFileSync(join(dir, "redis.conf"), `bind 127.0.0.1\nport 6379\nrequirepass "${PASSWORD}"\nsave ""\nappendonly no\ndir ${dir}\n`);
    writeFileSync(join(dir, "redis-cli"), `#!/bin/sh\nprintf '%s\\n' "redis-cli $*" >> ${dir}/argv.log\nexec /usr/bin/redis-cli "$@"\n`);
    chmodSync(join(dir, "redis-cli"), 0o755);
    writeFileSync(join(dir, "argv.log"), "");
    const script = [
        "ip link set lo up",
        `redis-server ${dir}/redis.conf >${dir}/redis.log 2>&1 & pid=$!`,
        `for i in $(seq 50); do /usr/bin/redis-cli --no-auth-warning -a "${PASSWORD}" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done`,
        // As Docker runs a CMD-SHELL check: /bin/sh -c with the container's environment only.
        `env -i PATH=${dir}:/usr/bin:/bin "$@" /bin/sh -c "$CHECK"; rc=$?`,
        "kill $pid; wait $pid 2>/dev/null",
        "exit $rc",
    ].join("\n");
    const res = spawnSync("unshare", ["-n", "sh", "-c", script, "sh", ...env], { env: { ...process.env, CHECK: tests[1] }, encoding: "utf8", timeout: 20_000 });
    return { status: res.status, argv: readFileSync(join(dir, "argv.log"), "utf8"), stderr: res.stderr };
}

test("the Redis container's environment carries the password for redis-cli (REDISCLI_AUTH), and its health check's text does not", () => {
    const envs = redis.rawInputs.envs as string[];
    expect(envs).toContain(`REDISCLI_AUTH=${PASSWORD}`);
    expect(JSON.stringify(redis.rawInputs.healthcheck)).not.toContain(PASSWORD);
});

test("the health check authenticates to a real Redis with the container's environment, and no command line carries the password", () => {
    const res = healthCheck(redis.rawInputs.envs as string[]);
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: "" });
    expect(res.argv).toMatch(/^redis-cli .*ping/m);
    expect(res.argv).not.toContain(PASSWORD);
});

test("it really checks: without the password Redis answers NOAUTH and the check fails", () => {
    const res = healthCheck((redis.rawInputs.envs as string[]).filter((e) => !e.includes(PASSWORD)));
    expect(res.status).not.toBe(0);
});
