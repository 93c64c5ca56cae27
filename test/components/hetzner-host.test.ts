import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { HetznerHost, ipv6HostAddress } from "../../components/hetzner-host";
import { fakeId } from "../../mocks/fakes";
import { readStackConfig } from "../../scripts/stack-config";
import { parsedStack, ROOT, runComponents, runProgram, type ProgramRun } from "../helpers/program";

const T = {
    host: "visualkit:hetzner:HetznerHost",
    server: "hcloud:index/server:Server",
    ip: "hcloud:index/primaryIp:PrimaryIp",
    key: "hcloud:index/sshKey:SshKey",
    firewall: "hcloud:index/firewall:Firewall",
    firewallAttachment: "hcloud:index/firewallAttachment:FirewallAttachment",
    volume: "hcloud:index/volume:Volume",
    volumeAttachment: "hcloud:index/volumeAttachment:VolumeAttachment",
    command: "command:remote:Command",
};
const ANY = "0.0.0.0/0,::/0";

type Rule = { direction: string; protocol: string; port?: string; sourceIps: string[] };
const one = (run: ProgramRun, type: string) => {
    const found = run.ofType(type);
    expect(found).toHaveLength(1);
    return found[0];
};
const rules = (run: ProgramRun) => (one(run, T.firewall).inputs.rules as Rule[]).map((r) => `${r.direction} ${r.protocol} ${r.port ?? "-"} from ${r.sourceIps.join(",")}`);
const ready = (run: ProgramRun) => run.named("visualkit-dev-main-ready");
const stackValue = (stack: string, key: string) => JSON.parse(readStackConfig(ROOT, stack).config[`visualkit:${key}`]) as string[];

