import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { readStackYaml } from "../../config/stack-yaml";
import { ROOT } from "../helpers/program";

/*
 * The stack file as the Pulumi CLI hands it to the program. Each expected value is what yaml.v3 v3.0.1 and Pulumi's
 * config.Value make of the scalar (config/stack-yaml.ts cites the lines): they are the CLI's answers, not this
 * reader's, and several differ from YAML 1.2's core schema that the npm `yaml` package (the old reader) applied.
 */
const read = (body: string) => readStackYaml(`config:\n${body}`, "visualkit", "Pulumi.test.yaml", "[secret]");
const one = (scalar: string) => read(`  visualkit:k: ${scalar}\n`).values["visualkit:k"];
const core = (scalar: string) => {
    const v = (parse(`k: ${scalar}`) as { k: unknown }).k;
    return typeof v === "string" ? v : JSON.stringify(v);
};

describe("a top-level scalar reaches the program as the CLI hands it over", () => {
    test.each([
        // [as written, what the CLI hands over, why]
        ["2.10", "2.1", "a float: yaml.v3 ParseFloat, then JSON"],
        ['"2.10"', "2.10", "quoted: a string, kept"],
        ["'2.10'", "2.10", "single-quoted: a string, kept"],
        ["!!str 2.10", "2.10", "tagged a string"],
        ["1.10", "1.1", "a float"],
        ["0123", "83", "a leading 0 is octal to Go's ParseInt base 0"],
        ["08", "8", "not octal, so ParseFloat: 8"],
        ["0x32", "50", "hexadecimal"],
        ["0o17", "15", "YAML 1.2 octal"],
        ["0b101", "5", "binary"],
        ["1_000", "1000", "underscores are dropped before ParseInt"],
        ["1e2", "100", "a float written back with 'g' and read again as the int 100"],
        ["+12", "12", "a sign"],
        ["-0", "0", "negative zero is the int 0"],
        [".5", "0.5", "a float starting with a dot"],
        ["99999999999999999999999", "1e+23", "beyond uint64: a float"],
        ["18446744073709551615", "18446744073709551615", "uint64's maximum stays exact"],
        ["True", "true", "YAML 1.2 booleans, any of three spellings"],
        ["FALSE", "false", "YAML 1.2 booleans"],
        ["yes", "yes", "not a boolean in yaml.v3"],
        ["on", "on", "not a boolean in yaml.v3"],
        ["2026-12-04", "2026-12-04 00:00:00 +0000 UTC", "a timestamp, printed by Go's time.Time.String"],
        ["2026-12-04T10:20:30Z", "2026-12-04 10:20:30 +0000 UTC", "a timestamp with a time"],
        ["2026-13-04", "2026-13-04", "no such month: a string"],
        ["v1.2.3", "v1.2.3", "text"],
        ["1.2.3", "1.2.3", "not a number: text"],
        ["ssh-ed25519 AAAA x", "ssh-ed25519 AAAA x", "text with spaces"],
    ])("%s → %s (%s)", (written, cli) => {
        const r = read(`  visualkit:k: ${written}\n`);
        expect(r.problems).toEqual([]);
        expect(r.values["visualkit:k"]).toBe(cli);
    });

    test("the old reader (YAML 1.2 core schema) read some of them otherwise: the render and the deploy differed", () => {
        const differs = ["0123", "1_000", "0b101", "08", "2026-12-04", "18446744073709551615"].filter((s) => core(s) !== one(s));
        expect(differs).toEqual(["0123", "1_000", "0b101", "2026-12-04", "18446744073709551615"]);
        // ...and agreed on these, where the CLI changes the text too: they are refused with "quote it" (quote-it.test.ts).
        expect(["2.10", "1e2", "0x32", "True"].map(core)).toEqual(["2.1", "100", "50", "true"]);
    });

    test("lists and maps reach the program as JSON with those types", () => {
        const r = read("  visualkit:env:\n    A: 1.10\n    B: \"1.10\"\n    C: 0123\n    D: 2026-12-04\n  visualkit:l:\n    - 10 mx.zoho.com\n    - 7\n");
        expect(r.problems).toEqual([]);
        expect(JSON.parse(r.values["visualkit:env"])).toEqual({ A: 1.1, B: "1.10", C: 83, D: "2026-12-04 00:00:00 +0000 UTC" });
        expect(JSON.parse(r.values["visualkit:l"])).toEqual(["10 mx.zoho.com", 7]);
        expect(r.written["visualkit:env.C"]).toEqual({ source: "0123", kind: "int", cli: "83", line: 5 });
        expect(r.written["visualkit:env.B"]).toBeUndefined();
    });

    test("keys without a namespace belong to the project; encrypted values become the placeholder and mark the key secret", () => {
        const r = read("  domain: dev.visualkit.live\n  visualkit:geminiApiKey:\n    secure: v1:AAAA\n  visualkit:platformApiSecretEnv:\n    DB:\n      secure: v1:BBBB\n");
        expect(r.values).toEqual({ "visualkit:domain": "dev.visualkit.live", "visualkit:geminiApiKey": "[secret]", "visualkit:platformApiSecretEnv": '{"DB":"[secret]"}' });
        expect([...r.secretKeys].sort()).toEqual(["visualkit:geminiApiKey", "visualkit:platformApiSecretEnv"]);
    });

    test("anchors and aliases read as the anchored value", () => {
        expect(read("  visualkit:a: &x \"7\"\n  visualkit:b: *x\n").values["visualkit:b"]).toBe("7");
    });
});

