import { isIPv4, isIPv6 } from "node:net";
import { checkCidr } from "../config/validators";
import { commandLine } from "./usage";

/**
 * `npm run ssh-window -- open <stack> --source <address> --run-id <id> [--minutes N]`
 * `npm run ssh-window -- close <stack> --run-id <id>` · `npm run ssh-window -- close <stack> --expired`
 *
 * GitHub-hosted runners have no fixed address, and SSH is open only to visualkit:sshAllowedCidrs. So a job that must
 * reach the servers opens SSH to its own address, one host address (/32 or /128, never a range: 0.0.0.0/0 is refused
 * here as config validation refuses it in visualkit:sshAllowedCidrs), for itself only, and closes it in a step that
 * runs even when the job failed (docs/deploy.md "CI reaches the server"). The opening is a separate Hetzner firewall
 * applied by label selector to the stack's servers (project=<project>, stack=<stack>: the labels index.ts puts on
 * them), not a rule in the Pulumi-managed firewall, so `pulumi up` never rewrites or removes it halfway through and
 * a server replaced during the update gets it too. Each carries labels with the run id and an expiry, so a window
 * the close step could not remove (the job was killed, the API failed) is found by `close --expired` (drift.yml).
 * Needs HCLOUD_TOKEN (and reads HCLOUD_ENDPOINT and HCLOUD_POLL_INTERVAL, as the hcloud CLI does). Exit 0 on success (close with nothing to close included), 1 on an API failure, 2 on bad usage.
 */

const USAGE = `usage: npm run ssh-window -- open <stack> --source <address> --run-id <id> [--minutes N]
       npm run ssh-window -- close <stack> (--run-id <id> | --expired)`;
const PROJECT = "visualkit";
const LABEL_RUN = "visualkit-ssh-window";
const LABEL_EXPIRES = "visualkit-ssh-window-expires";

export interface Api {
    readonly base: string;
    readonly token: string;
    /** How often an unfinished action is asked about again. @default 1000 */
    readonly pollMs?: number;
}

async function call<T>(api: Api, method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${api.base}${path}`, {
        method,
        headers: { Authorization: `Bearer ${api.token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as T & { error?: { code: string; message: string } }) : ({} as T & { error?: { code: string; message: string } });
    if (!res.ok) throw new Error(`Hetzner API ${method} ${path}: ${res.status} ${json.error ? `${json.error.code}: ${json.error.message}` : text.slice(0, 200)}`);
    return json;
}

interface Action {
    id: number;
    status: "running" | "success" | "error";
    error?: { code: string; message: string } | null;
}

/** Waits until Hetzner has applied the change (its actions finished): only then does the firewall let SSH in. */
async function waitActions(api: Api, actions: readonly Action[], timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const a of actions) {
        let cur = a;
        while (cur.status === "running") {
            if (Date.now() > deadline) throw new Error(`Hetzner action ${a.id} still running after ${timeoutMs / 1000} s`);
            await new Promise((r) => setTimeout(r, api.pollMs ?? 1000));
            cur = (await call<{ action: Action }>(api, "GET", `/actions/${a.id}`)).action;
        }
        if (cur.status === "error") throw new Error(`Hetzner action ${a.id} failed: ${cur.error?.code}: ${cur.error?.message}`);
    }
}

/** The runner's own address as a one-host CIDR; ranges (0.0.0.0/0 above all) are refused. */
export function sourceCidr(source: string): string {
    const [addr, bits] = source.split("/");
    const width = isIPv4(addr) ? 32 : isIPv6(addr) ? 128 : 0;
    if (width === 0) throw new Error(`--source must be the runner's public IPv4 or IPv6 address, got ${JSON.stringify(source)}`);
    if (bits !== undefined && Number(bits) !== width) {
        throw new Error(`--source ${source} is a range; open SSH to the runner's one address (/${width}) only, never 0.0.0.0/0 (docs/deploy.md)`);
    }
    const cidr = `${addr}/${width}`;
    const problem = checkCidr(cidr);
    if (problem) throw new Error(`--source ${source} ${problem}`);
    return cidr;
}

const RUN_ID = /^[A-Za-z0-9._-]{1,63}$/;
const selector = (stack: string) => `project=${PROJECT},stack=${stack}`;

export async function openWindow(api: Api, stack: string, source: string, runId: string, minutes: number, now = Date.now()): Promise<number> {
    const cidr = sourceCidr(source);
    const expires = Math.floor(now / 1000) + minutes * 60;
    const created = await call<{ firewall: { id: number }; actions: Action[] }>(api, "POST", "/firewalls", {
        name: `ssh-window-${stack}-${runId}`,
        labels: { [LABEL_RUN]: runId, [LABEL_EXPIRES]: String(expires), project: PROJECT, stack },
        rules: [{ direction: "in", protocol: "tcp", port: "22", source_ips: [cidr], description: `CI run ${runId}` }],
        apply_to: [{ type: "label_selector", label_selector: { selector: selector(stack) } }],
    });
    await waitActions(api, created.actions);
    return created.firewall.id;
}

