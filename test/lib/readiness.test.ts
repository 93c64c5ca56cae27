import { spawnSync } from "node:child_process";
import { probeArgs, readinessScript, readinessTarget } from "../../lib/readiness";
import { runProgram } from "../helpers/program";

/** The readiness gate's text (lib/readiness.ts); its behaviour against a real engine is test/lib/readiness-docker.test.ts. */

test.each(["dev", "prod"])("every readiness gate of the %s program is shellcheck-clean and names its container", async (stack) => {
    const run = await runProgram(stack);
    const gates = run.ofType("command:remote:Command").filter((c) => readinessTarget(String(c.rawInputs.create ?? "")) !== undefined);
    expect(gates.length).toBeGreaterThanOrEqual(6);
    for (const g of gates) {
        const res = spawnSync("shellcheck", ["-s", "sh", "-"], { input: String(g.rawInputs.create), encoding: "utf8" });
        expect({ gate: g.name, status: res.status, out: res.stdout }).toEqual({ gate: g.name, status: 0, out: "" });
    }
});

test("the probe is the health check's own command: CMD-SHELL through /bin/sh -c, CMD as its argv; anything else is refused", () => {
    expect(probeArgs(["CMD-SHELL", "pg_isready"])).toEqual(["/bin/sh", "-c", "pg_isready"]);
    expect(probeArgs(["CMD", "redis-cli", "ping"])).toEqual(["redis-cli", "ping"]);
    expect(() => probeArgs(["NONE"])).toThrow(/neither CMD-SHELL/);
    expect(() => readinessScript({ container: "a; rm -rf /", tests: ["CMD", "true"], probeTimeoutSeconds: 1, limitSeconds: 1 })).toThrow(/not a plain Docker name/);
});
