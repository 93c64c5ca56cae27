import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { checkCheckout, commit, discardChanges, push } from "./git";
import { currentImage, historyText, loadStackFile, readHistory, rollbackTarget, setImage, stackFileText, type Change, type HistoryEntry } from "./release";
import { findTarget } from "./targets";

/**
 * The one path of `npm run deploy` and `npm run rollback`: check the checkout, write the image references into
 * Pulumi.<stack>.yaml, record them in deploy/history/<stack>.json, re-render rendered/<stack>, commit, push, and
 * `pulumi up`. Every step is timed and the summary printed at the end. A step that fails before the commit leaves
 * the checkout as it was; one after it leaves a commit on main that a re-run of `pulumi up` (or a rollback) settles.
 */

export const ROOT = resolve(__dirname, "..", "..");

export interface ReleaseOptions {
    readonly stack: string;
    /** Skip `pulumi up` (CI runs it in pulumi-up.yml after the commit; tests never run the CLI). */
    readonly up: boolean;
    /** Skip `git push` (tests of the commit; a laptop deploy always pushes: main is the record of what runs). */
    readonly push: boolean;
    readonly root?: string;
}

export interface Planned {
    readonly service: string;
    readonly key: string;
    readonly from?: string;
    readonly to: string;
    readonly action: HistoryEntry["action"];
}

export const historyFile = (root: string, stack: string) => join(root, "deploy", "history", `${stack}.json`);

/** The `pulumi up` a deploy runs: the project's pinned CLI, under the policy pack like every workflow update. */
export function upCommand(stack: string): string[] {
    return ["npx", "pulumi", "up", "--yes", "--stack", stack, "--policy-pack", "policy"];
}

/** What a rollback of `name` would put back, read from the recorded history (never guessed). */
export function planRollback(stack: string, name: string, root = ROOT): Planned {
    const target = findTarget(name);
    const doc = loadStackFile(readFileSync(stackPath(root, stack), "utf8"));
    const current = currentImage(doc, target.configKey);
    const { to } = rollbackTarget(readHistory(historyFile(root, stack), stack), target.configKey, current);
    return { service: name, key: target.configKey, from: current, to, action: "rollback" };
}

export function planDeploy(stack: string, changes: readonly Change[], root = ROOT): Planned[] {
    const doc = loadStackFile(readFileSync(stackPath(root, stack), "utf8"));
    const keys = new Set<string>();
    return changes.map((c) => {
        if (keys.has(c.target.configKey)) throw new Error(`${c.target.configKey} is named twice on the command line`);
        keys.add(c.target.configKey);
        const from = currentImage(doc, c.target.configKey);
        // An unset WebSocket image means platform-api serves WebSockets itself: setting one adds a container and
        // moves a route, a change of shape that goes through a pull request, not a deploy.
        if (from === undefined && c.target.imageKey === "websocket") {
            throw new Error(`${c.target.configKey} is not set in Pulumi.${stack}.yaml, so ${c.target.name} does not run in this stack; add it through a pull request`);
        }
        return { service: c.target.name, key: c.target.configKey, from, to: c.image, action: "deploy" as const };
    });
}

function stackPath(root: string, stack: string): string {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(stack)) throw new Error(`not a stack name: ${JSON.stringify(stack)} (dev, prod)`);
    const p = join(root, `Pulumi.${stack}.yaml`);
    if (!existsSync(p)) throw new Error(`no stack ${stack} (Pulumi.${stack}.yaml not found)`);
    return p;
}

class Timer {
    readonly steps: { name: string; ms: number; note?: string }[] = [];
    run<T>(name: string, fn: () => T, note?: string): T {
        const t0 = performance.now();
        try {
            return fn();
        } finally {
            this.steps.push({ name, ms: performance.now() - t0, note });
        }
    }
    report(): string {
        return this.steps.map((s) => `  ${s.name.padEnd(26)} ${(s.ms / 1000).toFixed(1).padStart(6)} s${s.note ? `  ${s.note}` : ""}`).join("\n");
    }
}

