import * as pulumi from "@pulumi/pulumi";
import type { ServiceSpec } from "../../catalog/types";
import { envEntries, publishedPorts } from "../../lib/containers";
import { outputValue } from "../../mocks/sdk";
import { parsedStack } from "../helpers/program";

/** The shared container rules, directly: env entries and port publishing. */

async function value(x: pulumi.Input<string>): Promise<{ text: string; secret: boolean }> {
    const o = pulumi.output(x);
    return { text: await outputValue(o), secret: await pulumi.isSecret(o) };
}

test("env entries are sorted NAME=value; each secret one is its own secret, plain ones stay readable", async () => {
    const entries = await Promise.all(envEntries({ B: "2", A: pulumi.output("1") }, { C_PASSWORD: pulumi.output("pw"), D_TOKEN: "t" }).map(value));
    expect(entries).toEqual([
        { text: "A=1", secret: false },
        { text: "B=2", secret: false },
        { text: "C_PASSWORD=pw", secret: true },
        { text: "D_TOKEN=t", secret: true },
    ]);
});

test("an invalid or repeated variable name is refused", () => {
    expect(() => envEntries({ "1BAD": "x" })).toThrow(/not valid/);
    expect(() => envEntries({ A: "x" }, { A: "y" })).toThrow(/set twice/);
});

test("published ports are the catalog's, on 127.0.0.1 and TCP; UDP or a non-loopback service is refused", () => {
    const { catalog } = parsedStack("prod");
    const chatwoot = catalog.services.find((s) => s.id === "chatwoot")!;
    expect(publishedPorts(chatwoot, chatwoot.containers[0])).toEqual([{ internal: 3000, external: 3003, ip: "127.0.0.1", protocol: "tcp" }]);
    const agent = catalog.services.find((s) => s.id === "vk-agent")!;
    expect(() => publishedPorts(agent, { ...agent.containers[0], publishes: ["rtp"] })).toThrow(/only TCP is ever published/);
    const janus: ServiceSpec = catalog.services.find((s) => s.id === "janus")!;
    expect(() => publishedPorts(janus, { ...janus.containers[0], publishes: ["http"] })).toThrow(/published ports listen on 127.0.0.1 only/);
});
