import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { outputValue, SDK_CHECKED_AGAINST, TO_RECHECK } from "../../mocks/sdk";
import { ROOT, runComponents } from "../helpers/program";

/**
 * What the mock runtime takes from the Pulumi SDK beyond a program's API (mocks/sdk.ts): the internal it still uses is
 * pinned to the release it was read in, and each piece is shown doing what the runtime relies on.
 */

const installed = (JSON.parse(readFileSync(join(ROOT, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")) as { version: string }).version;

test("the installed @pulumi/pulumi is the release mocks/sdk.ts was checked against", () => {
    if (installed !== SDK_CHECKED_AGAINST) {
        throw new Error(
            `@pulumi/pulumi is ${installed}, mocks/sdk.ts was checked against ${SDK_CHECKED_AGAINST}. Re-check in the new SDK, then set SDK_CHECKED_AGAINST to ${installed}:\n` +
                TO_RECHECK.map((t) => `  - ${t}`).join("\n"),
        );
    }
});

describe("an output's value (internal promise())", () => {
    test("is the value of a known output, secret or not", async () => {
        expect(await outputValue(pulumi.output("plain"))).toBe("plain");
        expect(await outputValue(pulumi.secret({ a: [1, 2] }))).toEqual({ a: [1, 2] });
        expect(await outputValue(pulumi.output("a").apply((a) => `${a}b`))).toBe("ab");
    });

    test("is undefined for an unknown one, where apply would never call back", async () => {
        expect(await outputValue(pulumi.output(pulumi.unknown))).toBeUndefined();
    });
});

class Thing extends pulumi.CustomResource {
    constructor(name: string, props: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
        super("test:index:Thing", name, props, opts);
    }
}

/** A component with two children: one secret input, an explicit dependsOn, one child registered without being awaited. */
class Pair extends pulumi.ComponentResource {
    constructor(name: string) {
        super("test:index:Pair", name, {});
        const first = new Thing(`${name}-first`, { plain: "p", hidden: pulumi.secret("s") }, { parent: this });
        // Registered from an apply the program never awaits, once a timer fires: the run must still see it before it ends.
        const later = new Promise<string>((done) => setTimeout(() => done("late"), 100));
        const late = pulumi.output(later).apply((v) => new Thing(`${name}-${v}`, {}, { parent: this, dependsOn: [first] }));
        this.registerOutputs({ late: late.urn });
    }
}

describe("a run under the mocks (public SDK: secret wire format, stack transformation, disconnect)", () => {
    const run = () => runComponents(async () => (new Pair("pair"), {}));

    test("records secret inputs as secrets, redacted in inputs and kept in rawInputs", async () => {
        const first = (await run()).resources.find((r) => r.name === "pair-first")!;
        expect(first.secretInputs).toEqual(["hidden"]);
        expect(first.inputs).toMatchObject({ plain: "p", hidden: "[secret]" });
        expect(first.rawInputs).toMatchObject({ plain: "p", hidden: "s" });
    });

    test("names each resource's parent (none for a child of the stack) and its dependsOn", async () => {
        const byName = new Map((await run()).resources.map((r) => [r.name, r]));
        expect(byName.get("pair")?.parent).toBeNull();
        expect(byName.get("pair-first")?.parent).toBe("pair");
        expect(byName.get("pair-late")?.parent).toBe("pair");
        expect(byName.get("pair-late")?.options.dependsOn).toEqual(["pair-first"]);
    });

    test("waits for a registration the program did not await, and the next run in the process starts clean", async () => {
        const names = async () => (await run()).resources.map((r) => r.name).sort();
        expect(await names()).toEqual(["pair", "pair-first", "pair-late"]);
        expect(await names()).toEqual(["pair", "pair-first", "pair-late"]);
    });
});
