import type { Plan } from "./plan";
import type { Ssh, SshAgent } from "./ssh";
import type { Vm } from "./vm";

/** What the phases share. Filled in as the run goes: a phase may rely on what the phases before it set. */
export interface Context {
    /** The repository. */
    readonly root: string;
    /** This run's temp folder (removed at the end). */
    readonly dir: string;
    /** Where built images are cached between runs. */
    readonly cacheDir: string;
    readonly stack: string;
    /** Prints a line under the current phase. */
    log(message: string): void;
    /** Records a figure (seconds) for the closing table. */
    figure(name: string, seconds: number): void;
    /** Renders the stack with the VM's overrides plus `extra` (a second render, e.g. with a key removed); `secrets` names keys of `extra` set as secrets. */
    render(extra?: Record<string, unknown>, secrets?: readonly string[]): Promise<Plan>;

    images?: { base: string; apps: string };
    /** The render the VM runs (VM overrides only). */
    plan?: Plan;
    /** Agents: `main` holds the key every step logs in with, `other` a second key that a later phase removes. */
    agents?: { main: SshAgent; other: SshAgent };
    vm?: Vm;
    ssh?: Ssh;
    /** 127.0.0.1 port forwarded to the VM's 443 (Caddy). */
    httpsPort?: number;
}

export interface Phase {
    readonly name: string;
    /** A short name: tags the lines of a phase that runs in a lane, and names it in VISUALKIT_HOST_TEST_PHASES. */
    readonly tag: string;
    /** Upper bound on the phase; generous, the machine is shared and the VM emulated. */
    readonly timeoutMs: number;
    /** When a critical phase fails the run stops (later phases need what it builds). @default true */
    readonly critical?: boolean;
    run(ctx: Context): Promise<void>;
}

/**
 * One step of the tier: a phase, or lanes of phases that run at the same time (each lane in its order) because no
 * lane needs what another changes and each spends most of its time waiting on the emulated VM (health intervals,
 * package installs, Docker's import). Lines of a lane's phases are tagged with the phase.
 */
export type Step = Phase | { readonly lanes: readonly (readonly Phase[])[] };

export const phasesOf = (steps: readonly Step[]): Phase[] => steps.flatMap((s) => ("lanes" in s ? s.lanes.flat() : [s]));

/** The VM's state, or a clear error when a phase runs without the phase that makes it. */
export function need<T>(value: T | undefined, what: string): T {
    if (value === undefined) throw new Error(`${what} is missing: an earlier phase did not run`);
    return value;
}
