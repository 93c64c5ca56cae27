import { isIPv4, isIPv6 } from "node:net";
import { DEBIAN_JANUS_PLUGIN_FILES } from "../catalog/janus-plugins";
import { CONTAINER_SHARES, DROPPED_CAPABILITIES, SECURITY_OPTS } from "../catalog/limits";
import { isPinned, parseImageRef, SECRET_ENV_NAME } from "../config/validators";

/**
 * The platform's invariants as plain data and functions, with no @pulumi import: policy/index.ts wraps them in a
 * CrossGuard PolicyPack, and the tests run them against the recorded resources of both stacks. Each message says
 * what to do. A policy sees a resource the way CrossGuard hands it over: type, name, inputs (secrets already
 * decrypted, see pulumi/pulumi-policy#241) and the resource options CrossGuard exposes.
 */

/** What a policy sees of one resource (the subset of @pulumi/policy's PolicyResource these rules read). */
export interface PolicyResourceView {
    readonly type: string;
    readonly name: string;
    readonly props: Record<string, unknown>;
    /** @pulumi/policy 1.21 exposes protect but not retainOnDelete (PolicyResourceOptions has no such field). */
    readonly opts: { readonly protect: boolean };
}

/** One inbound opening the catalog declares public: a protocol and an inclusive port range. */
export interface DeclaredOpening {
    readonly protocol: "tcp" | "udp";
    readonly from: number;
    readonly to: number;
    readonly why: string;
}

/** What the rules need from the stack (built from its config and catalog by policy/context.ts). */
export interface PolicyContext {
    readonly stack: string;
    readonly environment: "dev" | "prod";
    /** visualkit:sshAllowedCidrs: the only sources TCP 22 may be open to. */
    readonly sshAllowedCidrs: readonly string[];
    /** Every port the catalog declares public (Caddy's 80/443 and each `public` service port), from anywhere. */
    readonly publicOpenings: readonly DeclaredOpening[];
    /** Every value of the stack's plain (not `secure:`) config: a secret-looking env var must not hold one. */
    readonly plainValues: ReadonlySet<string>;
    /** visualkit:backupRepository when backups are on (visualkit:backupsEnabled), otherwise "". */
    readonly backupRepository: string;
    /** visualkit:backupAppendOnly: the host's repository key can add snapshots and delete none. */
    readonly backupAppendOnly: boolean;
}

export type Report = (message: string) => void;

export interface PlatformPolicy {
    readonly name: string;
    readonly description: string;
    /** Checks one resource. */
    readonly resource?: (r: PolicyResourceView, ctx: PolicyContext, report: Report) => void;
    /** Checks the whole stack at once (rules about what must exist). */
    readonly stack?: (resources: readonly PolicyResourceView[], ctx: PolicyContext, report: Report) => void;
}

export const TYPES = {
    container: "docker:index/container:Container",
    remoteImage: "docker:index/remoteImage:RemoteImage",
    server: "hcloud:index/server:Server",
    primaryIp: "hcloud:index/primaryIp:PrimaryIp",
    floatingIp: "hcloud:index/floatingIp:FloatingIp",
    volume: "hcloud:index/volume:Volume",
    firewall: "hcloud:index/firewall:Firewall",
    remoteCommand: "command:remote:Command",
} as const;

/** The component that installs the scheduled restic backups on each host (components/backups.ts). */
export const BACKUP_COMPONENT_TYPE = "visualkit:backup:Backups";
export const REQUIRE_BACKUP_COMPONENT = true;

/** Env var names that carry credentials: their values must come from Pulumi secrets, never plain config. */
export { SECRET_ENV_NAME } from "../config/validators";

const LOOPBACK = "127.0.0.1";

type Port = { ip?: string; protocol?: string; internal?: number; external?: number };
const ports = (r: PolicyResourceView): Port[] => (Array.isArray(r.props.ports) ? (r.props.ports as Port[]) : []);
const label = (r: PolicyResourceView) => `${r.name} (${r.type.split(":").pop()})`;

/** Private, loopback or link-local: an address the internet cannot reach directly. */
export function isPrivateAddress(ip: string): boolean {
    if (isIPv4(ip)) {
        const [a, b] = ip.split(".").map(Number);
        return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
    }
    if (isIPv6(ip)) {
        const low = ip.toLowerCase();
        return low === "::1" || /^f[cd]/.test(low) || /^fe[89ab]/.test(low);
    }
    return false;
}

