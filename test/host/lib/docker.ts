import { tar, type TarFile } from "./tar";

/**
 * Translates the Docker provider's recorded inputs (resources.json) into Engine API requests, field by field, the
 * way the provider builds them. Pure: the docker phase sends the result over SSH. An input field this table does not
 * know fails the translation, so a new field in the program is never silently dropped by the test.
 */

type Inputs = Record<string, unknown>;

/** "30s", "1m30s", "500ms" → nanoseconds (the Engine's unit for health-check durations). */
export function durationNs(text: string): number {
    const units: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
    const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) throw new Error(`not a duration: ${text}`);
    return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]], 0);
}

function labels(list: unknown): Record<string, string> {
    return Object.fromEntries(((list as { label: string; value: string }[] | undefined) ?? []).map((l) => [l.label, l.value]));
}

function unknownFields(what: string, inputs: Inputs, known: readonly string[]): void {
    const extra = Object.keys(inputs).filter((k) => !known.includes(k));
    if (extra.length > 0) throw new Error(`${what}: no translation for provider input(s) ${extra.join(", ")}; add them to test/host/lib/docker.ts`);
}

export interface NetworkRequest {
    readonly name: string;
    readonly body: Record<string, unknown>;
}

export function networkRequest(inputs: Inputs): NetworkRequest {
    unknownFields(`network ${String(inputs.name)}`, inputs, ["name", "driver", "ipamConfigs", "labels", "internal", "attachable", "ipv6", "options"]);
    const ipam = (inputs.ipamConfigs as { subnet?: string; ipRange?: string; gateway?: string }[] | undefined) ?? [];
    return {
        name: String(inputs.name),
        body: {
            Name: inputs.name,
            Driver: inputs.driver ?? "bridge",
            CheckDuplicate: true,
            Internal: inputs.internal === true,
            Attachable: inputs.attachable === true,
            EnableIPv6: inputs.ipv6 === true,
            Options: inputs.options ?? {},
            Labels: labels(inputs.labels),
            IPAM: { Driver: "default", Config: ipam.map((c) => ({ Subnet: c.subnet, IPRange: c.ipRange, Gateway: c.gateway })) },
        },
    };
}

export interface ContainerRequest {
    readonly name: string;
    readonly image: string;
    /** POST /containers/create body. */
    readonly body: Record<string, unknown>;
    /** Networks connected after create (the Engine takes one at create time). */
    readonly connect: { network: string; body: Record<string, unknown> }[];
    /** PUT /containers/{name}/archive?path=/ before start, when there are uploads. */
    readonly archive?: Buffer;
    /** Wait until healthy (seconds), like the provider's `wait`/`waitTimeout`. */
    readonly waitHealthySeconds?: number;
    /** A one-shot container (attach, mustRun false): run to its exit, which must be 0. */
    readonly runToExit: boolean;
}

const CONTAINER_FIELDS = [
    "name", "image", "envs", "command", "entrypoints", "labels", "healthcheck", "ports", "volumes", "networksAdvanced",
    "networkMode", "restart", "maxRetryCount", "logDriver", "logOpts", "uploads", "user", "workingDir", "hostname",
    "wait", "waitTimeout", "mustRun", "attach", "logs", "start", "destroyGraceSeconds",
    "memory", "memorySwap", "cpus", "securityOpts", "capabilities",
];

/** Docker `--cpus` → NanoCPUs, as the provider parses it (docker/cli opts.ParseCPUs). */
function nanoCpus(text: string): number {
    if (!/^\d+(\.\d+)?$/.test(text)) throw new Error(`not a cpus value: ${text}`);
    return Math.round(Number(text) * 1e9);
}

function upload(u: Record<string, unknown>, readSource: (path: string) => Buffer): TarFile {
    const content =
        u.content !== undefined ? Buffer.from(String(u.content)) : u.contentBase64 !== undefined ? Buffer.from(String(u.contentBase64), "base64") : u.source !== undefined ? readSource(String(u.source)) : undefined;
    if (!content) throw new Error(`upload ${String(u.file)} has no content, contentBase64 or source`);
    const id = (v: unknown) => {
        if (v === undefined) return 0;
        if (!/^\d+$/.test(String(v))) throw new Error(`upload ${String(u.file)}: owner/group ${String(v)} is a name; the test resolves numeric ids only`);
        return Number(v);
    };
    const mode = u.permissions !== undefined ? parseInt(String(u.permissions), 8) : u.executable === true ? 0o744 : 0o644;
    return { path: String(u.file).replace(/^\/+/, ""), content, mode, uid: id(u.owner), gid: id(u.group) };
}

/**
 * `image` is the id of a RemoteImage in the plan; `imageRef` maps it to the reference the VM has tagged.
 * `readSource` reads an upload's `source` file on this machine.
 */
