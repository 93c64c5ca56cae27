import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { OUTPUTS_SCHEMA_VERSION } from "../lib/outputs";
import { ROOT, runProgram } from "./helpers/program";

/** outputs.schema.json is the documented contract; the rendered outputs of both stacks must satisfy it. */
const schema = JSON.parse(readFileSync(join(ROOT, "outputs.schema.json"), "utf8")) as Record<string, unknown> & { properties: { schemaVersion: { const: number } } };
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);
const rendered = (stack: string) => JSON.parse(readFileSync(join(ROOT, "rendered", stack, "outputs.json"), "utf8")) as Record<string, unknown>;
const errors = () => (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`);

describe("outputs.schema.json", () => {
    test("its version is the one the program writes", () => {
        expect(schema.properties.schemaVersion.const).toBe(OUTPUTS_SCHEMA_VERSION);
    });

    test.each(["dev", "prod"])("rendered/%s/outputs.json is valid", (stack) => {
        const doc = rendered(stack);
        expect({ valid: validate(doc), errors: errors() }).toEqual({ valid: true, errors: [] });
        expect(doc.schemaVersion).toBe(OUTPUTS_SCHEMA_VERSION);
    });

    test("the outputs stay valid when config moves things: renamed hostnames, no Pages, other ports", async () => {
        const run = await runProgram("dev", { set: { hostnames: { api: "backend", janus: "rtc" }, pagesEnabled: false, janusRtpPorts: "20000-20999" } });
        expect({ valid: validate(run.outputs), errors: errors() }).toEqual({ valid: true, errors: [] });
    });

    const broken: [string, (doc: Record<string, unknown>) => void, RegExp][] = [
        ["another schemaVersion", (d) => (d.schemaVersion = 2), /\/schemaVersion must be equal to constant/],
        ["no healthChecks", (d) => delete d.healthChecks, /must have required property 'healthChecks'/],
        ["an undocumented key", (d) => (d.extra = 1), /must NOT have additional properties/],
        ["a plain-http endpoint", (d) => ((d.endpoints as Record<string, string>).api = "http://api.example.com"), /\/endpoints\/api must match pattern/],
        ["a WebSocket check expecting 200", (d) => ((d.healthChecks as { kind: string; expectStatus: number }[]).find((c) => c.kind === "websocket")!.expectStatus = 200), /expectStatus must be equal to constant/],
        ["a subprotocol on an http check", (d) => ((d.healthChecks as { kind: string; subprotocol?: string }[]).find((c) => c.kind === "http")!.subprotocol = "x"), /\/subprotocol boolean schema is false/],
        ["a file hash that is not SHA-256", (d) => ((d.files as Record<string, string>)["cloud-init.yaml"] = "abc"), /\/files\/cloud-init\.yaml must match pattern/],
        ["a hidden host address", (d) => ((d.host as Record<string, string>).ipv4 = "[secret]"), /\/host\/ipv4 must match pattern/],
        ["a DNS record of an unknown type", (d) => (d.dnsRecords = [{ name: "x.visualkit.live", type: "SRV", content: "x", proxied: false }]), /\/dnsRecords\/0\/type must be equal to one of the allowed values/],
    ];
    test.each(broken)("rejects a document with %s", (_name, breakIt, message) => {
        const doc = structuredClone(rendered("prod"));
        breakIt(doc);
        expect(validate(doc)).toBe(false);
        expect(errors().join("\n")).toMatch(message);
    });
});