const loopbackPorts: PlatformPolicy = {
    name: "container-ports-loopback-only",
    description: "Containers publish ports on 127.0.0.1 only: Docker-published ports bypass host firewalls, Caddy is the public entry.",
    resource(r, _ctx, report) {
        if (r.type !== TYPES.container) return;
        for (const p of ports(r)) {
            if (p.ip !== LOOPBACK) {
                report(`${label(r)} publishes ${p.external}/${p.protocol ?? "tcp"} on ${p.ip ?? "every interface (0.0.0.0)"}; publish it on 127.0.0.1 (lib/containers.ts) and route it through Caddy, or mark the port public in the catalog so the firewall opens it on the host.`);
            }
        }
    },
};

const noUdp: PlatformPolicy = {
    name: "container-no-udp-published",
    description: "No container publishes a UDP port: media ports reach containers over the Docker bridge or host networking (Janus), which the firewall governs.",
    resource(r, _ctx, report) {
        if (r.type !== TYPES.container) return;
        for (const p of ports(r)) {
            if (p.protocol === "udp") {
                report(`${label(r)} publishes ${p.external}/udp; remove the published port and reach the container on the Docker bridge (as vk-agent's RTP is), or serve the range from a host-networked service whose range the catalog declares public.`);
            }
        }
    },
};

const prodProtected: PlatformPolicy = {
    name: "prod-server-ips-volume-protected",
    description: "In prod the server carries Hetzner delete and rebuild protection, the primary IPs, the TURN Floating IP and the data volume Pulumi protect and Hetzner delete protection.",
    resource(r, ctx, report) {
        if (ctx.environment !== "prod") return;
        const fix = `set visualkit:protect true in Pulumi.${ctx.stack}.yaml (components/hetzner-host.ts applies it)`;
        if (r.type === TYPES.server) {
            if (r.props.deleteProtection !== true || r.props.rebuildProtection !== true) report(`${label(r)} lacks Hetzner delete/rebuild protection; ${fix}.`);
        } else if (r.type === TYPES.primaryIp || r.type === TYPES.floatingIp || r.type === TYPES.volume) {
            const missing = [!r.opts.protect && "Pulumi protect", r.props.deleteProtection !== true && "Hetzner deleteProtection"].filter(Boolean);
            if (missing.length) report(`${label(r)} lacks ${missing.join(" and ")}; ${fix}. Every DNS record and all data depend on it.`);
        }
    },
};

type FirewallRule = { direction?: string; protocol?: string; port?: string; sourceIps?: string[] };

function portRange(port: string | undefined): { from: number; to: number } | undefined {
    if (port === undefined || port === "any") return { from: 1, to: 65535 };
    const m = port.match(/^(\d+)(?:-(\d+))?$/);
    return m ? { from: Number(m[1]), to: Number(m[2] ?? m[1]) } : undefined;
}

const firewallCatalog: PlatformPolicy = {
    name: "firewall-opens-only-catalog-ports",
    description: "The host firewall opens nothing the catalog does not declare public; TCP 22 only from visualkit:sshAllowedCidrs.",
    resource(r, ctx, report) {
        if (r.type !== TYPES.firewall) return;
        const rules = Array.isArray(r.props.rules) ? (r.props.rules as FirewallRule[]) : [];
        for (const rule of rules.filter((x) => (x.direction ?? "in") === "in")) {
            const what = `${rule.protocol}${rule.port ? ` ${rule.port}` : ""} from ${(rule.sourceIps ?? []).join(", ")}`;
            if (rule.protocol === "icmp") continue; // ping and path-MTU discovery, opened on purpose on every host
            const range = portRange(rule.port);
            if ((rule.protocol !== "tcp" && rule.protocol !== "udp") || range === undefined) {
                report(`${label(r)} opens ${what}; only TCP/UDP ports the catalog declares public (and ICMP) may be opened.`);
                continue;
            }
            if (rule.protocol === "tcp" && range.from === 22 && range.to === 22) {
                const foreign = (rule.sourceIps ?? []).filter((c) => !ctx.sshAllowedCidrs.includes(c));
                if (foreign.length) report(`${label(r)} opens SSH to ${foreign.join(", ")}, which visualkit:sshAllowedCidrs does not list; add the CIDR to visualkit:sshAllowedCidrs in Pulumi.${ctx.stack}.yaml instead of a firewall rule.`);
                continue;
            }
            const declared = ctx.publicOpenings.some((o) => o.protocol === rule.protocol && o.from <= range.from && range.to <= o.to);
            if (!declared) report(`${label(r)} opens ${what}, which the catalog does not declare public; declare the port public in catalog/index.ts (the firewall is derived from it) or remove the rule.`);
        }
    },
};

