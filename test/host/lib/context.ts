import type { NspawnHost } from "./nspawn";
import type { Plan } from "./plan";
import type { Ssh, SshAgent } from "./ssh";
import type { Vm } from "./vm";

/** What the phases share. Filled in as the run goes: a phase may rely on what the phases before it (in its lane) set. */
export interface Context {
    /** The repository. */
    readonly root: string;
    /** This run's temp folder (removed at the end). */
    readonly dir: string;
    /** Where built images and the VM lane's pass records are cached between runs. */
    readonly cacheDir: string;
    readonly stack: string;
    /** Prints a line under the current phase. */
    log(message: string): void;
    /** Records a figure (seconds) for the closing table. */
    figure(name: string, seconds: number): void;
    /** Renders the stack with the test hosts' overrides plus `extra` (a second render, e.g. with a key removed); `secrets` names keys of `extra` set as secrets. */
    render(extra?: Record<string, unknown>, secrets?: readonly string[]): Promise<Plan>;

    images?: { base: string; apps?: string };
    /** The render the hosts run (the test overrides only); a phase that deploys another render sets it to what is deployed. */
    plan?: Plan;
    /** Agents: `main` holds the key every step logs in with, `other` a second key that a later phase removes. */
    agents?: { main: SshAgent; other: SshAgent };

    /** The native host (phases/native.ts): the program's day-2 steps, containers, rollout, backups run here. */
    native?: NspawnHost;
    /** SSH to the native host through the main agent. */
    ssh?: Ssh;
    /** 127.0.0.1 port forwarded to the native host's 443 (Caddy). */
    httpsPort?: number;

    /** The VM lane (phases/vm.ts): a cold boot, the volume, a real reboot. */
    vm?: Vm;
    vmSsh?: Ssh;
}

export interface Phase {
    readonly name: string;
    /** A short name: tags the phase's lines, and names it in VISUALKIT_HOST_TEST_PHASES. */
    readonly tag: string;
    /** Upper bound on the phase; generous, the machine is shared. */
    readonly timeoutMs: number;
    /** When a critical phase fails, the rest of its lane (and what follows the lanes) is not run. @default true */
    readonly critical?: boolean;
    /** The machine it drives, for the diagnostics printed when it fails. @default "native" */
    readonly on?: "native" | "vm" | "none";
    run(ctx: Context): Promise<void>;
}

/**
 * A group of steps skipped when a previous pass with the same inputs is on record (the VM lane): `key` hashes
 * everything that decides its outcome; a pass of every phase in it is recorded under that hash.
 */
export interface Cached {
    readonly cached: string;
    key(ctx: Context): Promise<{ hash: string; inputs: string[] }>;
    readonly steps: readonly Step[];
}

/**
 * One step of the tier: a phase, lanes of steps that run at the same time (each lane in its order, a lane may hold
 * lanes again), or a cached group. Lanes share no state they change; each lane's lines are tagged with its phase.
 */
export type Step = Phase | { readonly lanes: readonly (readonly Step[])[] } | Cached;

export const phasesOf = (steps: readonly Step[]): Phase[] =>
    steps.flatMap((s) => ("lanes" in s ? s.lanes.flatMap((l) => phasesOf(l)) : "cached" in s ? phasesOf(s.steps) : [s]));

/** The state a phase needs, or a clear error when it runs without the phase that makes it. */
export function need<T>(value: T | undefined, what: string): T {
    if (value === undefined) throw new Error(`${what} is missing: an earlier phase did not run`);
    return value;
}