describe.each(["dev", "prod"])("HetznerHost in %s", (stack) => {
    let run: ProgramRun;
    beforeAll(async () => {
        run = await runProgram(stack);
    });

    test("one host component per catalog host; every Hetzner resource is its child", () => {
        const host = one(run, T.host);
        expect(host.name).toBe(`visualkit-${stack}-main`);
        for (const type of [T.server, T.ip, T.key, T.firewall, T.volume, T.volumeAttachment]) {
            for (const r of run.ofType(type)) expect({ name: r.name, parent: r.parent }).toEqual({ name: r.name, parent: host.name });
        }
        const commands = run.resources.filter((r) => r.parent === host.name && r.type === T.command).map((r) => r.name);
        expect(commands.sort()).toEqual([`${host.name}-authorized-keys`, `${host.name}-ready`]);
    });

    test("the firewall has exactly the derived rules and no others: SSH from the config, ICMP, Caddy, Janus RTP", () => {
        const ssh = stackValue(stack, "sshAllowedCidrs").join(",");
        expect(rules(run)).toEqual([
            `in tcp 22 from ${ssh}`,
            `in icmp - from ${ANY}`,
            `in tcp 80 from ${ANY}`,
            `in tcp 443 from ${ANY}`,
            `in udp 443 from ${ANY}`,
            `in udp 10000-60000 from ${ANY}`,
        ]);
    });

    test("the server is created behind its firewall: it names the firewall itself, and there is no separate attachment", () => {
        // An input that references the firewall's id: the engine cannot create the server before the firewall, and
        // Hetzner applies it as part of the creation, so the server is never reachable unprotected.
        expect(one(run, T.server).inputs.firewallIds).toEqual([Number(fakeId(T.firewall, `visualkit-${stack}-main-firewall`))]);
        // An attachment would protect the server only after it exists (and fights firewallIds over the same firewall).
        expect(run.ofType(T.firewallAttachment)).toEqual([]);
    });

    test("the server ignores userData, sshKeys and image changes (hcloud would replace it) and is replaced delete-first", () => {
        const server = one(run, T.server);
        expect([...(server.options.ignoreChanges ?? [])].sort()).toEqual(["image", "sshKeys", "userData"]);
        expect(server.options.deleteBeforeReplace).toBe(true);
    });

    test("the server gets exactly the configured keys, without their comments", () => {
        const configured = stackValue(stack, "sshPublicKeys").map((k) => k.split(" ").slice(0, 2).join(" "));
        const keys = run.ofType(T.key);
        expect(keys.map((k) => k.inputs.publicKey).sort()).toEqual([...configured].sort());
        expect(one(run, T.server).inputs.sshKeys).toEqual(keys.map((k) => fakeId(T.key, k.name)));
    });

    test("both addresses are primary IPs assigned to the server, kept when it is deleted", () => {
        const ips = run.ofType(T.ip);
        expect(ips.map((ip) => ip.inputs.type).sort()).toEqual(["ipv4", "ipv6"]);
        for (const ip of ips) expect(ip.inputs).toMatchObject({ autoDelete: false, location: "nbg1" });
        // The provider warns "Unused Attribute" on every run for assignee_type without assignee_id
        // (hetznercloud/terraform-provider-hcloud v1.67.0 internal/primaryip/resource.go:178-183, ValidateConfig); the
        // server assigns itself through publicNets, so neither is set.
        for (const ip of ips) expect([ip.name, ip.inputs.assigneeType !== undefined && ip.inputs.assigneeId === undefined]).toEqual([ip.name, false]);
        const byType = (t: string) => Number(fakeId(T.ip, ips.find((ip) => ip.inputs.type === t)!.name));
        expect(one(run, T.server).inputs.publicNets).toEqual([{ ipv4Enabled: true, ipv4: byType("ipv4"), ipv6Enabled: true, ipv6: byType("ipv6") }]);
    });

    test("the volume is attached to the server, and the user data mounts exactly that volume", () => {
        const volume = one(run, T.volume);
        const volumeId = fakeId(T.volume, volume.name);
        expect(one(run, T.volumeAttachment).inputs).toEqual({ serverId: Number(fakeId(T.server, `visualkit-${stack}-main-server`)), volumeId: Number(volumeId), automount: false });
        expect(run.files.get("cloud-init.yaml")).toContain(`/usr/local/sbin/visualkit-mount-data /dev/disk/by-id/scsi-0HC_Volume_${volumeId} /mnt/data `);
    });

    test("the published cloud-init.yaml is the user data the server boots with, a secret in the state (it holds the host key)", () => {
        expect(run.files.get("cloud-init.yaml")).toBe(one(run, T.server).rawInputs.userData);
        expect(one(run, T.server).secretInputs).toContain("userData");
    });

    test("the host's SSH key is known before the server exists: the user data installs it, and every SSH client pins it", () => {
        const userData = parse(String(one(run, T.server).rawInputs.userData)) as { ssh_keys: Record<string, string> };
        expect(Object.keys(userData.ssh_keys).sort()).toEqual(["ed25519_private", "ed25519_public"]);
        // What sshd will present: the public half of the private key the server gets, read by OpenSSH itself.
        const file = join(mkdtempSync(join(tmpdir(), "vk-hk-")), "key");
        writeFileSync(file, userData.ssh_keys.ed25519_private, { mode: 0o600 });
        const presented = spawnSync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" }).stdout.trim();
        rmSync(file);
        expect(presented).toMatch(/^ssh-ed25519 \S+ visualkit-main$/);
        expect(userData.ssh_keys.ed25519_public).toBe(presented);
        const hosts = run.outputs.hosts as Record<string, { sshHostKey: string }>;
        expect(hosts.main.sshHostKey).toBe(presented);
        const commands = run.resources.filter((r) => r.type.startsWith("command:remote:"));
        expect(commands.length).toBeGreaterThanOrEqual(3);
        for (const c of commands) expect({ step: c.name, hostKey: (c.rawInputs.connection as { hostKey?: string }).hostKey }).toEqual({ step: c.name, hostKey: presented });
        const docker = one(run, "pulumi:providers:docker");
        // Provider configuration reaches the provider JSON-encoded.
        const sshOpts = JSON.parse(String(docker.rawInputs.sshOpts)) as string[];
        expect(sshOpts).toEqual(expect.arrayContaining(["StrictHostKeyChecking=yes", `KnownHostsCommand=/bin/echo %H ${presented.split(" ").slice(0, 2).join(" ")}`]));
        expect(sshOpts).not.toContain("StrictHostKeyChecking=no");
    });

    test("the server is labelled with project, stack and role", () => {
        expect(one(run, T.server).inputs.labels).toEqual({ project: "visualkit", stack, role: "main" });
    });

    test("the readiness check runs the repository's wait-ready.sh over SSH as root, after the server and its volume", () => {
        const check = run.named(`visualkit-${stack}-main-ready`);
        expect(check.inputs.stdin).toBe(readFileSync(join(ROOT, "scripts/host/wait-ready.sh"), "utf8"));
        expect(check.inputs.create).toBe("bash -s -- 900");
        expect(check.rawInputs.connection).toMatchObject({ host: (run.outputs.hosts as Record<string, { ipv4: string }>).main.ipv4, user: "root", port: 22 });
        expect(check.inputs.triggers).toEqual([fakeId(T.server, `visualkit-${stack}-main-server`)]);
        expect(check.options.dependsOn.sort()).toEqual([`visualkit-${stack}-main-data-attachment`, `visualkit-${stack}-main-server`]);
    });

    test("after the host is ready, root's authorized_keys is set to exactly the configured keys (a removed key is revoked)", () => {
        const keys = run.named(`visualkit-${stack}-main-authorized-keys`);
        const configured = stackValue(stack, "sshPublicKeys");
        expect(keys.inputs.stdin).toBe(`# visualkit-authorized-keys: ${configured.length}\n` + configured.join("\n") + "\n");
        expect(keys.inputs.create).toBe(readFileSync(join(ROOT, "scripts/host/install-authorized-keys.sh"), "utf8"));
        expect(keys.rawInputs.connection).toEqual(run.named(`visualkit-${stack}-main-ready`).rawInputs.connection);
        expect(keys.options.dependsOn).toEqual([`visualkit-${stack}-main-ready`]);
        // A replaced server (same IPs) gets its keys synced again.
        expect(keys.inputs.triggers).toEqual([fakeId(T.server, `visualkit-${stack}-main-server`)]);
    });

    test("stack outputs: server name, id, IPv4, IPv6, location, type and an ssh command line", () => {
        const host = (run.outputs.hosts as Record<string, Record<string, string>>).main;
        expect(host).toEqual({
            name: `visualkit-${stack}-main`,
            id: fakeId(T.server, `visualkit-${stack}-main-server`),
            ipv4: expect.stringMatching(/^203\.0\.113\.\d+$/),
            ipv6: "2001:db8:1:2::1",
            location: "nbg1",
            type: stack === "prod" ? "cx32" : "cx22",
            ssh: `ssh root@${host.ipv4}`,
            sshHostKey: expect.stringMatching(/^ssh-ed25519 AAAA\S+ visualkit-main$/),
        });
    });
});

