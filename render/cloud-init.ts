import { Document } from "yaml";
import { APP_DIRS, CONTAINER_LOGS, DATA_FOLDERS, STOP_GRACE_SECONDS, WIDGET_CDN_ROOT } from "../catalog/defaults";
import type { HostSpec } from "../catalog/types";
import { shellWord } from "../lib/shipped";
import type { SshHostKey } from "../lib/ssh-host-key";
import { MONITORING_PATHS, renderJournaldConf } from "./monitoring";

/**
 * cloud-init user data of a new host (Debian 12), rendered from plain values. It runs once, on the server's first
 * boot; the component ignores later changes to it, so everything that changes after that is applied over SSH.
 *
 * Package choices, both from Debian's own archive so unattended-upgrades (which follows Debian-Security only)
 * patches them with the rest of the system and no third-party apt key has to be trusted or fetched at boot:
 * - Docker: `docker.io` (Engine 20.10, patched by the Debian security team). The platform only talks to the
 *   Engine API (the Docker provider over SSH); it needs neither compose nor buildx from Docker's repository.
 * - Caddy: Debian 12's `caddy`, which is visualkit:caddyVersion's default (DEFAULT_CADDY_VERSION, catalog/input.ts); the Caddyfile renderer leaves out directives
 *   newer than the configured version.
 */

/** Where the volume script is installed on the host; operators can run it again by hand. */
export const MOUNT_SCRIPT_PATH = "/usr/local/sbin/visualkit-mount-data";

export interface CloudInitInput {
    /** Stable device path of the data volume (Hetzner: /dev/disk/by-id/scsi-0HC_Volume_<id>). */
    readonly volumeDevice: string;
    /** Mount point of the data volume. */
    readonly dataDir: string;
    /** Folders created on the volume, relative to `dataDir`. */
    readonly dataFolders: readonly string[];
    /** Folders created on the root disk. */
    readonly appDirs: readonly string[];
    /** Symbolic links created after the volume is mounted: `path` points at `target`. */
    readonly links: readonly { readonly path: string; readonly target: string }[];
    /** Text of scripts/host/mount-data-volume.sh. */
    readonly mountScript: string;
    /** The host's SSH key pair (lib/ssh-host-key.ts): the only host key sshd presents. */
    readonly hostKey: SshHostKey;
}

/** The folders and links of a catalog host: the reference's /opt layout, state on the volume. */
export function hostLayout(host: HostSpec): Pick<CloudInitInput, "dataDir" | "dataFolders" | "appDirs" | "links"> {
    return {
        dataDir: host.dataDir,
        dataFolders: Object.values(DATA_FOLDERS),
        appDirs: [...APP_DIRS],
        // Caddy serves the reference's path; the files live on the volume so they survive a rebuild.
        links: [{ path: WIDGET_CDN_ROOT, target: `${host.dataDir}/${DATA_FOLDERS.widgetCdn}` }],
    };
}

const SSHD_HARDENING = [
    "# VisualKit: keys only. sshd keeps the first value it reads, and this file sorts before 50-cloud-init.conf.",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PermitRootLogin prohibit-password",
    "# The one host key, installed by cloud-init from the program's state (ssh_keys): the key every client pins.",
    "HostKey /etc/ssh/ssh_host_ed25519_key",
    "# The Docker provider and the remote commands open many sessions at once; the default 10:30:100 drops some",
    "# (docker/compose#10117). Unauthenticated sessions are still limited, and only the SSH CIDRs reach port 22.",
    "MaxStartups 30:30:100",
    "",
].join("\n");

const APT_NO_RECOMMENDS = ["// VisualKit: install what packages depend on, not what they recommend.", 'APT::Install-Recommends "false";', ""].join("\n");

const AUTO_UPGRADES = ['APT::Periodic::Update-Package-Lists "1";', 'APT::Periodic::Unattended-Upgrade "1";', ""].join("\n");

// live-restore keeps containers running while unattended-upgrades restarts dockerd; logs go where the program sends
// each container's (CONTAINER_LOGS: the journal), for the containers it does not create.
const DOCKER_DAEMON = JSON.stringify({ "live-restore": true, "log-driver": CONTAINER_LOGS.driver, "log-opts": CONTAINER_LOGS.opts }, null, 2) + "\n";

