import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./program";

/** Runs a script of scripts/host/ with bash, with stub commands from `stubDir` ahead of the real ones on PATH. */
export function runHostScript(script: string, args: string[], opts: { stubDir: string; env?: Record<string, string> }) {
    const res = spawnSync("bash", [join(ROOT, "scripts", "host", script), ...args], {
        encoding: "utf8",
        env: { ...process.env, PATH: `${opts.stubDir}:${process.env.PATH}`, ...opts.env },
    });
    return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** Writes an executable stub command (a /bin/sh script body) into `dir`. */
export function stub(dir: string, name: string, body: string): void {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
}
