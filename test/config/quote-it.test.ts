import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../config/issues";
import { writtenInStackFile } from "../../config/local";
import { readStackYaml } from "../../config/stack-yaml";
import { parseConfig, type RawConfig } from "../../stack";
import { readStackConfig } from "../../stack/stack-config";
import { NO_FILES } from "../helpers/config-reader";
import { ROOT, stackConfig } from "../helpers/program";

/**
 * The committed stack file with some lines changed, read as the CLI reads it: the values the program is handed and
 * how each changed scalar was written (RawConfig.written), which is all the program can go by.
 */
function withLines(stack: "dev" | "prod", lines: string): RawConfig {
    const base = stackConfig(stack);
    const change = readStackYaml(`config:\n${lines}`, "visualkit", `Pulumi.${stack}.yaml`, "[secret]");
    expect(change.problems).toEqual([]);
    return { project: base.project, stack, values: { ...base.config, ...change.values }, secretKeys: new Set(base.secretKeys), env: {}, local: NO_FILES, written: change.written };
}

const problemsOf = (raw: RawConfig) => parseConfig(raw).issues;

describe("a string key written as a YAML number, boolean or date is refused with 'quote it'; quoted, it is kept as written", () => {
    test.each([
        ["caddyVersion", "2.10", "2.1"],
        ["pagesProductionBranch", "1.10", "1.1"],
        ["pagesProductionBranch", "2026-12-04", "2026-12-04 00:00:00 +0000 UTC"],
        ["emailDkimSelector", "0123", "83"],
        ["serverType", "1e2", "100"],
    ])("%s: %s (handed over as %s)", (key, written, cli) => {
        const found = problemsOf(withLines("prod", `  visualkit:${key}: ${written}\n`));
        expect(found).toEqual([
            expect.objectContaining({
                key: `visualkit:${key}`,
                problem: expect.stringContaining(`the Pulumi CLI hands the program "${cli}", not "${written}"`),
                fix: `quote it in Pulumi.prod.yaml: visualkit:${key}: "${written}"`,
            }),
        ]);
    });

    test("quoted, the same text is what the program reads: caddyVersion \"2.10\" gives the 2.10 Caddyfile rules", () => {
        const { config, issues } = parseConfig(withLines("prod", '  visualkit:caddyVersion: "2.10"\n  visualkit:pagesProductionBranch: "1.10"\n'));
        expect(issues).toEqual([]);
        expect(config?.caddyVersion).toBe("2.10");
        expect(config?.pages.productionBranch).toBe("1.10");
    });

    test("a number that YAML reads as written is taken: pagesProductionBranch: 110", () => {
        expect(parseConfig(withLines("prod", "  visualkit:pagesProductionBranch: 110\n")).config?.pages.productionBranch).toBe("110");
    });
});

describe("numbers and booleans are read as the deploy reads them", () => {
    test.each([
        ["volumeSizeGb: 1e2", 100],
        ["volumeSizeGb: 0x32", 50],
        ["volumeSizeGb: 1_00", 100],
        ["volumeSizeGb: +64", 64],
    ])("%s → %s GB", (line, gb) => {
        const { config, issues } = parseConfig(withLines("prod", `  visualkit:${line}\n`));
        expect(issues).toEqual([]);
        expect(config?.server.volumeSizeGb).toBe(gb);
    });

    test.each([["protect: True", true], ["protect: FALSE", false], ["serverBackups: False", false]])("%s → %s", (line, value) => {
        const { config, issues } = parseConfig(withLines("prod", `  visualkit:${line}\n`));
        expect(issues).toEqual([]);
        expect(line.startsWith("protect") ? config?.protect : config?.server.backups).toBe(value);
    });

    test("a leading 0 makes YAML read octal (0100 is 64): refused rather than deployed as 64 GB", () => {
        expect(problemsOf(withLines("prod", "  visualkit:volumeSizeGb: 0100\n"))).toEqual([
            expect.objectContaining({ key: "visualkit:volumeSizeGb", problem: expect.stringMatching(/written 0100 .*as an octal number: the Pulumi CLI hands the program "64"/), fix: expect.stringMatching(/quote it/) }),
        ]);
    });

    test("a huge whole number says it is too large, not 'not a whole number, not 1e+23'", () => {
        const found = problemsOf(withLines("prod", "  visualkit:volumeSizeGb: 99999999999999999999999\n"));
        expect(found).toEqual([expect.objectContaining({ key: "visualkit:volumeSizeGb", problem: "99999999999999999999999 (handed to the program as 1e+23) is far too large" })]);
        expect(found[0].fix).toMatch(/pulumi config set visualkit:volumeSizeGb/);
        expect(problemsOf(withLines("prod", "  visualkit:chatwootSmtpPort: 9007199254740993\n"))[0].problem).toMatch(/is far too large/);
    });
});