describe("what makes the CLI refuse the file is a listed problem with its line, never an exception", () => {
    test.each([
        ["a key set twice", "  visualkit:domain: a.example\n  visualkit:domain: b.example\n", "visualkit:domain", /line 3\) is set twice \(first at line 2\); the Pulumi CLI refuses the whole file/, /remove one of the two visualkit:domain: lines/],
        ["a key twice inside a map", "  visualkit:ports:\n    platformApi: 1\n    platformApi: 2\n", "visualkit:ports", /has the key "platformApi" twice/, /remove one/],
        ["a map key YAML reads as a number", "  visualkit:hostnames:\n    123: api\n", "visualkit:hostnames", /key 123, which YAML reads as a number/, /quote it: "123":/],
        ["a merge key", "  visualkit:ports:\n    <<: {platformApi: 4001}\n", "visualkit:ports", /uses a YAML merge key/, /write the merged keys out/],
        ["an empty value", "  visualkit:acmeEmail:\n", "visualkit:acmeEmail", /has no value/, /give it a value, or remove the line/],
        ["~", "  visualkit:acmeEmail: ~\n", "visualkit:acmeEmail", /has no value/, /remove the line/],
        [".inf", "  visualkit:volumeSizeGb: .inf\n", "visualkit:volumeSizeGb", /\.nan or \.inf/, /write a number/],
        ["a custom tag", "  visualkit:domain: !env DOMAIN\n", "visualkit:domain", /carries the YAML tag !env/, /remove the tag/],
        ["broken YAML", "  visualkit:domain: [a\n", "Pulumi.test.yaml", /line \d+:/, /fix the file's YAML syntax/],
    ])("%s", (_, body, key, problem, fix) => {
        const r = read(body);
        expect(r.problems).toEqual([expect.objectContaining({ key, problem: expect.stringMatching(problem), fix: expect.stringMatching(fix) })]);
    });

    test("an empty file or an empty config section is no config at all", () => {
        expect(readStackYaml("", "visualkit", "f", "x").problems).toEqual([]);
        expect(readStackYaml("config:\n", "visualkit", "f", "x").values).toEqual({});
    });

    test("a file that is not a map says so", () => {
        expect(readStackYaml("- a\n- b\n", "visualkit", "f", "x").problems[0].problem).toMatch(/is not a YAML map with a config: section/);
    });
});

test.each(["dev", "prod"])("the committed Pulumi.%s.yaml reads with no problem, every value as the CLI hands it over", (stack) => {
    const r = readStackYaml(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8"), "visualkit", `Pulumi.${stack}.yaml`, "[secret]");
    expect(r.problems).toEqual([]);
    expect(r.values["visualkit:volumeSizeGb"]).toMatch(/^\d+$/);
    expect(r.values["visualkit:protect"]).toMatch(/^(true|false)$/);
    // The only non-string scalars are the booleans and the volume size, written as the CLI reads them.
    for (const w of Object.values(r.written)) expect(w.cli).toBe(w.source);
});
