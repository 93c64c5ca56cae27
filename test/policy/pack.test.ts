import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { POLICIES } from "../../policy/policies";
import { ROOT, runProgram, type ProgramRun } from "../helpers/program";

/**
 * The pack booted the way the Pulumi CLI boots a Node.js policy pack (the SDK's run-policy-pack, in policy/, with
 * the stack named in the environment; ts-node type-checks it), then asked over the analyzer gRPC protocol what the
 * engine asks during a preview: the pack's policies, and the verdict on resources the real program registers.
 */

/* eslint-disable @typescript-eslint/no-require-imports */
const { AnalyzerClient } = require("@pulumi/pulumi/proto/analyzer_grpc_pb") as { AnalyzerClient: new (addr: string, creds: grpc.ChannelCredentials) => grpc.Client };
const pb = require("@pulumi/pulumi/proto/analyzer_pb") as Record<string, new () => Record<string, (v?: unknown) => unknown>> & { EnforcementLevel: Record<string, number> };
/* eslint-enable @typescript-eslint/no-require-imports */

type Call = (req: unknown, cb: (err: grpc.ServiceError | null, res: Record<string, () => unknown>) => void) => void;

let pack: ChildProcess;
let client: grpc.Client & Record<string, Call>;
let prod: ProgramRun;
let stderr = "";

beforeAll(async () => {
    const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack");
    pack = spawn(process.execPath, [runner, "127.0.0.1:1", "."], {
        cwd: join(ROOT, "policy"),
        env: { ...process.env, PULUMI_NODEJS_STACK: "prod", PULUMI_NODEJS_PROJECT: "visualkit" },
    });
    pack.stderr!.on("data", (d) => (stderr += d));
    const port = await new Promise<number>((resolve, reject) => {
        let out = "";
        pack.stdout!.on("data", (d) => {
            out += d;
            const m = out.match(/^(\d+)\s*$/m);
            if (m) resolve(Number(m[1]));
        });
        pack.on("exit", (code) => reject(new Error(`policy pack exited ${code}: ${stderr}`)));
    });
    client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as typeof client;
    prod = await runProgram("prod");
}, 120_000);

afterAll(() => {
    client?.close();
    pack?.kill();
});

function call<T extends Record<string, () => unknown>>(method: string, req: unknown): Promise<T> {
    return new Promise((resolve, reject) => client[method].call(client, req, (err, res) => (err ? reject(err) : resolve(res as T))));
}

/** What the engine sends for one resource: type, name, URN, inputs and options. */
function analyzeRequest(type: string, name: string, props: Record<string, unknown>, protect = false) {
    const req = new pb.AnalyzeRequest();
    req.setType(type);
    req.setName(name);
    req.setUrn(`urn:pulumi:prod::visualkit::${type}::${name}`);
    req.setProperties(Struct.fromJavaScript(JSON.parse(JSON.stringify(props))));
    const opts = new pb.AnalyzerResourceOptions();
    opts.setProtect(protect);
    req.setOptions(opts);
    return req;
}

async function violations(type: string, name: string, props: Record<string, unknown>, protect = false): Promise<string[]> {
    const res = await call<{ getDiagnosticsList: () => { getPolicyname: () => string }[] }>("analyze", analyzeRequest(type, name, props, protect));
    return res.getDiagnosticsList().map((d) => d.getPolicyname());
}

describe("policy/ as the CLI runs it", () => {
    test("announces the visualkit pack with every policy, each mandatory", async () => {
        const info = await call<{ getName: () => string; getPoliciesList: () => { getName: () => string; getEnforcementlevel: () => number }[] }>("getAnalyzerInfo", new Empty());
        expect(info.getName()).toBe("visualkit");
        const policies = info.getPoliciesList().map((p) => [p.getName(), p.getEnforcementlevel()]);
        expect(policies.map(([n]) => n)).toEqual(POLICIES.map((p) => p.name));
        for (const [, level] of policies) expect(level).toBe(pb.EnforcementLevel.MANDATORY);
    });

    test("every resource of the prod program passes; a broken one is reported by its policy", async () => {
        for (const r of prod.resources.filter((x) => x.custom)) {
            expect({ name: r.name, found: await violations(r.type, r.name, r.rawInputs, r.options.protect === true) }).toEqual({ name: r.name, found: [] });
        }
        const agent = prod.named("visualkit-prod-vk-agent-container");
        const udp = { ...agent.rawInputs, ports: [...(agent.rawInputs.ports as object[]), { internal: 5005, external: 5005, ip: "0.0.0.0", protocol: "udp" }] };
        expect((await violations(agent.type, agent.name, udp)).sort()).toEqual(["container-no-udp-published", "container-ports-loopback-only"]);
        const volume = prod.named("visualkit-prod-main-data");
        expect(await violations(volume.type, volume.name, volume.rawInputs, false)).toEqual(["prod-server-ips-volume-protected"]);
    });
});