describe("environment values keep their text: a number in an env map is refused with 'quote it'", () => {
    test.each([
        ["1.10", "the number 1.1"],
        ["0123", "the number 83"],
        ["true", "the boolean true"],
        ["2", "the number 2"],
    ])("platformApiEnv.APP_VERSION: %s", (written, what) => {
        const found = problemsOf(withLines("prod", `  visualkit:platformApiEnv:\n    APP_VERSION: ${written}\n`));
        expect(found).toEqual([expect.objectContaining({ key: "visualkit:platformApiEnv.APP_VERSION", problem: expect.stringContaining(`is ${what}, not text`), fix: 'quote it in Pulumi.prod.yaml: APP_VERSION: "<value>"' })]);
    });

    test("a date in an env map reaches the program as a string, yet as Go prints a date: refused too", () => {
        const found = problemsOf(withLines("prod", "  visualkit:vkAgentEnv:\n    RELEASED: 2026-12-04\n"));
        expect(found).toEqual([expect.objectContaining({ key: "visualkit:vkAgentEnv.RELEASED", problem: expect.stringMatching(/as a date: the Pulumi CLI hands the program "2026-12-04 00:00:00 \+0000 UTC"/) })]);
    });

    test("quoted, 1.10 and 0123 are passed as written", () => {
        const { config, issues } = parseConfig(withLines("prod", '  visualkit:platformApiEnv:\n    V: "1.10"\n    Z: "0123"\n'));
        expect(issues).toEqual([]);
        expect(config?.env.platformApi).toEqual({ V: "1.10", Z: "0123" });
    });

    test("a number as a hostname label says 'quote it', not '123 undefined'", () => {
        const found = problemsOf(withLines("prod", "  visualkit:hostnames:\n    api: 123\n"));
        expect(found).toEqual([expect.objectContaining({ key: "visualkit:hostnames.api", problem: "is the number 123, not text (YAML reads 1.10 as 1.1 and 0123 as 83)" })]);
        expect(problemsOf(withLines("prod", '  visualkit:hostnames:\n    api: "123"\n'))).toEqual([]);
    });

    test("a number in a list of strings names the item", () => {
        expect(problemsOf(withLines("prod", "  visualkit:emailMx:\n    - 10 mx.zoho.com\n    - 20\n"))).toEqual([
            expect.objectContaining({ key: "visualkit:emailMx[1]", problem: "is the number 20, not text", fix: expect.stringMatching(/quote it/) }),
        ]);
    });
});

describe("the offline render reads the file through the same reader", () => {
    const dir = mkdtempSync(join(tmpdir(), "vk-quote-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    copyFileSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
    const prod = readFileSync(join(ROOT, "Pulumi.prod.yaml"), "utf8");

    test("a duplicate key is a ConfigError listing it with its line (the render prints the list, no stack trace)", () => {
        writeFileSync(join(dir, "Pulumi.prod.yaml"), prod.replace("  visualkit:logLevel: info\n", "  visualkit:logLevel: info\n  visualkit:logLevel: debug\n"));
        let error: unknown;
        try {
            readStackConfig(dir, "prod");
        } catch (e) {
            error = e;
        }
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).message).toMatch(/visualkit:logLevel: \(Pulumi\.prod\.yaml line \d+\) is set twice \(first at line \d+\)/);
    });

    test("it hands the program the CLI's values and how each was written", () => {
        writeFileSync(join(dir, "Pulumi.prod.yaml"), prod.replace("  visualkit:logLevel: info\n", "  visualkit:logLevel: info\n  visualkit:caddyVersion: 2.10\n"));
        const { config, written } = readStackConfig(dir, "prod");
        expect(config["visualkit:caddyVersion"]).toBe("2.1");
        expect(written["visualkit:caddyVersion"]).toMatchObject({ source: "2.10", kind: "float" });
    });
});

describe("the running program learns how the file wrote a value (config/local.ts writtenInStackFile)", () => {
    const dir = mkdtempSync(join(tmpdir(), "vk-written-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, "Pulumi.s.yaml"), "config:\n  visualkit:caddyVersion: 2.10\n  visualkit:vkAgentEnv:\n    V: 0123\n");

    test("for each value the engine handed over unchanged from the file", () => {
        const w = writtenInStackFile(dir, "visualkit", "s", { "visualkit:caddyVersion": "2.1", "visualkit:vkAgentEnv": '{"V":83}' });
        expect(Object.keys(w).sort()).toEqual(["visualkit:caddyVersion", "visualkit:vkAgentEnv.V"]);
    });

    test("not for a value that came from elsewhere (--config, an ESC environment), nor without a file", () => {
        expect(writtenInStackFile(dir, "visualkit", "s", { "visualkit:caddyVersion": "2.10" })).toEqual({});
        expect(writtenInStackFile(dir, "visualkit", "other", { "visualkit:caddyVersion": "2.1" })).toEqual({});
    });
});