export function containerRequest(inputs: Inputs, imageRef: (id: string) => string, readSource: (path: string) => Buffer): ContainerRequest {
    const name = String(inputs.name);
    unknownFields(`container ${name}`, inputs, CONTAINER_FIELDS);
    const ports = (inputs.ports as { internal: number; external?: number; ip?: string; protocol?: string }[] | undefined) ?? [];
    const key = (p: { internal: number; protocol?: string }) => `${p.internal}/${p.protocol ?? "tcp"}`;
    const exposed = Object.fromEntries(ports.map((p) => [key(p), {}]));
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const p of ports) (bindings[key(p)] ??= []).push({ HostIp: p.ip ?? "0.0.0.0", HostPort: String(p.external ?? "") });
    const volumes = (inputs.volumes as { hostPath?: string; containerPath: string; readOnly?: boolean; volumeName?: string }[] | undefined) ?? [];
    const networks = (inputs.networksAdvanced as { name: string; ipv4Address?: string; ipv6Address?: string; aliases?: string[] }[] | undefined) ?? [];
    const endpoint = (n: (typeof networks)[number]) => ({
        ...(n.ipv4Address || n.ipv6Address ? { IPAMConfig: { IPv4Address: n.ipv4Address, IPv6Address: n.ipv6Address } } : {}),
        ...(n.aliases ? { Aliases: n.aliases } : {}),
    });
    const hc = inputs.healthcheck as { tests: string[]; interval?: string; timeout?: string; startPeriod?: string; retries?: number } | undefined;
    const networkMode = inputs.networkMode !== undefined ? String(inputs.networkMode) : networks[0]?.name ?? "bridge";
    const uploads = ((inputs.uploads as Record<string, unknown>[] | undefined) ?? []).map((u) => upload(u, readSource));
    const runToExit = inputs.mustRun === false || inputs.attach === true;
    const body: Record<string, unknown> = {
        Image: imageRef(String(inputs.image)),
        Env: (inputs.envs as string[] | undefined) ?? [],
        ...(inputs.command ? { Cmd: inputs.command } : {}),
        ...(inputs.entrypoints ? { Entrypoint: inputs.entrypoints } : {}),
        ...(inputs.user ? { User: inputs.user } : {}),
        ...(inputs.workingDir ? { WorkingDir: inputs.workingDir } : {}),
        ...(inputs.hostname ? { Hostname: inputs.hostname } : {}),
        // The provider stops a container it deletes with this grace; `docker stop` (and a reboot) use StopTimeout.
        ...(inputs.destroyGraceSeconds !== undefined ? { StopTimeout: Number(inputs.destroyGraceSeconds) } : {}),
        Labels: labels(inputs.labels),
        ExposedPorts: exposed,
        ...(hc
            ? {
                  Healthcheck: {
                      Test: hc.tests,
                      ...(hc.interval ? { Interval: durationNs(hc.interval) } : {}),
                      ...(hc.timeout ? { Timeout: durationNs(hc.timeout) } : {}),
                      ...(hc.startPeriod ? { StartPeriod: durationNs(hc.startPeriod) } : {}),
                      ...(hc.retries !== undefined ? { Retries: hc.retries } : {}),
                  },
              }
            : {}),
        HostConfig: {
            NetworkMode: networkMode,
            PortBindings: bindings,
            Binds: volumes.map((v) => `${v.hostPath ?? v.volumeName}:${v.containerPath}${v.readOnly ? ":ro" : ""}`),
            RestartPolicy: { Name: inputs.restart ?? "no", ...(inputs.restart === "on-failure" ? { MaximumRetryCount: inputs.maxRetryCount ?? 0 } : {}) },
            ...(inputs.logDriver ? { LogConfig: { Type: inputs.logDriver, Config: inputs.logOpts ?? {} } } : {}),
            // resource_docker_container_funcs.go (v4.5.0) lines 286-360: MB → bytes, cpus → NanoCPUs, lists as given.
            ...(inputs.memory !== undefined ? { Memory: Number(inputs.memory) * 1024 * 1024 } : {}),
            ...(inputs.memorySwap !== undefined ? { MemorySwap: Number(inputs.memorySwap) > 0 ? Number(inputs.memorySwap) * 1024 * 1024 : Number(inputs.memorySwap) } : {}),
            ...(inputs.cpus !== undefined ? { NanoCpus: nanoCpus(String(inputs.cpus)) } : {}),
            ...(inputs.securityOpts !== undefined ? { SecurityOpt: inputs.securityOpts } : {}),
            ...(inputs.capabilities !== undefined
                ? { CapAdd: (inputs.capabilities as { adds?: string[] }).adds ?? [], CapDrop: (inputs.capabilities as { drops?: string[] }).drops ?? [] }
                : {}),
        },
        NetworkingConfig: networks[0] && networkMode === networks[0].name ? { EndpointsConfig: { [networks[0].name]: endpoint(networks[0]) } } : {},
    };
    return {
        name,
        image: String(body.Image),
        body,
        connect: networks.filter((n) => n.name !== networkMode).map((n) => ({ network: n.name, body: { Container: name, EndpointConfig: endpoint(n) } })),
        ...(uploads.length > 0 ? { archive: tar(uploads) } : {}),
        ...(inputs.wait === true && !runToExit ? { waitHealthySeconds: Number(inputs.waitTimeout ?? 60) } : {}),
        runToExit,
    };
}