const prodImagesPinned: PlatformPolicy = {
    name: "prod-images-pinned",
    description: "In prod every image is a digest or a version tag (config/validators.ts isPinned), never latest or a branch tag.",
    resource(r, ctx, report) {
        if (ctx.environment !== "prod" || r.type !== TYPES.remoteImage) return;
        const name = String(r.props.name ?? "");
        const ref = parseImageRef(name);
        if (ref === undefined || !isPinned(ref)) {
            report(`${label(r)} pulls ${name}, which moves; set its visualkit:image* key in Pulumi.${ctx.stack}.yaml to a version tag (e.g. :1.4.2) or a digest (@sha256:…).`);
        }
    },
};

const noPlainSecretEnv: PlatformPolicy = {
    name: "no-plain-secret-env",
    description: "An env var whose name says secret (PASSWORD, SECRET, TOKEN, KEY, …) never takes its value from plain stack config.",
    resource(r, ctx, report) {
        if (r.type !== TYPES.container || !Array.isArray(r.props.envs)) return;
        for (const entry of r.props.envs as unknown[]) {
            if (typeof entry !== "string") continue;
            const eq = entry.indexOf("=");
            const name = entry.slice(0, eq);
            const value = entry.slice(eq + 1);
            if (eq > 0 && value !== "" && SECRET_ENV_NAME.test(name) && ctx.plainValues.has(value)) {
                report(`${label(r)} sets ${name} from a plain value of Pulumi.${ctx.stack}.yaml; remove the plain entry and store it encrypted, e.g. pulumi config set --secret --path 'visualkit:platformApiSecretEnv.${name}' <value> -s ${ctx.stack} (or the service's own secret key).`);
            }
        }
    },
};

/** Reads `key = value` from a Janus .jcfg text (libconfig; values quoted or bare). */
function jcfgValue(text: string, key: string): string | undefined {
    const m = text.match(new RegExp(`^\\s*${key}\\s*=\\s*"?([^"\\n]*)"?\\s*$`, "m"));
    return m?.[1].trim();
}

const janusAdminPrivate: PlatformPolicy = {
    name: "janus-admin-api-private",
    description: "The Janus admin API (HTTP or WebSocket) listens only on a private or loopback address, never on every interface or a public one.",
    resource(r, _ctx, report) {
        if (r.type !== TYPES.container || !Array.isArray(r.props.uploads)) return;
        for (const u of r.props.uploads as { file?: string; content?: string }[]) {
            const file = String(u.file ?? "");
            const text = String(u.content ?? "");
            const transports = [
                { file: "janus.transport.http.jcfg", on: ["admin_http", "admin_https"], ip: "admin_ip" },
                { file: "janus.transport.websockets.jcfg", on: ["admin_ws", "admin_wss"], ip: "admin_ws_ip" },
            ];
            for (const t of transports.filter((x) => file.endsWith(x.file))) {
                if (!t.on.some((k) => jcfgValue(text, k) === "true")) continue;
                const ip = jcfgValue(text, t.ip);
                if (ip === undefined || !isPrivateAddress(ip)) {
                    report(`${label(r)} serves the Janus admin API (${t.file}) on ${ip ?? "every interface"}; bind ${t.ip} to the Docker bridge gateway (render/janus.ts) so only the host reaches it.`);
                }
            }
        }
    },
};

/**
 * Janus's public API (issue 24): anonymous callers got every plugin. The container's janus.jcfg must authenticate the
 * API (token_auth or api_secret), and every plugin Debian's package ships that it does not disable must come with its
 * own config holding an admin_key (no admin key = anyone with API access creates rooms, streams and RTP forwarders).
 */
