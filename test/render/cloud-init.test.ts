import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { DATA_DIR, PLATFORM_NETWORK, STOP_GRACE_SECONDS } from "../../catalog/defaults";
import { shellWord } from "../../lib/shipped";
import { ed25519HostKey } from "../../lib/ssh-host-key";
import { hostLayout, MOUNT_SCRIPT_PATH, renderCloudInit } from "../../render/cloud-init";
import { ROOT, runProgram } from "../helpers/program";

interface UserData {
    packages: string[];
    write_files: { path: string; content: string; permissions: string; defer?: boolean }[];
    runcmd: (string | string[])[];
    [key: string]: unknown;
}

const HOST_SCRIPTS = join(ROOT, "scripts", "host");
let dir: string;
const files = new Map<string, string>();

beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "vk-cloud-init-"));
    for (const stack of ["dev", "prod"]) files.set(stack, (await runProgram(stack)).files.get("cloud-init.yaml")!);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string): string {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
}

const schema = (path: string) => spawnSync("cloud-init", ["schema", "--config-file", path], { encoding: "utf8" });
const shellcheck = (path: string, shell?: string) => spawnSync("shellcheck", [...(shell ? ["-s", shell] : []), path], { encoding: "utf8" });

/** The runcmd script as cloud-init writes it: a /bin/sh file, one line per entry, list entries shell-quoted. */
function runcmdScript(data: UserData): string {
    return ["#!/bin/sh", ...data.runcmd.map((c) => (Array.isArray(c) ? c.map(shellWord).join(" ") : c)), ""].join("\n");
}

describe.each(["dev", "prod"])("rendered/%s/cloud-init.yaml", (stack) => {
    const text = () => files.get(stack)!;
    const data = () => parse(text()) as UserData;

    test("passes the real `cloud-init schema`", () => {
        const res = schema(write(`${stack}.yaml`, text()));
        expect({ status: res.status, out: res.stdout + res.stderr }).toEqual({ status: 0, out: expect.stringContaining("Valid cloud-config") });
    });

    test("starts with #cloud-config and fits Hetzner's 32 KiB user data limit", () => {
        expect(text().split("\n")[0]).toBe("#cloud-config");
        expect(Buffer.byteLength(text())).toBeLessThan(32 * 1024);
    });

    test("updates and upgrades packages, installs Docker Engine, Caddy and unattended-upgrades, and enables them", () => {
        expect(data()).toMatchObject({ package_update: true, package_upgrade: true });
        expect(data().packages).toEqual(expect.arrayContaining(["docker.io", "caddy", "unattended-upgrades"]));
        expect(data().runcmd).toContain("systemctl enable --now docker.service caddy.service unattended-upgrades.service");
    });

    test("SSH takes keys only: no passwords, no keyboard-interactive, root by key", () => {
        expect(data()).toMatchObject({ ssh_pwauth: false, disable_root: false });
        const sshd = data().write_files.find((f) => f.path.startsWith("/etc/ssh/sshd_config.d/"))!;
        expect(sshd.content.split("\n")).toEqual(expect.arrayContaining(["PasswordAuthentication no", "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password", "MaxStartups 30:30:100"]));
        const runcmd = data().runcmd;
        expect(runcmd.indexOf("sshd -t")).toBeLessThan(runcmd.indexOf("systemctl reload ssh"));
    });

    test("sshd has one host key, the program's: ssh_keys gives the pair, the image's keys are deleted and none generated", () => {
        expect(Object.keys(data().ssh_keys as object).sort()).toEqual(["ed25519_private", "ed25519_public"]);
        // cloud-init 22.4 cc_ssh.py: ssh_deletekeys (default true) removes /etc/ssh/ssh_host_*key*; with ssh_keys
        // present no key type is generated.
        expect(data().ssh_deletekeys ?? true).toBe(true);
        expect(data().ssh_genkeytypes).toBeUndefined();
        const sshd = data().write_files.find((f) => f.path.startsWith("/etc/ssh/sshd_config.d/"))!;
        expect(sshd.content.split("\n").filter((l) => l.startsWith("HostKey "))).toEqual(["HostKey /etc/ssh/ssh_host_ed25519_key"]);
    });

    test("unattended security upgrades are switched on after the package is installed", () => {
        const auto = data().write_files.find((f) => f.path === "/etc/apt/apt.conf.d/20auto-upgrades")!;
        expect(auto).toMatchObject({ defer: true, content: expect.stringContaining('APT::Periodic::Unattended-Upgrade "1";') });
    });

    test("mounts the volume at the catalog's data dir before anything is created, and Docker waits for the mount", () => {
        const runcmd = data().runcmd as string[];
        expect(runcmd[0]).toBe("set -eu");
        const mount = runcmd.findIndex((c) => c.startsWith(`${MOUNT_SCRIPT_PATH} /dev/disk/by-id/scsi-0HC_Volume_`));
        expect(runcmd[mount]).toMatch(new RegExp(` ${DATA_DIR} postgres redis chatwoot/storage widget-cdn$`));
        expect(mount).toBeLessThan(runcmd.findIndex((c) => c.startsWith("install -d")));
        expect(mount).toBeLessThan(runcmd.findIndex((c) => c.startsWith("ln ")));
        expect(data().write_files.find((f) => f.path === MOUNT_SCRIPT_PATH)).toMatchObject({ permissions: "0755", content: readFileSync(join(HOST_SCRIPTS, "mount-data-volume.sh"), "utf8") });
        expect(data().write_files.find((f) => f.path.startsWith("/etc/systemd/system/docker.service.d/"))?.content).toContain(`RequiresMountsFor=${DATA_DIR}`);
    });

    test("a shutdown stops every container's scope after dockerd, with the stop grace docker stop gives it, not systemd's 90 s", () => {
        // A prefix drop-in for the containers' transient scopes; systemd applying it is shown on the native host
        // (test/host/phases/native.ts, restart: the scope's TimeoutStopUSec, Conflicts and Before, and the stop's time).
        const dropIn = data().write_files.find((f) => /^\/etc\/systemd\/system\/docker-\.scope\.d\/[^/]+\.conf$/.test(f.path));
        expect(dropIn?.permissions).toBe("0644");
        const sections = new Map<string, Map<string, string[]>>();
        let section = "";
        for (const line of (dropIn?.content ?? "").split("\n").filter((l) => l.trim() !== "")) {
            const header = /^\[(\w+)\]$/.exec(line);
            if (header) sections.set((section = header[1]), new Map());
            else {
                const [key, value] = line.split("=", 2);
                sections.get(section)?.set(key, [...(sections.get(section)?.get(key) ?? []), ...value.split(/\s+/)]);
            }
        }
        // In the shutdown transaction (runc's scopes have DefaultDependencies=false), stopped after docker.service.
        expect(sections.get("Unit")?.get("Conflicts")).toContain("shutdown.target");
        expect(sections.get("Unit")?.get("Before")).toEqual(expect.arrayContaining(["shutdown.target", "docker.service"]));
        expect(sections.get("Scope")?.get("TimeoutStopSec")).toEqual([`${STOP_GRACE_SECONDS}s`]);
    });

    test("creates the reference's /opt folders and serves the widget CDN from the volume", () => {
        expect(data().runcmd).toContain("install -d -m 0755 /opt/chatwoot /opt/dashboard /opt/janus/config /opt/platform-api /opt/vk-agent");
        expect(data().runcmd).toContain(`ln -sfn ${DATA_DIR}/widget-cdn /opt/widget-cdn`);
    });

    test("shellcheck passes on the runcmd script and on every script it writes", () => {
        const scripts = [
            { name: `${stack}-runcmd.sh`, content: runcmdScript(data()) },
            ...data().write_files.filter((f) => f.content.startsWith("#!")).map((f, i) => ({ name: `${stack}-write-file-${i}.sh`, content: f.content })),
        ];
        expect(scripts.length).toBeGreaterThanOrEqual(2);
        for (const s of scripts) {
            const res = shellcheck(write(s.name, s.content));
            expect({ script: s.name, status: res.status, out: res.stdout }).toEqual({ script: s.name, status: 0, out: "" });
        }
    });
});

