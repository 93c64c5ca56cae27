import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import { ROOT } from "../../helpers/program";

/**
 * `npm run deploy` and `npm run rollback` end to end, in a throwaway git repository holding a copy of this project
 * (its own bare `origin`), with the real render: the checks before a deploy, the stack file, the history, the
 * re-rendered files, the commit on origin/main, and the summary. `--no-up`: tests never run the Pulumi CLI.
 */
const DIGEST = "sha256:" + "c0ffee00".repeat(8);
const NEW = `ghcr.io/visualkit/platform-api@${DIGEST}`;
let dir: string;
let repo: string;
let original: { stack: string; resources: string };

const git = (...args: string[]) => {
    const res = spawnSync("git", ["-C", repo, ...args], { encoding: "utf8" });
    if (res.status !== 0) throw new Error(`git ${args.join(" ")}: ${res.stderr}`);
    return res.stdout.trim();
};

function run(script: "deploy" | "rollback", ...args: string[]): { status: number | null; out: string } {
    const res = spawnSync(process.execPath, [join(repo, "scripts", "run-ts.js"), join(repo, "scripts", `${script}.ts`), ...args], { cwd: repo, encoding: "utf8", timeout: 120_000 });
    return { status: res.status, out: res.stdout + res.stderr };
}

beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "vk-deploy-"));
    repo = join(dir, "infra");
    const files = spawnSync("git", ["-C", ROOT, "ls-files", "-co", "--exclude-standard"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
    for (const f of files) {
        mkdirSync(dirname(join(repo, f)), { recursive: true });
        try {
            cpSync(join(ROOT, f), join(repo, f));
        } catch {
            // a file deleted in the work tree but not yet from the index
        }
    }
    symlinkSync(join(ROOT, "node_modules"), join(repo, "node_modules"));
    spawnSync("git", ["init", "-q", "--bare", "-b", "main", join(dir, "origin.git")]);
    spawnSync("git", ["init", "-q", "-b", "main", repo]);
    git("config", "user.email", "deployer@example.com");
    git("config", "user.name", "Deployer");
    // rendered/ is copied as committed (fresh: test/render.test.ts), so a deploy's commit holds only what it changed.
    git("add", "-A");
    git("commit", "-q", "-m", "initial");
    git("remote", "add", "origin", join(dir, "origin.git"));
    git("push", "-q", "origin", "main");
    original = { stack: readFileSync(join(repo, "Pulumi.dev.yaml"), "utf8"), resources: readFileSync(join(repo, "rendered/dev/resources.json"), "utf8") };
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("refusals leave the checkout untouched", () => {
    test("an untracked file: a dirty tree", () => {
        writeFileSync(join(repo, "notes.txt"), "x");
        const r = run("deploy", "dev", `platform-api=${NEW}`, "--no-up");
        rmSync(join(repo, "notes.txt"));
        expect(r.status).toBe(1);
        expect(r.out).toMatch(/the working tree has changes \(\?\? notes.txt\)/);
    });

    test("a modified stack file: a dirty tree", () => {
        writeFileSync(join(repo, "Pulumi.dev.yaml"), original.stack + "# x\n");
        const r = run("deploy", "dev", `platform-api=${NEW}`, "--no-up");
        git("checkout", "--", "Pulumi.dev.yaml");
        expect(r.status).toBe(1);
        expect(r.out).toMatch(/working tree has changes \( M Pulumi.dev.yaml\)/);
    });

    test("another branch", () => {
        git("switch", "-q", "-c", "feature");
        const r = run("deploy", "dev", `platform-api=${NEW}`, "--no-up");
        git("switch", "-q", "main");
        git("branch", "-q", "-D", "feature");
        expect(r.status).toBe(1);
        expect(r.out).toContain("the checkout is on branch feature; deploys start from main");
    });

    test("main ahead of origin/main (an unreviewed local commit)", () => {
        git("commit", "-q", "--allow-empty", "-m", "local");
        const r = run("deploy", "dev", `platform-api=${NEW}`, "--no-up");
        git("reset", "-q", "--hard", "origin/main");
        expect(r.status).toBe(1);
        expect(r.out).toContain("main is not at origin/main (1 commit(s) ahead, 0 behind)");
    });

    test("a moving tag, in dev too (bad usage: exit 2)", () => {
        const r = run("deploy", "dev", "platform-api=ghcr.io/visualkit/platform-api:main", "--no-up");
        expect(r.status).toBe(2);
        expect(r.out).toContain("visualkit:imagePlatformApi");
        expect(r.out).toContain("is not immutable");
    });

    test("a rollback with no history says so", () => {
        const r = run("rollback", "dev", "platform-api", "--no-up");
        expect(r.status).toBe(1);
        expect(r.out).toContain("no recorded deploy of visualkit:imagePlatformApi in the history of stack dev");
    });

    afterEach(() => {
        expect(git("status", "--porcelain")).toBe("");
        expect(git("rev-parse", "HEAD")).toBe(git("rev-parse", "origin/main"));
    });
});

describe("deploy, then rollback", () => {
    test("deploy: one line of the stack file, the history, the render, one commit on origin/main, and a summary", () => {
        const r = run("deploy", "dev", `platform-api=${NEW}`, "--no-up");
        expect(r.status).toBe(0);
        const stack = readFileSync(join(repo, "Pulumi.dev.yaml"), "utf8");
        expect(stack).toBe(original.stack.replace("visualkit:imagePlatformApi: ghcr.io/visualkit/platform-api:main", `visualkit:imagePlatformApi: ${NEW}`));
        expect(stack).toContain("# dev may follow moving tags; prod may not.");
        const history = JSON.parse(readFileSync(join(repo, "deploy/history/dev.json"), "utf8"));
        expect(history.entries).toEqual([{ at: expect.any(String), action: "deploy", service: "platform-api", key: "visualkit:imagePlatformApi", from: "ghcr.io/visualkit/platform-api:main", to: NEW }]);
        // The render follows: the committed resources name the new image, nothing else was left to render.
        expect(readFileSync(join(repo, "rendered/dev/resources.json"), "utf8")).toContain(`"name": "${NEW}"`);
        expect(git("status", "--porcelain")).toBe("");
        expect(git("rev-parse", "HEAD")).toBe(git("rev-parse", "origin/main"));
        expect(git("log", "-1", "--format=%s")).toBe(`deploy dev: platform-api ${NEW}`);
        expect(git("log", "-1", "--format=%b")).not.toContain("[skip ci]");
        expect(git("show", "--name-only", "--format=", "HEAD").split("\n").sort()).toEqual(["Pulumi.dev.yaml", "deploy/history/dev.json", "rendered/dev/resources.json"]);
        expect(r.out).toContain(`platform-api       ghcr.io/visualkit/platform-api:main → ${NEW}`);
        expect(r.out).toMatch(/render +\d+\.\d s/);
        expect(r.out).toMatch(/pulumi up +skipped \(--no-up\): run npx pulumi up --yes --stack dev --policy-pack policy/);
    });

    test("the same reference again: nothing to deploy, no commit", () => {
        const head = git("rev-parse", "HEAD");
        const r = run("deploy", "dev", `platform-api=${NEW}`, "--no-up");
        expect(r.status).toBe(0);
        expect(r.out).toContain("nothing to deploy");
        expect(git("rev-parse", "HEAD")).toBe(head);
    });

    test("rollback --dry-run says what it would deploy and changes nothing", () => {
        const head = git("rev-parse", "HEAD");
        const r = run("rollback", "dev", "platform-api", "--dry-run");
        expect(r.status).toBe(0);
        expect(r.out).toContain(`would deploy visualkit:imagePlatformApi: ${NEW} → ghcr.io/visualkit/platform-api:main`);
        expect(git("rev-parse", "HEAD")).toBe(head);
    });

    test("rollback: the stack file and the render are back byte for byte, the history records it", () => {
        const r = run("rollback", "dev", "platform-api", "--no-up");
        expect(r.status).toBe(0);
        expect(readFileSync(join(repo, "Pulumi.dev.yaml"), "utf8")).toBe(original.stack);
        expect(readFileSync(join(repo, "rendered/dev/resources.json"), "utf8")).toBe(original.resources);
        const history = JSON.parse(readFileSync(join(repo, "deploy/history/dev.json"), "utf8"));
        expect(history.entries.map((e: { action: string; to: string }) => [e.action, e.to])).toEqual([["deploy", NEW], ["rollback", "ghcr.io/visualkit/platform-api:main"]]);
        expect(git("log", "-1", "--format=%s")).toBe("rollback dev: platform-api ghcr.io/visualkit/platform-api:main");
        expect(git("rev-parse", "HEAD")).toBe(git("rev-parse", "origin/main"));
    });

    test("a second rollback refuses: nothing recorded before that deploy", () => {
        const r = run("rollback", "dev", "platform-api", "--no-up");
        expect(r.status).toBe(1);
        expect(r.out).toContain("no recorded deploy");
        expect(git("status", "--porcelain")).toBe("");
    });

    test("release.yml's record step, run as the workflow runs it: the commit, its outputs; a hostile payload is refused", () => {
        const wf = parse(readFileSync(join(ROOT, ".github/workflows/release.yml"), "utf8")) as { jobs: { record: { steps: { id?: string; run?: string }[] } } };
        const script = wf.jobs.record.steps.find((s) => s.id === "record")!.run!;
        const output = join(dir, "github-output");
        const step = (env: Record<string, string>) => {
            writeFileSync(output, "");
            const path = `${dirname(process.execPath)}:${process.env.PATH}`;
            return spawnSync("bash", ["-e", "-c", script], { cwd: repo, encoding: "utf8", env: { ...process.env, PATH: path, GITHUB_OUTPUT: output, ...env }, timeout: 120_000 });
        };
        const marker = join(dir, "pwned");
        for (const env of [
            { STACK: "dev; touch " + marker, SERVICE: "platform-api", IMAGE: NEW },
            { STACK: "dev", SERVICE: `$(touch ${marker})`, IMAGE: NEW },
            { STACK: "dev", SERVICE: "platform-api", IMAGE: `x:1.0.0$(touch ${marker})` },
        ]) {
            const res = step(env);
            expect(res.status).not.toBe(0);
            expect(existsSync(marker)).toBe(false);
        }
        const res = step({ STACK: "dev", SERVICE: "vk-agent", IMAGE: "ghcr.io/visualkit/vk-agent:1.0.1" });
        expect(res.stderr).toBe("");
        expect(res.status).toBe(0);
        expect(readFileSync(output, "utf8")).toBe(`stack=dev\nsha=${git("rev-parse", "HEAD")}\n`);
        expect(git("log", "-1", "--format=%an %s")).toBe("github-actions[bot] deploy dev: vk-agent ghcr.io/visualkit/vk-agent:1.0.1");
        expect(git("rev-parse", "HEAD")).toBe(git("rev-parse", "origin/main"));
    });

    test("pulumi up runs after the push, as `npx pulumi up --yes --stack dev --policy-pack policy`; its failure leaves the commit and says what next", () => {
        // A stand-in `npx` that records its arguments and fails the way a failed update does (tests never run the CLI).
        const bin = join(dir, "bin");
        mkdirSync(bin, { recursive: true });
        writeFileSync(join(bin, "npx"), `#!/bin/sh\necho "$@" > ${join(dir, "npx-args")}\ngit -C ${repo} rev-parse origin/main > ${join(dir, "origin-at-up")}\nexit 3\n`);
        chmodSync(join(bin, "npx"), 0o755);
        const res = spawnSync(process.execPath, [join(repo, "scripts", "run-ts.js"), join(repo, "scripts", "deploy.ts"), "dev", "janus=ghcr.io/visualkit/janus:1.1.2-debian12-20261201"], {
            cwd: repo,
            encoding: "utf8",
            env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
        });
        expect(res.status).toBe(1);
        expect(readFileSync(join(dir, "npx-args"), "utf8")).toBe("pulumi up --yes --stack dev --policy-pack policy\n");
        // The commit was on origin/main before the update started: main records what is being deployed.
        expect(readFileSync(join(dir, "origin-at-up"), "utf8").trim()).toBe(git("rev-parse", "HEAD"));
        expect(git("log", "-1", "--format=%s")).toBe("deploy dev: janus ghcr.io/visualkit/janus:1.1.2-debian12-20261201");
        // The push must not start deploy.yml's dev update as well: it would race this one for the stack lock.
        expect(git("log", "-1", "--format=%b")).toContain("[skip ci]");
        expect(res.stderr).toContain("pulumi up exited 3; main records the new reference");
        expect(res.stdout).toMatch(/pulumi up +\d+\.\d s/);
    });

    test("a push that origin refuses takes the commit back: nothing deployed, the same command can run again", () => {
        const hook = join(dir, "origin.git", "hooks", "pre-receive");
        writeFileSync(hook, "#!/bin/sh\necho 'protected branch' >&2\nexit 1\n");
        chmodSync(hook, 0o755);
        const head = git("rev-parse", "HEAD");
        const r = run("deploy", "dev", "janus=ghcr.io/visualkit/janus:1.1.2-debian12-20261202", "--no-up");
        rmSync(hook);
        expect(r.status).toBe(1);
        expect(r.out).toContain("git push origin main was refused");
        expect(r.out).toContain("the deploy commit was taken back and nothing was deployed");
        expect(git("rev-parse", "HEAD")).toBe(head);
        expect(git("status", "--porcelain")).toBe("");
        expect(run("deploy", "dev", "janus=ghcr.io/visualkit/janus:1.1.2-debian12-20261202", "--no-up").status).toBe(0);
    });

    test("a render that fails puts every file back", () => {
        // A program that fails to run: the deploy must not leave the stack file or history half-written.
        writeFileSync(join(repo, "index.ts"), readFileSync(join(repo, "index.ts"), "utf8") + "\nthrow new Error('broken program');\n");
        git("commit", "-q", "-am", "broken");
        git("push", "-q", "origin", "main");
        const r = run("deploy", "dev", `vk-agent=ghcr.io/visualkit/vk-agent:1.2.3`, "--no-up");
        expect(r.status).toBe(1);
        expect(r.out).toContain("npm run render -- dev failed");
        expect(r.out).toContain("(nothing committed)");
        expect(git("status", "--porcelain")).toBe("");
        expect(readFileSync(join(repo, "Pulumi.dev.yaml"), "utf8")).toBe(spawnSync("git", ["-C", repo, "show", "HEAD:Pulumi.dev.yaml"], { encoding: "utf8" }).stdout);
        expect(readFileSync(join(repo, "Pulumi.dev.yaml"), "utf8")).toContain("visualkit:imageVkAgent: ghcr.io/visualkit/vk-agent:1.0.1");
    });
});