describe("stack differences", () => {
    let dev: ProgramRun;
    let prod: ProgramRun;
    beforeAll(async () => {
        // One at a time: the mocks are process-wide.
        dev = await runProgram("dev");
        prod = await runProgram("prod");
    });
    const protection = (run: ProgramRun) =>
        [...run.ofType(T.ip), ...run.ofType(T.volume), ...run.ofType(T.server)].map((r) => ({
            name: r.name.replace(/^visualkit-\w+-/, ""),
            protect: r.options.protect ?? false,
            retainOnDelete: r.options.retainOnDelete ?? false,
            hetzner: [r.inputs.deleteProtection, r.inputs.rebuildProtection].filter((x) => x !== undefined),
        }));

    test("prod protects both IPs and the volume (and keeps the volume on destroy); the server has Hetzner delete/rebuild protection", () => {
        expect(protection(prod)).toEqual([
            { name: "main-ipv4", protect: true, retainOnDelete: false, hetzner: [true] },
            { name: "main-ipv6", protect: true, retainOnDelete: false, hetzner: [true] },
            { name: "main-data", protect: true, retainOnDelete: true, hetzner: [true] },
            { name: "main-server", protect: false, retainOnDelete: false, hetzner: [true, true] },
        ]);
    });

    test("dev protects nothing", () => {
        expect(protection(dev)).toEqual([
            { name: "main-ipv4", protect: false, retainOnDelete: false, hetzner: [false] },
            { name: "main-ipv6", protect: false, retainOnDelete: false, hetzner: [false] },
            { name: "main-data", protect: false, retainOnDelete: false, hetzner: [false] },
            { name: "main-server", protect: false, retainOnDelete: false, hetzner: [false, false] },
        ]);
    });

    test("server type, backups and volume size come from each stack file", () => {
        const pick = (run: ProgramRun) => ({ type: one(run, T.server).inputs.serverType, backups: one(run, T.server).inputs.backups, size: one(run, T.volume).inputs.size });
        expect(pick(dev)).toEqual({ type: "cx22", backups: false, size: 10 });
        expect(pick(prod)).toEqual({ type: "cx32", backups: true, size: 50 });
    });
});