interface Firewall {
    id: number;
    name: string;
    labels: Record<string, string>;
    applied_to: { type: string; label_selector?: { selector: string }; server?: { id: number } }[];
}

/** Removes the windows of one run (or every expired one) from their servers, then deletes them. Safe to re-run. */
export async function closeWindows(api: Api, stack: string, which: { runId?: string; expired?: boolean }, now = Date.now()): Promise<string[]> {
    const labelSelector = which.runId ? `${LABEL_RUN}=${which.runId},stack=${stack}` : `${LABEL_RUN},stack=${stack}`;
    const { firewalls } = await call<{ firewalls: Firewall[] }>(api, "GET", `/firewalls?label_selector=${encodeURIComponent(labelSelector)}`);
    const closing = firewalls.filter((f) => which.runId !== undefined || Number(f.labels[LABEL_EXPIRES] ?? 0) * 1000 <= now);
    for (const f of closing) {
        // Hetzner refuses to delete a firewall still applied (resource_in_use): detach it first.
        const removeFrom = f.applied_to.filter((a) => a.type === "label_selector" || a.type === "server").map((a) => (a.type === "server" ? { type: "server", server: a.server } : { type: "label_selector", label_selector: a.label_selector }));
        if (removeFrom.length) {
            const { actions } = await call<{ actions: Action[] }>(api, "POST", `/firewalls/${f.id}/actions/remove_from_resources`, { remove_from: removeFrom });
            await waitActions(api, actions);
        }
        await call(api, "DELETE", `/firewalls/${f.id}`);
    }
    return closing.map((f) => f.name);
}

async function main(): Promise<number> {
    const text = { type: "string" } as const;
    const { values: v, positionals } = commandLine(USAGE, { api: text, "run-id": text, source: text, minutes: text, expired: { type: "boolean" } });
    const [op, stack] = positionals;
    // HCLOUD_ENDPOINT: the variable the hcloud CLI and the Terraform provider read for another API address.
    // HCLOUD_POLL_INTERVAL: the hcloud CLI's variable for how often it asks about a running action ("500ms", "2s").
    const poll = (process.env.HCLOUD_POLL_INTERVAL ?? "").match(/^(\d+)(ms|s)$/);
    const api = {
        base: v.api ?? process.env.HCLOUD_ENDPOINT ?? "https://api.hetzner.cloud/v1",
        token: process.env.HCLOUD_TOKEN ?? "",
        pollMs: poll ? Number(poll[1]) * (poll[2] === "s" ? 1000 : 1) : 1000,
    };
    try {
        if ((op !== "open" && op !== "close") || !stack || positionals.length !== 2) throw new Error("give open or close and the stack");
        if (!/^[a-z0-9-]+$/.test(stack)) throw new Error(`not a stack name: ${stack}`);
        const runId = v["run-id"];
        if (runId !== undefined && !RUN_ID.test(runId)) throw new Error(`--run-id must be 1-63 of A-Z a-z 0-9 . _ -, got ${JSON.stringify(runId)}`);
        if (!api.token) throw new Error("HCLOUD_TOKEN is not set (the job's Hetzner token)");
        if (op === "open") {
            const source = v.source;
            if (!source || !runId) throw new Error("open needs --source and --run-id");
            const minutes = Number(v.minutes ?? 90);
            if (!Number.isInteger(minutes) || minutes < 1 || minutes > 360) throw new Error("--minutes must be 1-360");
            try {
                const id = await openWindow(api, stack, source, runId, minutes);
                console.log(`ssh-window: SSH open to ${sourceCidr(source)} on stack ${stack}'s servers (firewall ${id}) until the job closes it`);
                return 0;
            } catch (e) {
                if ((e as Error).message.startsWith("--source")) throw e;
                console.error(`ssh-window: ${(e as Error).message}`);
                return 1;
            }
        }
        if (!runId && !v.expired) throw new Error("close needs --run-id or --expired");
        try {
            const closed = await closeWindows(api, stack, runId ? { runId } : { expired: true });
            console.log(closed.length ? `ssh-window: closed ${closed.join(", ")}` : "ssh-window: nothing to close");
            return 0;
        } catch (e) {
            console.error(`ssh-window: ${(e as Error).message}`);
            return 1;
        }
    } catch (e) {
        console.error(`ssh-window: ${(e as Error).message}\n${USAGE}`);
        return 2;
    }
}

if (process.argv[1]?.endsWith("ssh-window.ts")) void main().then((code) => (process.exitCode = code));
