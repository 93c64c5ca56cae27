import fc from "fast-check";
import { checkCalendar } from "../../config/calendar";
import * as checks from "../../config/checks";
import { fullKey, KEYS } from "../../config/keys";
import { isRealDkimKey, isExampleSshKey } from "../../config/sections/placeholders";
import { readStackYaml } from "../../config/stack-yaml";
import * as validators from "../../config/validators";
import { parseConfig, type LocalFacts, type RawConfig } from "../../stack";
import { NO_FILES, stackRaw } from "../helpers/config-reader";

/*
 * No validator can throw: random scalars, lists and maps for every key, alone and together, on both committed
 * stacks, offline and under a real engine. A throw would lose every other problem behind one stack trace (an IPv6
 * zone id did exactly that). Each run either builds the config or lists problems, each naming a key and a fix.
 */

const scalar = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.constantFrom("", " ", "\n", "true", "True", "0", "-1", "1e+23", "2.10", "0123", "null", "[]", "{}", "@", "..", "/", "%", "fe80::%eth0/64", "::ffff:1.2.3.4/128", "{$HOME}", "`", "*-*-* 25:00", "s3:http://x/y", "sftp:", "\u0000", "é"),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
);
const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, fc.array(tie("v"), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 12 }), tie("v"), { maxKeys: 4 })),
})).v;

/** How the CLI hands a value over: text as is, anything else as JSON (what JSON cannot hold, as the CLI's text). */
const asCli = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v) ?? String(v));
const KEY_NAMES = [...KEYS.map((k) => k.key), "hcloud:token", "cloudflare:apiToken", "visualkt:domain", "aws:region", "pulumi:tags", "unknownKey"];
const ENGINES: (LocalFacts["engine"] | undefined)[] = [undefined, "preview", "up"];

function raw(stack: "dev" | "prod", set: Record<string, unknown>, engine: LocalFacts["engine"] | undefined): RawConfig {
    const values = Object.fromEntries(Object.entries(set).map(([k, v]) => [fullKey(k), asCli(v)]));
    return stackRaw(stack, values, { local: { ...NO_FILES, engine, ...(engine === "up" ? { sshAgent: { state: "unset" as const } } : {}) } });
}

function expectProblemsOrConfig(r: RawConfig): void {
    const result = parseConfig(r);
    expect(Array.isArray(result.issues)).toBe(true);
    if (result.config === undefined) expect(result.issues.length).toBeGreaterThan(0);
    else expect(result.issues).toEqual([]);
    for (const i of result.issues) {
        expect(typeof i.key === "string" && i.key.length > 0).toBe(true);
        expect(typeof i.problem === "string" && i.problem.length > 0).toBe(true);
        expect(typeof i.fix === "string" && i.fix.length > 0).toBe(true);
    }
}