describe("config drives the host", () => {
    test("SSH is open to exactly the configured CIDRs", async () => {
        const run = await runProgram("dev", { set: { sshAllowedCidrs: ["198.51.100.7/32"] } });
        expect(rules(run).filter((r) => r.includes(" 22 "))).toEqual(["in tcp 22 from 198.51.100.7/32"]);
    });

    test("visualkit:janusRtpPorts opens exactly that UDP range and no other", async () => {
        const run = await runProgram("dev", { set: { janusRtpPorts: "20000-20999" } });
        expect(rules(run).filter((r) => r.includes(" udp ") && !r.includes(" 443 "))).toEqual([`in udp 20000-20999 from ${ANY}`]);
    });

    test("one configured key means one key on the server; a key listed twice is uploaded once", async () => {
        const key = stackValue("dev", "sshPublicKeys")[0];
        const run = await runProgram("dev", { set: { sshPublicKeys: [key, key.replace(/ \S+ example-replace-me$/, " other-comment")] } });
        expect(run.ofType(T.key).map((k) => k.inputs.publicKey)).toEqual([key.split(" ").slice(0, 2).join(" ")]);
        expect(one(run, T.server).inputs.sshKeys).toHaveLength(1);
        expect(run.named("visualkit-dev-main-authorized-keys").inputs.stdin).toBe(`# visualkit-authorized-keys: 1\n${key}\n`);
    });

    test("with visualkit:sshPrivateKey the readiness check connects with that key, kept secret", async () => {
        const privateKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
        const run = await runProgram("dev", { set: { sshPrivateKey: privateKey }, secrets: ["sshPrivateKey"] });
        const cmd = ready(run);
        expect(cmd.secretInputs).toContain("connection");
        expect(cmd.inputs.connection).toBe("[secret]");
        expect(cmd.rawInputs.connection).toMatchObject({ user: "root", privateKey });
    });

    test("without it no key is sent: the command provider falls back to the ssh-agent", async () => {
        const run = await runProgram("dev");
        expect(ready(run).rawInputs.connection).not.toHaveProperty("privateKey");
        // The provider reads SSH_AUTH_SOCK itself; a recorded socket path would differ per login and machine, and a
        // changed connection re-runs every remote command.
        for (const r of run.resources.filter((x) => x.type.startsWith("command:remote:"))) expect(r.rawInputs.connection).not.toHaveProperty("agentSocketPath");
    });
});

/**
 * How long pulumi-command keeps dialing (provider/pkg/provider/remote/connection.go, v1.2.1): up to dialErrorLimit
 * attempts, waiting between them 0.1 s growing 1.5× up to 5 s (pulumi sdk retry.Until); unset fields take the
 * provider's defaults, 10 attempts and 15 s per dial.
 */
function dialWindowSeconds(connection: Record<string, unknown>, eachDialTimesOut: boolean): number {
    const attempts = Number(connection.dialErrorLimit ?? 10);
    const perDial = Number(connection.perDialTimeout ?? 15);
    let waits = 0;
    for (let i = 0, delay = 0.1; i < attempts - 1; i++, delay *= 1.5) waits += Math.min(delay, 5);
    return waits + (eachDialTimesOut ? attempts * perDial : 0);
}

test("every SSH step keeps dialing long enough for a server that just booted, and gives up within the readiness budget", async () => {
    const run = await runProgram("prod");
    const steps = run.resources.filter((r) => r.type.startsWith("command:remote:"));
    expect(steps.length).toBeGreaterThanOrEqual(4);
    for (const step of steps) {
        const connection = step.rawInputs.connection as Record<string, unknown>;
        // sshd refuses connections until it is up: measured ~75 s from boot to SSH for a fresh Debian 12 (a slow
        // Hetzner boot, or host keys generated on first boot, take longer), so at least 3 minutes of refusals.
        expect({ step: step.name, refusedFor: dialWindowSeconds(connection, false) >= 180 }).toEqual({ step: step.name, refusedFor: true });
        // A host that never answers (this machine outside sshAllowedCidrs) fails in about the readiness check's
        // own 15 minutes, not after an hour.
        expect({ step: step.name, silentFor: dialWindowSeconds(connection, true) <= 16 * 60 }).toEqual({ step: step.name, silentFor: true });
    }
});

test("no remote step sends environment variables over SSH (sshd refuses what AcceptEnv does not list)", async () => {
    // With a widget source folder, so the CDN's sync step is in the graph too.
    const widget = mkdtempSync(join(tmpdir(), "widget-"));
    writeFileSync(join(widget, "sdk.js"), "x");
    const run = await runProgram("prod", { set: { widgetCdnSourceDir: widget } }).finally(() => rmSync(widget, { recursive: true, force: true }));
    const commands = run.ofType(T.command);
    expect(commands.map((c) => c.name)).toContain("visualkit-prod-widget-cdn-sync");
    for (const c of commands) expect({ name: c.name, environment: c.rawInputs.environment, previousOutput: c.rawInputs.addPreviousOutputInEnv }).toEqual({ name: c.name, environment: undefined, previousOutput: false });
});

