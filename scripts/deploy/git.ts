import { spawnSync } from "node:child_process";

/** The git side of a deploy: the checks before it, the commit and push after it. Every call runs in `root`. */

export function git(root: string, args: readonly string[], allowFail = false): { status: number; out: string; err: string } {
    const res = spawnSync("git", ["-C", root, ...args], { encoding: "utf8" });
    if (res.error) throw new Error(`git ${args[0]}: ${res.error.message}`);
    const r = { status: res.status ?? 1, out: res.stdout.replace(/\s+$/, ""), err: res.stderr.trim() };
    if (r.status !== 0 && !allowFail) throw new Error(`git ${args.join(" ")} failed: ${r.err || r.out}`);
    return r;
}

/** The branch every deploy starts from and commits to. */
export const MAIN = "main";

/**
 * Refuses a checkout a deploy must not start from: uncommitted or untracked changes (they would be deployed
 * without a commit saying so), another branch, or a `main` that is not `origin/main` after a fetch (behind: the
 * deploy would undo what others merged; ahead: it would deploy commits nobody reviewed).
 */
export function checkCheckout(root: string): void {
    const top = git(root, ["rev-parse", "--show-toplevel"], true);
    if (top.status !== 0) throw new Error(`${root} is not a git checkout; deploy from a clone of the infrastructure repository`);
    const dirty = git(root, ["status", "--porcelain", "--untracked-files=all"]).out;
    if (dirty) {
        const lines = dirty.split("\n");
        throw new Error(`the working tree has changes (${lines.slice(0, 5).join("; ")}${lines.length > 5 ? `; and ${lines.length - 5} more` : ""}); commit them through a pull request or stash them, then deploy from a clean main`);
    }
    const branch = git(root, ["rev-parse", "--abbrev-ref", "HEAD"]).out;
    if (branch !== MAIN) throw new Error(`the checkout is on ${branch === "HEAD" ? "a detached HEAD" : `branch ${branch}`}; deploys start from ${MAIN}: git switch ${MAIN} && git pull --ff-only`);
    const fetch = git(root, ["fetch", "--quiet", "origin", MAIN], true);
    if (fetch.status !== 0) throw new Error(`git fetch origin ${MAIN} failed (${fetch.err}); a deploy must know it starts from the newest ${MAIN}`);
    const head = git(root, ["rev-parse", "HEAD"]).out;
    const remote = git(root, ["rev-parse", `origin/${MAIN}`]).out;
    if (head !== remote) {
        const ahead = git(root, ["rev-list", "--count", `origin/${MAIN}..HEAD`]).out;
        const behind = git(root, ["rev-list", "--count", `HEAD..origin/${MAIN}`]).out;
        throw new Error(`${MAIN} is not at origin/${MAIN} (${ahead} commit(s) ahead, ${behind} behind); git pull --ff-only, and merge local commits through a pull request first`);
    }
}

/** Puts the files a failed deploy touched back as HEAD has them (the tree was clean when it started). */
export function discardChanges(root: string, paths: readonly string[]): void {
    git(root, ["checkout", "HEAD", "--", ...paths.filter((p) => git(root, ["ls-files", "--error-unmatch", p], true).status === 0)], true);
    git(root, ["clean", "-fdq", "--", ...paths], true);
}

export function commit(root: string, paths: readonly string[], message: string): string {
    git(root, ["add", "--all", "--", ...paths]);
    git(root, ["commit", "--quiet", "-m", message]);
    return git(root, ["rev-parse", "HEAD"]).out;
}

/** Pushes the deploy commit; if main moved meanwhile, the commit is taken back so the deploy can simply be re-run. */
export function push(root: string): void {
    const res = git(root, ["push", "--quiet", "origin", `HEAD:${MAIN}`], true);
    if (res.status !== 0) {
        git(root, ["reset", "--quiet", "--hard", "HEAD~1"], true);
        throw new Error(`git push origin ${MAIN} was refused (${res.err}); the deploy commit was taken back and nothing was deployed. git pull --ff-only and run the same command again`);
    }
}