// Docker's live-restore leaves the containers running when dockerd stops, so a reboot must stop each container's scope
// (docker-<id>.scope, the systemd cgroup driver) itself. runc creates those scopes with DefaultDependencies=false
// (opencontainers/runc commit be952432, "cgroups: systemd: set DefaultDependencies=false if possible": so that systemd
// does not kill containers before dockerd is told to shut down), which drops a scope's implicit Conflicts=/Before=shutdown.target: the shutdown
// transaction never stopped them and systemd-shutdown's final spree killed them after its 90 s wait (the real-host tier's
// restart: 93–94 s, a stand-in's python3 in /system.slice/docker-<id>.scope). A prefix drop-in (systemd.unit(5):
// "docker-.scope.d/" applies to every unit named docker-*.scope, transient ones too) puts them back in the shutdown:
// they stop after docker.service has (Before=docker.service reverses at stop: dockerd, live-restoring, is gone and
// restarts no container it sees exit), with SIGTERM to every process in the scope and the grace `docker stop` gives
// them, then SIGKILL. At boot dockerd starts them again by their restart policy.
export const DOCKER_SCOPE_STOP = {
    path: "/etc/systemd/system/docker-.scope.d/10-visualkit-stop.conf",
    content: `[Unit]\nConflicts=shutdown.target\nBefore=shutdown.target docker.service\n\n[Scope]\nTimeoutStopSec=${STOP_GRACE_SECONDS}s\n`,
} as const;

const command = (...words: string[]) => words.map(shellWord).join(" ");

export function renderCloudInit(input: CloudInitInput): string {
    const dockerAfterMount = ["[Unit]", "# With nofail the boot goes on without the volume; Docker must not, or Postgres would start empty.", `RequiresMountsFor=${input.dataDir}`, ""].join("\n");
    const config = {
        package_update: true,
        package_upgrade: true,
        packages: ["caddy", "curl", "docker.io", "unattended-upgrades"],
        // The platform logs in as root with a key, as the reference does; passwords are off everywhere.
        disable_root: false,
        ssh_pwauth: false,
        // The host key the program generated and every deployment connection pins (lib/ssh-host-key.ts). cloud-init
        // deletes the image's keys (ssh_deletekeys, default true) and, given ssh_keys, generates none (cc_ssh.py in
        // 22.4), so sshd has exactly this key; a server rebuilt on the same IPs gets it again.
        ssh_keys: { ed25519_private: input.hostKey.privateKey, ed25519_public: input.hostKey.publicKey },
        write_files: [
            { path: "/etc/ssh/sshd_config.d/10-visualkit.conf", permissions: "0644", content: SSHD_HARDENING },
            { path: "/etc/docker/daemon.json", permissions: "0644", content: DOCKER_DAEMON },
            // Only what the packages need, not what they recommend: docker.io alone recommends git, needrestart, criu
            // and binutils, 48 packages with perl that the host never uses (the real-host tier counted 70 → 22).
            // write_files runs before the package install and the file stays for later apt runs. (Not cloud-init's
            // `apt:` key: with it cloud-init rewrites sources.list.)
            { path: "/etc/apt/apt.conf.d/90-visualkit-no-recommends", permissions: "0644", content: APT_NO_RECOMMENDS },
            { path: "/etc/systemd/system/docker.service.d/10-visualkit-data.conf", permissions: "0644", content: dockerAfterMount },
            { path: DOCKER_SCOPE_STOP.path, permissions: "0644", content: DOCKER_SCOPE_STOP.content },
            // Container logs live in the journal (CONTAINER_LOGS): its limits before the first container starts. The
            // Monitoring install writes the same file on servers bootstrapped before it.
            { path: MONITORING_PATHS.journald, permissions: "0644", content: renderJournaldConf() },
            // Deferred: written after the packages are installed, so the unattended-upgrades package cannot replace it.
            { path: "/etc/apt/apt.conf.d/20auto-upgrades", permissions: "0644", content: AUTO_UPGRADES, defer: true },
            { path: MOUNT_SCRIPT_PATH, permissions: "0755", content: input.mountScript },
        ],
        // One sh script (cloud-init writes the lines to a file): `set -eu` stops it at the first failure, so no
        // folder is created on the root disk when the volume did not mount, and `cloud-init status` reports error.
        runcmd: [
            "set -eu",
            command("systemctl", "restart", "systemd-journald"),
            command("sshd", "-t"),
            command("systemctl", "reload", "ssh"),
            command(MOUNT_SCRIPT_PATH, input.volumeDevice, input.dataDir, ...input.dataFolders),
            command("install", "-d", "-m", "0755", ...input.appDirs),
            ...input.links.map((l) => command("ln", "-sfn", l.target, l.path)),
            command("systemctl", "enable", "--now", "docker.service", "caddy.service", "unattended-upgrades.service"),
        ],
    };
    const doc = new Document(config);
    doc.commentBefore = [
        " VisualKit host bootstrap, rendered by the VisualKit Pulumi program. It runs once, on the server's first boot;",
        " changing it does not touch a running server (day-2 changes go over SSH and the Docker API).",
    ].join("\n");
    return `#cloud-config\n${doc.toString({ lineWidth: 0 })}`;
}