/** Runs a planned deploy or rollback. Returns the process exit status; messages go to stdout/stderr. */
export function release(opts: ReleaseOptions, plan: () => Planned[]): number {
    const root = opts.root ?? ROOT;
    const timer = new Timer();
    const started = performance.now();
    const stackFile = `Pulumi.${opts.stack}.yaml`;
    const touched = [stackFile, join("deploy", "history", `${opts.stack}.json`), join("rendered", opts.stack)];
    let planned: Planned[] = [];
    let committed: string | undefined;
    try {
        timer.run("check checkout", () => checkCheckout(root));
        planned = timer.run("plan", plan).filter((p) => p.from !== p.to);
        if (planned.length === 0) {
            console.log(`${opts.stack}: every reference is already what was asked; nothing to deploy (run npx pulumi up -s ${opts.stack} to re-apply it)`);
            return 0;
        }
        for (const p of planned) console.log(`${p.action} ${opts.stack} ${p.service}: ${p.key} ${p.from ?? "(unset)"} → ${p.to}`);
        try {
            timer.run("write stack file + history", () => {
                const doc = loadStackFile(readFileSync(join(root, stackFile), "utf8"));
                for (const p of planned) setImage(doc, p.key, p.to);
                writeFileSync(join(root, stackFile), stackFileText(doc));
                const file = historyFile(root, opts.stack);
                const history = readHistory(file, opts.stack);
                const at = new Date().toISOString();
                for (const p of planned) history.entries.push({ at, action: p.action, service: p.service, key: p.key, ...(p.from === undefined ? {} : { from: p.from }), to: p.to });
                mkdirSync(dirname(file), { recursive: true });
                writeFileSync(file, historyText(history));
            });
            timer.run("render", () => {
                // The same command the pull-request check runs, so the committed render is what that check expects.
                const res = spawnSync(process.execPath, [join(root, "scripts", "run-ts.js"), join(root, "scripts", "render.ts"), opts.stack], { cwd: root, encoding: "utf8" });
                if (res.status !== 0) throw new Error(`npm run render -- ${opts.stack} failed:\n${(res.stderr || res.stdout).trim()}`);
            });
            // This run updates the stack itself: `[skip ci]` keeps the push from starting deploy.yml's dev update too,
            // which would race this one for the stack lock. With --no-up the push's own workflows do run.
            const skip = opts.up && opts.push ? "\n[skip ci]: this deploy runs pulumi up itself\n" : "";
            const message = `${planned[0].action} ${opts.stack}: ${planned.map((p) => `${p.service} ${p.to}`).join(", ")}\n\n${planned.map((p) => `${p.key}: ${p.from ?? "(unset)"} -> ${p.to}`).join("\n")}\n${skip}`;
            committed = timer.run("commit", () => commit(root, touched, message));
        } catch (e) {
            discardChanges(root, touched);
            throw e;
        }
        if (opts.push) timer.run("push", () => push(root));
        if (opts.up) {
            const [cmd, ...args] = upCommand(opts.stack);
            const status = timer.run("pulumi up", () => spawnSync(cmd, args, { cwd: root, stdio: "inherit" }).status);
            if (status !== 0) {
                throw new Error(`pulumi up exited ${status}; main records the new reference (${committed?.slice(0, 12)}). Fix and re-run npx pulumi up -s ${opts.stack}, or npm run rollback -- ${opts.stack} <service>`);
            }
        }
        return 0;
    } catch (e) {
        console.error(`${planned[0]?.action ?? "deploy"}: ${(e as Error).message}`);
        return 1;
    } finally {
        if (planned.length > 0) {
            console.log(`\n${opts.stack}: what changed${committed ? ` (commit ${committed.slice(0, 12)})` : " (nothing committed)"}`);
            for (const p of planned) console.log(`  ${p.service.padEnd(18)} ${p.from ?? "(unset)"} → ${p.to}`);
            console.log(`steps:\n${timer.report()}`);
            if (!opts.push) console.log("  push                       skipped (--no-push)");
            if (!opts.up) console.log(`  pulumi up                  skipped (--no-up): run ${upCommand(opts.stack).join(" ")}`);
            console.log(`  total                      ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s`);
        }
    }
}
