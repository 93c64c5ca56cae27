import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { shippedFile } from "../lib/shipped";
import { ed25519HostKey, pinnedHostKeyOptions } from "../lib/ssh-host-key";

/**
 * `npm run install-host-key -- <stack> --host root@<ip> --current-key "ssh-ed25519 AAAA…" [--name main] [--port N]
 * [--identity KEY] [--state FILE]`
 *
 * For a server created before host keys were pinned: it presents a key of its own, so every SSH step of `pulumi up`
 * refuses it. This installs the program's key (derived from the host's `<stack>-<name>-ssh-host-key` secret in the
 * stack state, which the first `pulumi up` with this version creates before it stops at the SSH steps) over a
 * connection that pins `--current-key`: the key the server presents now, read where no one in the middle can change
 * it (the Hetzner console: `cat /etc/ssh/ssh_host_ed25519_key.pub`). A server presenting anything else gets nothing.
 * Then run `pulumi up` again. The state comes from `pulumi stack export --show-secrets` (or --state FILE).
 */

const USAGE = 'usage: npm run install-host-key -- <stack> --host root@<ip> --current-key "ssh-ed25519 AAAA…" [--name main] [--port N] [--identity KEY] [--state FILE]';

interface StateResource {
    readonly urn?: string;
    readonly type?: string;
    readonly outputs?: Record<string, unknown>;
}

/** A secret output as `pulumi stack export --show-secrets` writes it: the plaintext, JSON-encoded, beside the secret sig. */
function plain(value: unknown): string | undefined {
    if (typeof value === "string") return value;
    if (value && typeof value === "object" && typeof (value as { plaintext?: unknown }).plaintext === "string") {
        const text = (value as { plaintext: string }).plaintext;
        try {
            const parsed: unknown = JSON.parse(text);
            return typeof parsed === "string" ? parsed : undefined;
        } catch {
            return text;
        }
    }
    return undefined;
}

/** The host's generated secret in a stack export: the RandomPassword named `<project>-<stack>-<name>-ssh-host-key`. */
export function hostKeySecret(state: unknown, stack: string, name: string): string {
    const resources = ((state as { deployment?: { resources?: StateResource[] } }).deployment?.resources ?? []) as StateResource[];
    const suffix = `-${stack}-${name}-ssh-host-key`;
    const found = resources.filter((r) => r.type === "random:index/randomPassword:RandomPassword" && (r.urn ?? "").endsWith(suffix));
    if (found.length !== 1) {
        throw new Error(`the state of stack ${stack} has ${found.length} host key secrets for host ${name} (a RandomPassword ending in ${suffix}); run pulumi up with this version once (it creates it, then stops at the SSH steps)`);
    }
    const secret = plain(found[0].outputs?.result);
    if (!secret || secret === "[secret]") throw new Error("the host key secret is not in plain text: export the state with --show-secrets");
    return secret;
}

export function main(argv: readonly string[]): number {
    if (argv.includes("--help") || argv.includes("-h")) {
        console.log(USAGE);
        return 0;
    }
    const text = { type: "string" } as const;
    let parsed;
    try {
        parsed = parseArgs({ args: [...argv], options: { host: text, "current-key": text, name: { ...text, default: "main" }, port: text, identity: text, state: text }, allowPositionals: true });
    } catch (e) {
        console.error(`${(e as Error).message}\n${USAGE}`);
        return 2;
    }
    const { host, "current-key": currentKey, name, port, identity, state: stateFile } = parsed.values;
    const [stack] = parsed.positionals;
    if (!stack || !host || !currentKey || parsed.positionals.length !== 1) {
        console.error(USAGE);
        return 2;
    }
    try {
        if (!/^[A-Za-z0-9._-]+@[A-Za-z0-9.:_-]+$/.test(host)) throw new Error(`--host must be user@address, got ${host}`);
        let text: string;
        if (stateFile) text = readFileSync(stateFile, "utf8");
        else {
            const res = spawnSync("npx", ["pulumi", "stack", "export", "--show-secrets", "-s", stack], { encoding: "utf8", maxBuffer: 256 << 20 });
            if (res.status !== 0) throw new Error(`pulumi stack export failed: ${(res.stderr || res.error?.message || "").trim()}`);
            text = res.stdout;
        }
        const key = ed25519HostKey(hostKeySecret(JSON.parse(text), stack, name), `visualkit-${name}`);
        const sshArgs = [
            ...pinnedHostKeyOptions(currentKey),
            "-o", "BatchMode=yes",
            "-o", "ConnectTimeout=15",
            ...(port ? ["-p", port] : []),
            ...(identity ? ["-i", identity, "-o", "IdentitiesOnly=yes"] : []),
            host,
            shippedFile("scripts/host/install-host-key.sh"),
        ];
        const res = spawnSync("ssh", sshArgs, { input: key.privateKey, stdio: ["pipe", "inherit", "inherit"] });
        if (res.status !== 0) {
            console.error(`install-host-key: failed (exit ${res.status}); a server presenting another key than --current-key is refused before anything is sent`);
            return 1;
        }
        console.log(`the server now presents ${key.publicKey}; run pulumi up -s ${stack} again`);
        return 0;
    } catch (e) {
        console.error(`install-host-key: ${(e as Error).message}`);
        return 1;
    }
}

if (process.argv[1]?.endsWith("install-host-key.ts")) process.exitCode = main(process.argv.slice(2));
