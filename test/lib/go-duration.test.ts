import { readFileSync } from "node:fs";
import { join } from "node:path";
import { canonicalGoDuration, formatGoDuration, GO_DURATION, goSeconds, parseGoDuration } from "../../lib/go-duration";
import { ROOT } from "../helpers/program";

/**
 * The Docker provider stores health-check durations as Go's time.Duration.String() prints them
 * (terraform-provider-docker v4.5.0 internal/provider/resource_docker_container_funcs.go:964-966) and the next `up`
 * diffs the program's inputs against that: every duration the program sends must already be in that form.
 */

test("formats durations as Go's time.Duration.String() does (values from the Go documentation and go/src/time tests)", () => {
    // pkg.go.dev/time#Duration.String: "72h3m0.5s"; time_test.go durationTests.
    const go: [number, string][] = [
        [0, "0s"],
        [1, "1ns"],
        [1100, "1.1µs"],
        [2200000, "2.2ms"],
        [3300000000, "3.3s"],
        [4 * 60e9 + 5e9, "4m5s"],
        [4 * 60e9 + 5.001e9, "4m5.001s"],
        [5 * 3600e9 + 6 * 60e9 + 7.001e9, "5h6m7.001s"],
        [8 * 60e9 + 1, "8m0.000000001s"],
        [72 * 3600e9 + 3 * 60e9 + 0.5e9, "72h3m0.5s"],
    ];
    for (const [ns, text] of go) expect([ns, formatGoDuration(ns)]).toEqual([ns, text]);
    expect([goSeconds(30), goSeconds(60), goSeconds(90), goSeconds(180), goSeconds(3600)]).toEqual(["30s", "1m0s", "1m30s", "3m0s", "1h0m0s"]);
    expect([parseGoDuration("180s"), parseGoDuration("1m30s"), parseGoDuration("1.5h"), parseGoDuration("abc")]).toEqual([180e9, 90e9, 5400e9, undefined]);
    expect(canonicalGoDuration("180s")).toBe("3m0s");
});

/** Every string anywhere in a value, with its path. */
function strings(v: unknown, path: string, out: [string, string][]): [string, string][] {
    if (typeof v === "string") out.push([path, v]);
    else if (Array.isArray(v)) v.forEach((x, i) => strings(x, `${path}[${i}]`, out));
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) strings(x, `${path}.${k}`, out);
    return out;
}

test.each(["dev", "prod"])("%s: every duration-shaped input of every resource is already in the provider's stored form", (stack) => {
    const resources = JSON.parse(readFileSync(join(ROOT, "rendered", stack, "resources.json"), "utf8")) as { name: string; inputs: unknown }[];
    // Docker's log options are sizes (`max-size: 10m` is 10 MB), stored as given in a string map: not durations.
    const durations = resources.flatMap((r) => strings(r.inputs, r.name, []).filter(([p, s]) => GO_DURATION.test(s) && s !== "0" && !p.includes(".logOpts.")));
    // The containers' health checks at least (interval, timeout, start period): the walk must find them.
    expect(durations.filter(([p]) => p.endsWith(".healthcheck.startPeriod")).length).toBeGreaterThanOrEqual(8);
    const notCanonical = durations.filter(([, s]) => canonicalGoDuration(s) !== s).map(([p, s]) => `${p} = ${s} (stored as ${canonicalGoDuration(s)})`);
    expect(notCanonical).toEqual([]);
});