const janusApiLocked: PlatformPolicy = {
    name: "janus-public-api-locked",
    description: "Janus authenticates its public API (token_auth or api_secret), and every plugin it loads has an admin_key.",
    resource(r, _ctx, report) {
        if (r.type !== TYPES.container || !Array.isArray(r.props.uploads)) return;
        const uploads = r.props.uploads as { file?: string; content?: string }[];
        const text = (name: string) => uploads.find((u) => String(u.file ?? "").split("/").pop() === name)?.content;
        const uploaded = text("janus.jcfg");
        if (uploaded === undefined) return;
        const main = String(uploaded);
        if (jcfgValue(main, "token_auth") !== "true" && !jcfgValue(main, "api_secret")) {
            report(`${label(r)} runs Janus with neither token_auth nor api_secret: anyone who reaches janus.<domain> can use every plugin. Render janus.jcfg with render/janus.ts (token_auth with a generated token_auth_secret).`);
        }
        const pluginsSection = main.match(/^plugins:\s*\{([^}]*)\}/m)?.[1] ?? "";
        const disabled = new Set((jcfgValue(pluginsSection, "disable") ?? "").split(",").map((x) => x.trim()));
        for (const file of DEBIAN_JANUS_PLUGIN_FILES.filter((f) => !disabled.has(f))) {
            const config = `janus.plugin.${file.replace(/^libjanus_/, "").replace(/\.so$/, "")}.jcfg`;
            const plugin = text(config);
            if (plugin === undefined || !jcfgValue(String(plugin), "admin_key")) {
                report(`${label(r)} loads the Janus plugin ${file} without an admin_key in ${config}: any API client can create rooms or forward RTP with it. Add it to catalog/janus-plugins.ts (the rendering gives it a generated admin key) or leave it disabled.`);
            }
        }
    },
};

const logsAndRestart: PlatformPolicy = {
    name: "container-log-rotation-and-restart",
    description: "Every container rotates its logs (journald, whose limits the host sets; json-file with max-size and max-file; or local) and has a restart policy; one-shot jobs (attach) run once.",
    resource(r, _ctx, report) {
        if (r.type !== TYPES.container) return;
        const opts = (r.props.logOpts ?? {}) as Record<string, string>;
        const rotates = r.props.logDriver === "journald" || r.props.logDriver === "local" || (r.props.logDriver === "json-file" && !!opts["max-size"] && !!opts["max-file"]);
        if (!rotates) report(`${label(r)} does not rotate its logs (logDriver ${String(r.props.logDriver ?? "unset")}); build it with lib/containers.ts, which sends them to journald (capped by the host's journald limits), so a chatty container cannot fill the disk.`);
        // A one-shot job (attach: true, e.g. chatwoot-prepare) runs to completion once: restarting it would loop.
        if (r.props.attach === true) return;
        if (!["unless-stopped", "always", "on-failure"].includes(String(r.props.restart ?? ""))) {
            report(`${label(r)} has restart policy ${String(r.props.restart ?? "unset")}; use unless-stopped (lib/containers.ts) so it comes back after a crash or a reboot.`);
        }
    },
};

