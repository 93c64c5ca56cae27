import { shellQuote } from "./shipped";

/**
 * The readiness gate of a replicated container (one with a standby copy): the remote step `pulumi up` waits on after
 * creating a copy, instead of the Docker provider's `wait` on Docker's health status. Pure, so the tests run the text.
 *
 * Why not Docker's status: Docker (20.10, Debian 12's docker.io) runs a container's first health check one `interval`
 * after its start — moby daemon/health.go `monitor` waits `probeInterval` before every probe; `start_period` only
 * forgives failures —, so with the reference's 30 s interval each copy is "starting" for 30 s however fast the
 * service boots, and a standby-then-primary update waited ~65 s on two of them. `start_interval` (probe sooner while
 * starting) needs Docker ≥ 25 (API 1.44); older engines ignore the field. A 5 s interval would make the same update fast
 * but run 6× the probes forever, each a `docker exec` (a runc process in the container), on every container.
 *
 * So the gate runs the container's *own* health check — the very command Docker runs, inside the container — once a
 * second until it passes, only while a deploy waits: seconds after the service answers, and no steady cost. It fails,
 * naming the container, when the container stops, restarts or Docker marks it unhealthy, or after `limitSeconds`
 * (what the provider's `waitTimeout` allowed). Safe to re-run: it only reads.
 */

/** The first line of every gate: the sequence model and the tier find the container a gate waits for by it. */
export const READINESS_MARKER = "# readiness gate:";
export const readinessTarget = (script: string): string | undefined => new RegExp(`^${READINESS_MARKER} (\\S+)$`, "m").exec(script)?.[1];

/** The health check's `tests` (Docker's form: `CMD-SHELL <text>` or `CMD <argv…>`) as the arguments of `docker exec <name>`. */
export function probeArgs(tests: readonly string[]): string[] {
    const [kind, ...rest] = tests;
    if (kind === "CMD-SHELL" && rest.length === 1) return ["/bin/sh", "-c", rest[0]];
    if (kind === "CMD" && rest.length > 0) return rest;
    throw new Error(`readiness gate: health check ${JSON.stringify(tests)} is neither CMD-SHELL <text> nor CMD <argv…>`);
}

export interface ReadinessArgs {
    /** Docker name of the container. */
    readonly container: string;
    /** Its health check's `tests`. */
    readonly tests: readonly string[];
    /** Seconds one probe may take (the health check's `timeout`). */
    readonly probeTimeoutSeconds: number;
    /** Seconds until the gate gives up. */
    readonly limitSeconds: number;
    /** Seconds between probes. @default 1 */
    readonly everySeconds?: number;
}

export function readinessScript(a: ReadinessArgs): string {
    if (!/^[\w.-]+$/.test(a.container)) throw new Error(`readiness gate: container name ${a.container} is not a plain Docker name`);
    const probe = probeArgs(a.tests).map(shellQuote).join(" ");
    return [
        `${READINESS_MARKER} ${a.container}`,
        // The probe is the health check's own text, expanded inside the container, not here.
        "# shellcheck disable=SC2016",
        "set -u",
        `name=${a.container}`,
        `limit=${a.limitSeconds}`,
        "start=$(date +%s)",
        "fail() { echo \"readiness: $name $1\" >&2; docker logs --tail 50 \"$name\" >&2 2>&1; exit 1; }",
        "while :; do",
        "  state=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' \"$name\" 2>&1) || { echo \"readiness: $name: $state\" >&2; exit 1; }",
        "  case \"$state\" in",
        "    running*unhealthy) fail \"did not pass its health check (Docker marks it unhealthy)\" ;;",
        "    running*) ;;",
        "    *) fail \"is $state, not running\" ;;",
        "  esac",
        `  if timeout ${a.probeTimeoutSeconds} docker exec "$name" ${probe} >/dev/null 2>&1; then`,
        "    echo \"$name ready after $(( $(date +%s) - start )) s\"",
        "    exit 0",
        "  fi",
        "  [ $(( $(date +%s) - start )) -lt \"$limit\" ] || fail \"did not pass its health check in $limit s\"",
        `  sleep ${a.everySeconds ?? 1}`,
        "done",
        "",
    ].join("\n");
}
