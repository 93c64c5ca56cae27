/**
 * Durations in the form Go's `time.Duration.String()` prints them (`30s`, `1m0s`, `3m0s`, `1h0m0s`): the form the
 * Docker provider stores after reading a container back. kreuzwerker/terraform-provider-docker v4.5.0,
 * internal/provider/resource_docker_container_funcs.go:964-966 flattens `interval`, `timeout` and `start_period` with
 * `container.Config.Healthcheck.Interval.String()` (and Timeout, StartPeriod); the next `pulumi up` diffs the program's
 * inputs against that, so an input of `180s` differs from the stored `3m0s` on every run and, with
 * `replaceOnChanges: ["*"]`, replaced the container every time. Pure: no Pulumi import.
 */

const UNIT_NS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
/** A duration as Go's time.ParseDuration accepts it (signless here; Docker refuses negative ones anyway). */
export const GO_DURATION = /^(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h)(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))*$|^0$/;

/** Nanoseconds of a Go duration string (time.ParseDuration), or undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
    if (!GO_DURATION.test(text)) return undefined;
    if (text === "0") return 0;
    let total = 0;
    for (const m of text.matchAll(/((?:\d+(?:\.\d*)?|\.\d+))(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(m[1]) * UNIT_NS[m[2]];
    return Math.round(total);
}

/** Go's fractional part: trailing zeros dropped (time.fmtFrac). */
function frac(value: number, digits: number): string {
    const s = String(value).padStart(digits, "0").replace(/0+$/, "");
    return s ? `.${s}` : "";
}

/** time.Duration.String() of a number of nanoseconds (non-negative). */
export function formatGoDuration(ns: number): string {
    if (!Number.isInteger(ns) || ns < 0) throw new Error(`formatGoDuration: ${ns} is not a non-negative whole number of nanoseconds`);
    if (ns === 0) return "0s";
    if (ns < 1e3) return `${ns}ns`;
    if (ns < 1e6) return `${Math.floor(ns / 1e3)}${frac(ns % 1e3, 3)}µs`;
    if (ns < 1e9) return `${Math.floor(ns / 1e6)}${frac(ns % 1e6, 6)}ms`;
    const seconds = Math.floor(ns / 1e9);
    const s = `${seconds % 60}${frac(ns % 1e9, 9)}s`;
    const minutes = Math.floor(seconds / 60);
    if (minutes === 0) return s;
    const hours = Math.floor(minutes / 60);
    return hours === 0 ? `${minutes}m${s}` : `${hours}h${minutes % 60}m${s}`;
}

/** Whole seconds as Docker's provider stores them: 30 → `30s`, 60 → `1m0s`, 180 → `3m0s`. */
export function goSeconds(seconds: number): string {
    return formatGoDuration(seconds * 1e9);
}

/** What the provider stores for a duration the program sends (the string itself when it is not a duration). */
export function canonicalGoDuration(text: string): string {
    const ns = parseGoDuration(text);
    return ns === undefined ? text : formatGoDuration(ns);
}