const containerLimits: PlatformPolicy = {
    name: "container-limits-and-hardening",
    description:
        "Every container has a memory cap (swap included), a CPU quota, no-new-privileges and the dropped capabilities of catalog/limits.ts; every long-running one a pids limit (docker update after create).",
    resource(r, _ctx, report) {
        if (r.type !== TYPES.container) return;
        const fix = "build it with lib/containers.ts (serviceContainer, or hardening() for a one-shot job) and give it a share in catalog/limits.ts";
        const memory = Number(r.props.memory ?? 0);
        if (!(memory > 0)) report(`${label(r)} has no memory limit: a leak in it can take the whole host; ${fix}.`);
        else if (Number(r.props.memorySwap ?? 0) !== memory) report(`${label(r)} may use swap beyond its ${memory} MB cap (memorySwap ${String(r.props.memorySwap ?? "unset")}); ${fix}.`);
        if (!(Number(r.props.cpus ?? 0) > 0)) report(`${label(r)} has no CPU quota (cpus): a busy loop in it starves the rest; ${fix}.`);
        const opts = Array.isArray(r.props.securityOpts) ? (r.props.securityOpts as string[]) : [];
        if (!SECURITY_OPTS.every((o) => opts.includes(o))) report(`${label(r)} lacks ${SECURITY_OPTS.join(", ")}: a setuid binary in its image could gain privileges; ${fix}.`);
        const caps = (r.props.capabilities ?? {}) as { adds?: string[]; drops?: string[] };
        const allowed = CONTAINER_SHARES[String(r.props.name ?? "").replace(/-standby$/, "")]?.keeps ?? [];
        const kept = DROPPED_CAPABILITIES.filter((c) => !(caps.drops ?? []).includes(c) && !allowed.includes(c));
        if (kept.length) report(`${label(r)} keeps ${kept.join(", ")}; ${fix}.`);
        if ((caps.adds ?? []).length) report(`${label(r)} adds capabilities ${(caps.adds ?? []).join(", ")}; the platform's images need none beyond Docker's reduced set.`);
    },
    stack(resources, _ctx, report) {
        // The Docker provider cannot set a pids limit; each long-running container needs its `docker update` step.
        const commands = resources.filter((r) => r.type === TYPES.remoteCommand).map((r) => String(r.props.create ?? ""));
        for (const c of resources.filter((r) => r.type === TYPES.container && r.props.attach !== true)) {
            const name = String(c.props.name ?? "");
            if (!commands.some((cmd) => new RegExp(`^docker update --pids-limit [1-9]\\d* ${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}( |$)`).test(cmd))) {
                report(`${label(c)} has no pids limit: nothing runs \`docker update --pids-limit <n> ${name}\` after it is created; build it with lib/containers.ts serviceContainer (limitPids).`);
            }
        }
    },
};

/** The backup rule; `requireComponent` also asks for the BACKUP_COMPONENT_TYPE resource (exported for its test). */
export const prodBackupsPolicy = (requireComponent: boolean): PlatformPolicy => ({
    name: "prod-backups-configured",
    description: `In prod the server has Hetzner backups and the stack has a ${BACKUP_COMPONENT_TYPE} component with backups on, whose repository key on the server is append-only.`,
    resource(r, ctx, report) {
        if (ctx.environment !== "prod" || r.type !== TYPES.server) return;
        if (r.props.backups !== true) report(`${label(r)} has no Hetzner backups; set visualkit:serverBackups true in Pulumi.${ctx.stack}.yaml.`);
    },
    stack(resources, ctx, report) {
        if (ctx.environment !== "prod" || !requireComponent) return;
        if (!resources.some((r) => r.type === BACKUP_COMPONENT_TYPE) || ctx.backupRepository === "") {
            report(
                `stack ${ctx.stack} takes no restic backups: the data volume (Postgres, uploads, CDN releases) is not backed up; set visualkit:backupsEnabled true and visualkit:backupRepository in Pulumi.${ctx.stack}.yaml (docs/backups.md).`,
            );
        } else if (!ctx.backupAppendOnly) {
            // Root on the server is the threat off-site backups answer: its key must not be able to delete them, and
            // the prune key lives only in the backup-prune workflow.
            report(
                `stack ${ctx.stack}'s server holds a repository key that can delete its backups: set visualkit:backupAppendOnly true in Pulumi.${ctx.stack}.yaml with an sftp:// visualkit:backupRepository on a backup box that forces the host's key to rclone serve restic --append-only (docs/backups.md).`,
            );
        }
    },
});

/** Every policy of the pack, in the order reports are printed. */
export const POLICIES: readonly PlatformPolicy[] = [
    loopbackPorts,
    noUdp,
    prodProtected,
    firewallCatalog,
    prodImagesPinned,
    noPlainSecretEnv,
    janusAdminPrivate,
    janusApiLocked,
    logsAndRestart,
    prodBackupsPolicy(REQUIRE_BACKUP_COMPONENT),
    containerLimits,
];

/** Runs every policy over a stack's resources; the violations by policy name (tests and a quick local check). */
export function evaluate(resources: readonly PolicyResourceView[], ctx: PolicyContext, policies: readonly PlatformPolicy[] = POLICIES): { policy: string; message: string }[] {
    const out: { policy: string; message: string }[] = [];
    for (const p of policies) {
        const report = (message: string) => out.push({ policy: p.name, message });
        for (const r of resources) p.resource?.(r, ctx, report);
        p.stack?.(resources, ctx, report);
    }
    return out;
}
