import { shellWord } from "../../lib/shipped";
import { takeTargetOptions, type TargetOptions } from "../backup/remote";
import { findTarget } from "../deploy/targets";

/**
 * The remote command lines of `npm run ssh|exec|console`. ssh sends one string that the host's login shell parses,
 * so every word is quoted as one shell word (lib/shipped.ts shellWord): a service id or an argument holding
 * quotes, `$()`, `;` or spaces reaches `docker exec` as exactly the word it was on the laptop.
 */

export function remoteLine(words: readonly string[]): string {
    return words.map(shellWord).join(" ");
}

export type Operation = "ssh" | "exec" | "console";

export interface RemoteCommand {
    /** The catalog host the service runs on (`main`): its address comes from the stack outputs. */
    readonly host: string;
    /** Words of the remote command; empty: a login shell. */
    readonly words: readonly string[];
    /** Whether the remote side is interactive (ssh -t when the local side is a terminal too). */
    readonly interactive: boolean;
}

/** Chatwoot's Rails console runs in its rails container (not the standby, not sidekiq). */
export const CONSOLE = { service: "chatwoot", container: "chatwoot-rails", command: ["bundle", "exec", "rails", "c"] } as const;

/**
 * - ssh [service] [-- command…]: a login shell (or the command) on the service's host.
 * - exec <service> [command…]: the command (default `sh`) in the service's container (its app container, or the
 *   container named).
 * - console [chatwoot]: `bundle exec rails c` in chatwoot-rails.
 */
export function buildCommand(op: Operation, name: string | undefined, args: readonly string[], tty: boolean): RemoteCommand {
    if (op === "ssh") {
        const host = name ? findTarget(name).service.host : "main";
        return { host, words: args, interactive: args.length === 0 };
    }
    if (op === "console") {
        if (name !== undefined && name !== CONSOLE.service && name !== CONSOLE.container) throw new Error(`console is Chatwoot's Rails console; for a shell in ${name} use npm run exec -- <stack> ${name}`);
        if (args.length) throw new Error(`console takes no command; for one in the rails container use npm run exec -- <stack> ${CONSOLE.container} …`);
        const t = findTarget(CONSOLE.container);
        return { host: t.service.host, words: ["docker", "exec", "-i", ...(tty ? ["-t"] : []), t.container, ...CONSOLE.command], interactive: true };
    }
    if (!name) throw new Error("which service? give a service or container name after the stack");
    const t = findTarget(name);
    const command = args.length ? args : ["sh"];
    return { host: t.service.host, words: ["docker", "exec", "-i", ...(tty ? ["-t"] : []), t.container, ...command], interactive: args.length === 0 };
}

/** Splits argv: target options and the stack/service words first; everything after the service (or a `--`) is the command. */
export function splitArgs(op: Operation, argv: readonly string[]): { target: TargetOptions; stack?: string; name?: string; command: string[] } {
    const dash = argv.indexOf("--");
    const head = dash >= 0 ? argv.slice(0, dash) : [...argv];
    let tail = dash >= 0 ? argv.slice(dash + 1) : [];
    const want = op === "console" ? 1 : 2;
    // Options before the command only: a command's own --flags belong to it.
    const words: string[] = [];
    const opts: string[] = [];
    for (let i = 0; i < head.length; i++) {
        if (words.length >= want && dash < 0 && op !== "console") {
            tail = head.slice(i);
            break;
        }
        const a = head[i];
        if (a.startsWith("--")) {
            opts.push(a);
            if (head[i + 1] !== undefined) opts.push(head[++i]);
        } else words.push(a);
    }
    const { target, rest } = takeTargetOptions(opts);
    if (rest.length) throw new Error(`unknown option ${rest[0]}`);
    if (words.length > want) throw new Error(`unexpected argument ${words[want]}`);
    return { target, stack: words[0], name: op === "console" ? undefined : words[1], command: tail };
}

