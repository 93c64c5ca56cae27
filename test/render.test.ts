import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, cpSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parse } from "yaml";
import { SECRET_PLACEHOLDER } from "../config/secret";
import { ed25519HostKey } from "../lib/ssh-host-key";
import { renderedFiles, renderStack } from "../scripts/rendering";
import { ROOT, runProgram, withoutStackFrames } from "./helpers/program";

function listFiles(dir: string): string[] {
    return readdirSync(dir).flatMap((f) => {
        const p = join(dir, f);
        return statSync(p).isDirectory() ? listFiles(p) : [p];
    });
}

describe.each(["dev", "prod"])("rendered/%s", (stack) => {
    test("the committed folder equals a fresh render (run `npm run render -- " + stack + "` and commit)", async () => {
        const fresh = renderedFiles(await runProgram(stack));
        const dir = join(ROOT, "rendered", stack);
        const committed = new Map(listFiles(dir).map((p) => [relative(dir, p), readFileSync(p, "utf8")]));
        expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
        for (const [path, content] of fresh) expect({ path, content: committed.get(path) }).toEqual({ path, content });
    });

    test("two renders are byte-identical", async () => {
        // A real render (what `npm run render` runs) against the tests' shared run of the same stack, which was made
        // by another run of the program, often in another jest worker.
        const render = renderedFiles(await withoutStackFrames(() => renderStack(stack)));
        expect(render).toEqual(renderedFiles(await runProgram(stack)));
    });

    test("the render holds no encrypted stack value and no private key but the placeholder's host key", async () => {
        const files = renderedFiles(await runProgram(stack));
        // cloud-init.yaml installs the host's SSH key (ssh_keys), derived from a generated secret: in the offline
        // render that secret is the placeholder, so the key there is one anyone can derive, and the only one allowed.
        const placeholderKey = ed25519HostKey(SECRET_PLACEHOLDER, "visualkit-main").privateKey;
        const userData = parse(files.get("cloud-init.yaml")!) as { ssh_keys: { ed25519_private: string } };
        expect(userData.ssh_keys.ed25519_private).toBe(placeholderKey);
        const keys = [...files].flatMap(([path, text]) => (text.match(/-----BEGIN [A-Z ]*PRIVATE KEY-----/g) ?? []).map(() => path));
        expect(keys).toEqual(["cloud-init.yaml"]);
        expect([...files.values()].join("\n")).not.toMatch(/"secure":|v1:[A-Za-z0-9+/=]{20,}/);
    });
});

describe("secrets in the render", () => {
    // Placeholders would hide a leak (a secret written in plain text still reads "[secret]"), so every secret — set
    // in config or generated — gets a value of its own here, and the rendered text is searched for all of them.
    const sentinel = (what: string) => `SENTINEL-${what}-q7z`;

    test("no secret value reaches resources.json or outputs.json; only the Janus configs embed them (admin secret, token secret, plugin admin keys), by design", async () => {
        const run = await runProgram("prod", {
            set: {
                geminiApiKey: sentinel("gemini"),
                registryServer: "ghcr.io",
                registryUsername: "deploy-bot",
                registryPassword: sentinel("registry"),
                chatwootSmtpAddress: "smtp.example.com",
                chatwootSmtpPassword: sentinel("smtp"),
                sshPrivateKey: sentinel("ssh-key"),
                platformApiSecretEnv: { DATABASE_URL: sentinel("database-url") },
            },
            secrets: ["geminiApiKey", "registryPassword", "chatwootSmtpPassword", "sshPrivateKey", "platformApiSecretEnv"],
            state: (type, name) => (type === "random:index/randomPassword:RandomPassword" ? { result: sentinel(name) } : undefined),
        });
        const files = renderedFiles(run);
        expect(files.get("resources.json")).not.toContain("SENTINEL-");
        expect(files.get("outputs.json")).not.toContain("SENTINEL-");
        const carrying = [...files].filter(([, text]) => text.includes("SENTINEL-")).map(([path]) => path);
        expect(carrying.sort()).toEqual(["janus/janus.jcfg", "janus/janus.plugin.audiobridge.jcfg", "janus/janus.plugin.videoroom.jcfg"]);
        // The host's SSH key is derived from its generated secret and installed by the user data, which the server
        // gets as a secret; the published text is that user data, so with real secrets it would carry the real key.
        const hostKey = ed25519HostKey(sentinel("visualkit-prod-main-ssh-host-key"), "visualkit-main");
        expect(files.get("cloud-init.yaml")).toContain(hostKey.privateKey.split("\n")[1]);
        expect(files.get("outputs.json")).toContain(hostKey.publicKey);
        expect(files.get("resources.json")).not.toContain(hostKey.privateKey.split("\n")[1]);
        // The sentinels were really used: the generated Janus admin secret is in the file the container gets.
        expect(files.get("janus/janus.jcfg")).toContain(sentinel("visualkit-prod-secrets-janus-admin"));
    });
});

describe("the render command", () => {
    const runRender = (cwd: string, stack: string) =>
        spawnSync(process.execPath, [join(cwd, "scripts", "run-ts.js"), join(cwd, "scripts", "render.ts"), stack], { cwd, encoding: "utf8" });

    function copyProject(): string {
        const dir = mkdtempSync(join(tmpdir(), "vk-render-"));
        for (const f of readdirSync(ROOT)) {
            // Not the dependencies (linked below), git, or .ci (CI's Node binary: 185 MB).
            if (f === "node_modules" || f.startsWith(".")) continue;
            cpSync(join(ROOT, f), join(dir, f), { recursive: true });
        }
        execFileSync("ln", ["-s", join(ROOT, "node_modules"), join(dir, "node_modules")]);
        return dir;
    }

    test("invalid config: exit 1, every problem listed, rendered/ left exactly as it was", () => {
        const dir = copyProject();
        try {
            const file = join(dir, "Pulumi.dev.yaml");
            const broken = readFileSync(file, "utf8")
                .replace("visualkit:domain: dev.visualkit.live", "visualkit:domain: Dev..visualkit")
                .replace("203.0.113.0/24", "203.0.113.0/99")
                .replace("visualkit:acmeEmail: ops@visualkit.live", "visualkit:acmeEmail: not-an-email");
            writeFileSync(file, broken);
            const before = listFiles(join(dir, "rendered")).map((p) => [p, readFileSync(p, "utf8")]);
            const res = runRender(dir, "dev");
            expect(res.status).toBe(1);
            expect(res.stderr).toContain("visualkit:domain");
            expect(res.stderr).toContain("visualkit:sshAllowedCidrs[0]");
            expect(res.stderr).toContain("visualkit:acmeEmail");
            expect(res.stderr).toMatch(/fix: /);
            const after = listFiles(join(dir, "rendered")).map((p) => [p, readFileSync(p, "utf8")]);
            expect(after).toEqual(before);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    test("--out refuses a folder with other content (it would be replaced) and leaves it alone", () => {
        const dir = mkdtempSync(join(tmpdir(), "vk-out-"));
        try {
            writeFileSync(join(dir, "notes.txt"), "keep me");
            const res = spawnSync(process.execPath, [join(ROOT, "scripts", "run-ts.js"), join(ROOT, "scripts", "render.ts"), "dev", "--out", dir], { encoding: "utf8" });
            expect(res.status).toBe(2);
            expect(res.stderr).toContain("other content");
            expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("keep me");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    test("an unknown stack is refused with the list of stacks", () => {
        const res = runRender(ROOT, "staging");
        expect(res.status).toBe(2);
        expect(res.stderr).toContain("stacks here: dev, prod");
    });
});