test("a firewall rule change updates the firewall alone: no other resource's inputs change, the server's least", async () => {
    const before = await runProgram("prod");
    const after = await runProgram("prod", { set: { sshAllowedCidrs: ["198.51.100.7/32"] } });
    const inputs = (run: ProgramRun) => new Map(run.resources.map((r) => [`${r.type}::${r.name}`, JSON.stringify(r.rawInputs)]));
    const a = inputs(before);
    const b = inputs(after);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    const changed = [...a.keys()].filter((k) => a.get(k) !== b.get(k));
    expect(changed).toEqual([`${T.firewall}::visualkit-prod-main-firewall`]);
    expect(rules(after)[0]).toBe("in tcp 22 from 198.51.100.7/32");
    // The rules live on the Firewall only: nothing of them is an input of the server.
    expect(JSON.stringify(one(after, T.server).rawInputs)).not.toContain("198.51.100.7");
});

describe("ipv6HostAddress", () => {
    test.each([
        ["2001:db8:1:2::/64", "2001:db8:1:2::1"],
        ["2a01:4f8:c17:e1d1::/64", "2a01:4f8:c17:e1d1::1"],
    ])("%s → %s (the address Hetzner configures on the server)", (network, address) => {
        expect(ipv6HostAddress(network)).toBe(address);
    });

    test("refuses a network it cannot read", () => {
        expect(() => ipv6HostAddress("2001:db8:1:2:3:4:5:6/64")).toThrow(/expected a \/64/);
    });
});

test("visualkit:serverRebootstrap lets a changed bootstrap replace the server: nothing is ignored", async () => {
    const run = await runProgram("dev", { set: { serverRebootstrap: "true" } });
    const server = run.ofType(T.server)[0];
    expect(server.options.ignoreChanges ?? []).toEqual([]);
    expect(server.options.deleteBeforeReplace).toBe(true);
});

test("two hosts publish their user data side by side (publishAs), so a second host needs no rewrite", async () => {
    const { config, catalog } = parsedStack("dev");
    const hostArgs = (name: string) => ({
        host: { ...catalog.hosts[0], name },
        catalog,
        serverType: config.server.type,
        location: config.server.location,
        volumeSizeGb: config.server.volumeSizeGb,
        sshPublicKeys: config.ssh.publicKeys,
        sshAllowedCidrs: config.ssh.allowedCidrs,
        publishAs: `${name}/cloud-init.yaml`,
    });
    const run = await runComponents(async () => {
        new HetznerHost("vk-a", hostArgs("a"));
        new HetznerHost("vk-b", hostArgs("b"));
        return {};
    }, "dev");
    expect([...run.files.keys()].sort()).toEqual(["a/cloud-init.yaml", "b/cloud-init.yaml"]);
    expect(run.resources.filter((r) => r.type === T.server).map((s) => s.name).sort()).toEqual(["vk-a-server", "vk-b-server"]);
});

test("the host key outlives the server: a rebuild on the same IPs (serverRebootstrap) keeps its secret's inputs, and nothing of the server feeds it", async () => {
    const before = await runProgram("dev");
    const after = await runProgram("dev", { set: { serverRebootstrap: "true" } });
    const secret = (run: ProgramRun) => run.named("visualkit-dev-main-ssh-host-key");
    expect(secret(before).type).toBe("random:index/randomPassword:RandomPassword");
    // The engine replaces a resource only when its inputs (or replaceOnChanges) say so: these never mention the server.
    expect(secret(after).rawInputs).toEqual(secret(before).rawInputs);
    expect(secret(after).options).toEqual(secret(before).options);
    expect(JSON.stringify(secret(after).rawInputs)).not.toMatch(/server|image/i);
    // serverRebootstrap takes userData out of ignoreChanges: the server is replaced with a new bootstrap.
    expect(after.ofType(T.server)[0].options).not.toEqual(before.ofType(T.server)[0].options);
    expect((after.outputs.hosts as Record<string, { sshHostKey: string }>).main.sshHostKey).toBe((before.outputs.hosts as Record<string, { sshHostKey: string }>).main.sshHostKey);
});