/** Whether the program, handed `v` as the CLI hands it, sees a value of the wrong type for the key. */
const typed = (key: string, given: unknown): boolean => {
    const spec = KEYS.find((k) => k.key === key);
    if (!spec) return false;
    let v: unknown = given;
    if (typeof given === "string" && (spec.type === "array" || spec.type === "object")) {
        try {
            v = JSON.parse(given);
        } catch {
            v = given;
        }
    }
    if (spec.type === "array") return !Array.isArray(v) || v.some((x) => typeof x !== "string");
    if (spec.type === "object") return v !== null && !Array.isArray(v) && typeof v !== "object" && !(typeof v === "string" && /^\s*[{[]/.test(v));
    if (spec.type === "integer") return typeof v === "boolean" || v === null || Array.isArray(v) || (typeof v === "object" && v !== null) || (typeof v === "number" && !Number.isInteger(v));
    if (spec.type === "boolean") return typeof v === "number" || Array.isArray(v) || (typeof v === "object" && v !== null) || (typeof v === "string" && !["true", "false"].includes(v.trim()));
    return false;
};

describe("parseConfig never throws", () => {
    test("one key at a time, every key, any value: problems or a config, and a wrongly typed value names its key", () => {
        fc.assert(
            fc.property(fc.constantFrom(...KEY_NAMES), value, fc.constantFrom("dev" as const, "prod" as const), fc.constantFrom(...ENGINES), (key, v, stack, engine) => {
                const r = raw(stack, { [key]: v }, engine);
                expectProblemsOrConfig(r);
                if (typed(key, v)) expect(parseConfig(r).issues.map((i) => i.key).some((k) => k.startsWith(fullKey(key)))).toBe(true);
            }),
            {
                numRuns: 600,
                examples: [
                    ["sshAllowedCidrs", ["fe80::%eth0/64"], "prod", undefined],
                    ["sshAllowedCidrs", ["fe80::%/0"], "prod", "up"],
                    ["hostnames", { api: 123 }, "prod", undefined],
                    ["janusRtpPorts", "1-65535", "prod", undefined],
                    ["adopt", { "visualkit-prod-x": null }, "prod", undefined],
                    ["ports", { platformApi: "x" }, "dev", "preview"],
                    ["platformApiSecretEnv", { A: { b: 1 } }, "prod", "up"],
                    ["backupRepository", "sftp:", "prod", undefined],
                ],
            },
        );
    });

    test("many keys at once", () => {
        fc.assert(
            fc.property(fc.dictionary(fc.constantFrom(...KEY_NAMES), value, { maxKeys: 12 }), fc.constantFrom("dev" as const, "prod" as const), fc.constantFrom(...ENGINES), (set, stack, engine) => {
                expectProblemsOrConfig(raw(stack, set, engine));
            }),
            { numRuns: 200 },
        );
    });

    test("values that are not what the CLI can hand over (broken JSON, control characters) for every key", () => {
        fc.assert(
            fc.property(fc.constantFrom(...KEY_NAMES), fc.string({ unit: "binary", maxLength: 60 }).map((s) => `${s}{[`), (key, text) => {
                expectProblemsOrConfig(raw("prod", { [key]: text }, "up"));
            }),
            { numRuns: 200 },
        );
    });
});

describe("the stack-file reader never throws", () => {
    test("on any YAML it can be given (random text, and random structures written as YAML)", () => {
        const yamlText = fc.oneof(
            fc.string({ unit: "binary", maxLength: 200 }),
            fc.dictionary(fc.constantFrom(...KEY_NAMES.map(fullKey)), value, { maxKeys: 6 }).map((config) => {
                const lines = Object.entries(config).map(([k, v]) => `  ${k}: ${JSON.stringify(v) ?? "~"}`);
                return `config:\n${lines.join("\n")}\n`;
            }),
            fc.array(fc.constantFrom("config:", "  visualkit:a: 1", "  visualkit:a: 2", "  - x", "    b: 0x1", "  ? [a]", "  : b", "  visualkit:c: &x 5", "  visualkit:d: *x", "  visualkit:e: !!binary aGk=", "\t", "  123: x", "  visualkit:f:", "    secure: v1:x"), { maxLength: 12 }).map((l) => l.join("\n")),
        );
        fc.assert(
            fc.property(yamlText, (text) => {
                const r = readStackYaml(text, "visualkit", "Pulumi.x.yaml", "[secret]");
                for (const v of Object.values(r.values)) expect(typeof v).toBe("string");
                for (const p of r.problems) expect(p.problem.length).toBeGreaterThan(0);
            }),
            { numRuns: 400 },
        );
    });
});

describe("every format check returns a reason or undefined, whatever it is given", () => {
    const fns: [string, (v: string) => unknown][] = [
        ...Object.entries(checks).filter(([, f]) => typeof f === "function").map(([n, f]) => [`checks.${n}`, f as (v: string) => unknown] as [string, (v: string) => unknown]),
        ...Object.entries(validators).filter(([, f]) => typeof f === "function").map(([n, f]) => [`validators.${n}`, f as (v: string) => unknown] as [string, (v: string) => unknown]),
        ["checkCalendar", checkCalendar],
        ["isRealDkimKey", isRealDkimKey],
        ["isExampleSshKey", isExampleSshKey],
    ];
    /** The checks that take no text, each with what it takes; a name here that no longer exists fails the next test. */
    const NOT_TEXT: Record<string, string> = { "checks.within": "a parsed network and ranges", "validators.isPinned": "a parsed image reference", "validators.isPort": "a number" };
    test("every check left out exists (a removed one is taken off the list)", () => {
        expect(Object.keys(NOT_TEXT).filter((n) => !fns.some(([f]) => f === n))).toEqual([]);
    });
    test.each(fns.filter(([n]) => !(n in NOT_TEXT)))("%s", (_, fn) => {
        fc.assert(
            fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 80 }), fc.constantFrom("fe80::%eth0/64", "::/0", "a@b", "x".repeat(300), "1.2.3.4/033", "[::1]:1")), (s) => {
                fn(s);
            }),
            { numRuns: 200 },
        );
    });
});
