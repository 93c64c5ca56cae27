import { spawn, type SpawnOptions } from "node:child_process";
import { closeSync, openSync } from "node:fs";

/** A finished process: exit code (null when killed), its output, how long it ran. */
export interface ProcResult {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
    readonly ms: number;
}

export interface RunOptions extends SpawnOptions {
    readonly input?: string | Buffer;
    /** A file streamed to stdin instead of `input` (large files: never read into memory). */
    readonly inputFile?: string;
    /** Kill the process after this long; the result then has code null and the timeout in stderr. */
    readonly timeoutMs?: number;
}

/** Runs a program to its end without a shell; never throws for a non-zero exit (callers judge the result). */
export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<ProcResult> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
        const fd = opts.inputFile !== undefined ? openSync(opts.inputFile, "r") : undefined;
        const child = spawn(file, [...args], { ...opts, stdio: [fd ?? "pipe", "pipe", "pipe"] });
        if (fd !== undefined) closeSync(fd);
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let timedOut = false;
        const timer = opts.timeoutMs
            ? setTimeout(() => {
                  timedOut = true;
                  child.kill("SIGKILL");
              }, opts.timeoutMs)
            : undefined;
        child.stdout!.on("data", (d: Buffer) => out.push(d));
        child.stderr!.on("data", (d: Buffer) => err.push(d));
        child.on("error", (e) => {
            if (timer) clearTimeout(timer);
            reject(e);
        });
        child.on("close", (code) => {
            if (timer) clearTimeout(timer);
            const stderr = Buffer.concat(err).toString() + (timedOut ? `\n[killed after ${opts.timeoutMs} ms]` : "");
            resolve({ code: timedOut ? null : code, stdout: Buffer.concat(out).toString(), stderr, ms: Date.now() - started });
        });
        if (child.stdin) {
            child.stdin.on("error", () => undefined);
            child.stdin.end(opts.input ?? "");
        }
    });
}

/** Like run, but a non-zero exit is an error that shows the command's output. */
export async function runOk(file: string, args: readonly string[], opts: RunOptions = {}): Promise<ProcResult> {
    const r = await run(file, args, opts);
    if (r.code !== 0) throw new Error(`${file} ${args.join(" ")} exited ${r.code}\n${tail(r.stderr + r.stdout, 30)}`);
    return r;
}

/** The last n lines of a text. */
export function tail(text: string, n: number): string {
    return text.trimEnd().split("\n").slice(-n).join("\n");
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `f` returns a value that is not undefined, or fails naming what it waited for. */
export async function waitFor<T>(what: string, timeoutMs: number, f: () => Promise<T | undefined>, everyMs = 3000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
        try {
            const v = await f();
            if (v !== undefined) return v;
        } catch (e) {
            last = e;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
        }
        await sleep(everyMs);
    }
}