describe("the checks can fail", () => {
    test("`cloud-init schema` rejects a broken user data file", () => {
        const broken = files.get("dev")!.replace("package_update: true", "package_update: sometimes").replace(/^runcmd:\n/m, "runcmd: 5\nx_runcmd:\n");
        const res = schema(write("broken.yaml", broken));
        expect(res.status).not.toBe(0);
        expect(res.stdout + res.stderr).toMatch(/package_update: 'sometimes' is not of type 'boolean'/);
    });

    test("shellcheck rejects a runcmd line with an unquoted expansion", () => {
        const res = shellcheck(write("bad-runcmd.sh", runcmdScript({ packages: [], write_files: [], runcmd: ["set -eu", "rm -rf $TARGET/*"] })), "sh");
        expect(res.status).not.toBe(0);
        expect(res.stdout).toContain("SC2086");
    });
});

test("shellcheck passes on every shell script in scripts/host", () => {
    const scripts = readdirSync(HOST_SCRIPTS).filter((f) => f.endsWith(".sh"));
    expect(scripts).toEqual(expect.arrayContaining(["mount-data-volume.sh", "wait-ready.sh"]));
    for (const f of scripts) {
        const res = shellcheck(join(HOST_SCRIPTS, f));
        expect({ script: f, status: res.status, out: res.stdout }).toEqual({ script: f, status: 0, out: "" });
    }
});

describe("renderCloudInit", () => {
    const input = { volumeDevice: "/dev/disk/by-id/scsi-0HC_Volume_42", mountScript: "#!/bin/sh\necho mount\n", hostKey: ed25519HostKey("test", "visualkit-main"), ...hostLayout({ name: "main", dataDir: "/srv/data", network: PLATFORM_NETWORK, machine: { serverType: "cx22", location: "nbg1", volumeSizeGb: 10 } }) };

    test("is pure: the same values give the same text", () => {
        expect(renderCloudInit(input)).toBe(renderCloudInit({ ...input }));
    });

    test("follows the host's data dir and quotes what the shell would split", () => {
        const data = parse(renderCloudInit({ ...input, volumeDevice: "/dev/odd name" })) as UserData;
        expect(data.runcmd).toContain(`${MOUNT_SCRIPT_PATH} '/dev/odd name' /srv/data postgres redis chatwoot/storage widget-cdn`);
        expect(data.runcmd).toContain("ln -sfn /srv/data/widget-cdn /opt/widget-cdn");
    });
});

test("packages are installed without their recommends: apt itself reads the setting the bootstrap writes before the install", () => {
    for (const stack of ["dev", "prod"]) {
        const doc = parse(files.get(stack)!) as UserData;
        const confs = doc.write_files.filter((f) => f.path.startsWith("/etc/apt/apt.conf.d/") && !f.defer);
        expect(confs.length).toBeGreaterThan(0);
        // What apt resolves from these files alone (its own parser, not a regex over our text).
        const res = spawnSync("apt-config", ["dump", "APT::Install-Recommends"], {
            encoding: "utf8",
            env: { ...process.env, APT_CONFIG: write(`${stack}-apt.conf`, confs.map((f) => f.content).join("\n")) },
        });
        if (res.error) throw new Error(`apt-config could not run: ${res.error.message}`);
        expect(res.stdout.trim()).toBe('APT::Install-Recommends "false";');
    }
});
