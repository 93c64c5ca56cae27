import { isIPv4 } from "node:net";
import { buildCatalog } from "../catalog";
import { KNOWN_SERVER_TYPES } from "../render/cost";
import { DEFAULT_HOSTNAMES, DEFAULT_PORTS, VK_AGENT_DERIVED_ENV, type PortId, type RouteId } from "../catalog/defaults";
import type { Catalog } from "../catalog/types";
import { validateCatalog } from "../catalog/validate";
import type { ConfigIssue } from "./issues";
import { fullKey, KEYS, PROVIDER_SECRETS, type KeySpec } from "./keys";
import { SecretString } from "./secret";
import type { CaddyTls, DmarcPolicy, Environment, LogLevel, PlatformConfig } from "./types";
import {
    checkCidr,
    checkDkim,
    checkDomain,
    checkEmail,
    checkLabel,
    checkSshPublicKey,
    ENV_NAME,
    isPinned,
    isPort,
    parseImageRef,
    parsePortRange,
} from "./validators";

/** Config exactly as the Pulumi runtime hands it over: full keys to raw strings (objects and arrays as JSON). */
export interface RawConfig {
    readonly project: string;
    readonly stack: string;
    readonly values: Readonly<Record<string, string>>;
    readonly secretKeys: ReadonlySet<string>;
    /** Environment variables that can stand in for provider credentials (HCLOUD_TOKEN, CLOUDFLARE_API_TOKEN). */
    readonly env: Readonly<Record<string, string | undefined>>;
    /** What the machine running the program can tell about paths and the ssh-agent, so this module stays pure. */
    readonly local: LocalFacts;
}

/** A local path as config validation sees it (config/index.ts reads the disk; tests pass fakes). */
export type FolderFacts =
    | { readonly kind: "missing"; readonly path: string }
    | { readonly kind: "file"; readonly path: string }
    /** `broken`: links that point nowhere; `linkedFolders`: links to folders (the upload cannot copy them). */
    | { readonly kind: "folder"; readonly path: string; readonly files: number; readonly broken: readonly string[]; readonly linkedFolders: readonly string[] };

export interface LocalFacts {
    /** What is at `path` (relative paths are relative to the project folder, where `pulumi up` runs). */
    folder(path: string): FolderFacts;
    /**
     * The ssh-agent the SSH steps would log in through (SSH_AUTH_SOCK): set only while `pulumi up` really deploys,
     * never in a preview or the offline render, which open no SSH connection. `stale`: it names no socket.
     * @default undefined (not deploying: nothing checked)
     */
    readonly sshAgent?: { readonly state: "running" | "unset" | "stale"; readonly socket?: string };
}

export const HETZNER_LOCATIONS = ["fsn1", "nbg1", "hel1", "ash", "hil", "sin"] as const;
const SPEC = new Map(KEYS.map((k) => [k.key, k]));

/**
 * Normalize → validate: turns raw config into the typed config and the catalog built from it. Collects every
 * problem (catalog conflicts included) and returns the config only when there are none.
 */
export function parseConfig(raw: RawConfig): { config?: PlatformConfig; catalog?: Catalog; issues: ConfigIssue[] } {
    const issues: ConfigIssue[] = [];
    const stack = raw.stack;
    const setCmd = (key: string, value: string, secret = false) =>
        `pulumi config set ${secret ? "--secret " : ""}${fullKey(key)} ${value} -s ${stack}`;
    const add = (key: string, problem: string, fix: string) => issues.push({ key: fullKey(key), problem, fix });

    // Unknown keys in our namespace are almost always typos; say which key was meant.
    for (const k of Object.keys(raw.values)) {
        if (!k.startsWith("visualkit:")) continue;
        const name = k.slice("visualkit:".length);
        if (!SPEC.has(name)) {
            const near = closest(name, [...SPEC.keys()]);
            add(name, "is not a key this program reads", near ? `did you mean visualkit:${near}? Rename it in Pulumi.${stack}.yaml` : `remove it from Pulumi.${stack}.yaml`);
        }
    }

    const rawOf = (key: string): string | undefined => {
        const v = raw.values[fullKey(key)];
        return v === undefined ? undefined : v;
    };
    const spec = (key: string): KeySpec => {
        const s = SPEC.get(key);
        if (!s) throw new Error(`config: ${key} is not declared in config/keys.ts`);
        return s;
    };
    const missing = (key: string) => add(key, "is required", `${setCmd(key, "<value>")}  (${spec(key).description})`);

    // Plain keys must not hold secrets in the clear, and secret keys must be secret.
    for (const s of KEYS) {
        if (s.secret && rawOf(s.key) !== undefined && !raw.secretKeys.has(fullKey(s.key))) {
            add(s.key, "is stored in plain text in the stack file but is a secret", `${setCmd(s.key, "<value>", true)} (this overwrites the plain value)`);
        }
    }

    const str = (key: string): string | undefined => {
        const v = rawOf(key);
        const d = spec(key).default;
        if (v !== undefined) return v.trim();
        if (d !== undefined) return String(d);
        if (!spec(key).optional) missing(key);
        return undefined;
    };
    const optStr = (key: string): string | undefined => {
        const v = str(key);
        return v === "" ? undefined : v;
    };
    const bool = (key: string): boolean | undefined => {
        const v = str(key);
        if (v === undefined) return undefined;
        if (v === "true" || v === "false") return v === "true";
        add(key, `must be true or false, not "${v}"`, setCmd(key, "true"));
        return undefined;
    };
    const int = (key: string): number | undefined => {
        const v = str(key);
        if (v === undefined) return undefined;
        if (/^\d+$/.test(v)) return Number(v);
        add(key, `must be a whole number, not "${v}"`, setCmd(key, "<number>"));
        return undefined;
    };
    const json = (key: string): unknown => {
        const v = rawOf(key);
        if (v === undefined) return undefined;
        try {
            return JSON.parse(v);
        } catch {
            return v;
        }
    };
    const list = (key: string): string[] | undefined => {
        const v = rawOf(key) === undefined ? spec(key).default : json(key);
        if (v === undefined) {
            if (!spec(key).optional) add(key, "is required", `add it as a YAML list in Pulumi.${stack}.yaml (${spec(key).description})`);
            return undefined;
        }
        if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
            add(key, "must be a list of strings", `write it as a YAML list under visualkit:${key} in Pulumi.${stack}.yaml`);
            return undefined;
        }
        return v.map((x: string) => x.trim());
    };
    const obj = (key: string): Record<string, unknown> => {
        const v = json(key);
        if (v === undefined) return {};
        if (typeof v !== "object" || v === null || Array.isArray(v)) {
            add(key, "must be a map of name: value", `write it as a YAML map under visualkit:${key} in Pulumi.${stack}.yaml`);
            return {};
        }
        return v as Record<string, unknown>;
    };
    const oneOf = <T extends string>(key: string, allowed: readonly T[]): T | undefined => {
        const v = str(key);
        if (v === undefined) return undefined;
        if ((allowed as readonly string[]).includes(v)) return v as T;
        add(key, `must be one of ${allowed.join(", ")}, not "${v}"`, setCmd(key, allowed[0]));
        return undefined;
    };
    const checked = (key: string, value: string | undefined, check: (v: string) => string | undefined, example: string) => {
        if (value === undefined) return undefined;
        const why = check(value);
        if (why) {
            add(key, `"${value}" ${why}`, setCmd(key, example));
            return undefined;
        }
        return value;
    };
    const requiredNow = (key: string): boolean => {
        const w = spec(key).requiredWith;
        return w === undefined ? !spec(key).optional : (rawOf(w) ?? "") !== "" && (rawOf(w) ?? "").trim().startsWith(spec(key).requiredWithPrefix ?? "");
    };
    const secret = (key: string, required: boolean): SecretString | undefined => {
        const v = rawOf(key);
        if (v === undefined || v === "") {
            if (required) add(key, "is a required secret and is not set", setCmd(key, "<value>", true));
            return undefined;
        }
        return new SecretString(v);
    };

    // Names
    const environment = oneOf<Environment>("environment", ["dev", "prod"]);
    const domain = checked("domain", str("domain"), checkDomain, "dev.visualkit.live");
    const zone = checked("cloudflareZone", str("cloudflareZone"), checkDomain, "visualkit.live");
    if (domain && zone && domain !== zone && !domain.endsWith(`.${zone}`)) {
        add("domain", `${domain} is not inside the Cloudflare zone ${zone}`, `use a domain under ${zone} (e.g. dev.${zone}) or fix visualkit:cloudflareZone`);
    }
    const hex32 = (v: string) => (/^[0-9a-f]{32}$/.test(v) ? undefined : "is not a Cloudflare id (32 lowercase hex characters, shown on the zone's overview page)");
    const zoneId = checked("cloudflareZoneId", optStr("cloudflareZoneId"), hex32, "<32-hex zone id>");
    const accountId = checked("cloudflareAccountId", str("cloudflareAccountId"), hex32, "<32-hex account id>");
    const acmeEmail = checked("acmeEmail", str("acmeEmail"), checkEmail, "ops@visualkit.live");
    const logLevel = oneOf<LogLevel>("logLevel", ["debug", "info", "warn"]);

    // Host
    // Only priced types: the cost in every pull request (render/cost.ts) would otherwise be a silent €0.
    const serverType = checked(
        "serverType",
        str("serverType"),
        (v) => (KNOWN_SERVER_TYPES.includes(v) ? undefined : `is not a server type in catalog/prices.json (known: ${KNOWN_SERVER_TYPES.join(", ")}); pick one, or add the type with its monthly price from hetzner.com/cloud to catalog/prices.json`),
        "cx22",
    );
    const location = oneOf("serverLocation", HETZNER_LOCATIONS);
    const image = str("serverImage");
    const backups = bool("serverBackups");
    const rebootstrap = bool("serverRebootstrap");
    const protect = bool("protect");
    const standbyReplicas = bool("standbyReplicas");
    const janusForceRestart = bool("janusForceRestart");
    let volumeSizeGb = int("volumeSizeGb");
    if (volumeSizeGb !== undefined && (volumeSizeGb < 10 || volumeSizeGb > 10240)) {
        add("volumeSizeGb", `${volumeSizeGb} GB is outside what Hetzner volumes allow (10 to 10240 GB)`, setCmd("volumeSizeGb", "10"));
        volumeSizeGb = undefined;
    }
    const publicKeys = list("sshPublicKeys");
    if (publicKeys && publicKeys.length === 0) add("sshPublicKeys", "is empty, so nobody could log in", `add your key: the line of ~/.ssh/id_ed25519.pub under visualkit:sshPublicKeys in Pulumi.${stack}.yaml`);
    publicKeys?.forEach((k, i) => {
        const why = checkSshPublicKey(k);
        if (why) add(`sshPublicKeys[${i}]`, `"${k.slice(0, 40)}${k.length > 40 ? "…" : ""}" ${why}`, `paste the whole public key line (ssh-keygen -y -f ~/.ssh/id_ed25519 prints it)`);
    });
    const cidrs = list("sshAllowedCidrs");
    if (cidrs && cidrs.length === 0) add("sshAllowedCidrs", "is empty, so SSH (and every deployment step over SSH) would be unreachable", `add your address, e.g. 203.0.113.7/32, under visualkit:sshAllowedCidrs in Pulumi.${stack}.yaml`);
    cidrs?.forEach((c, i) => {
        const why = checkCidr(c);
        if (why) add(`sshAllowedCidrs[${i}]`, `"${c}" ${why}`, `use a CIDR such as 203.0.113.7/32 (one address) or 2001:db8::/64 in Pulumi.${stack}.yaml`);
    });
    const caddyTls = oneOf<CaddyTls>("caddyTls", ["acme", "internal"]) ?? "acme";
    const caddyVersion = checked("caddyVersion", str("caddyVersion"), (v) => (/^\d+\.\d+(\.\d+)?$/.test(v) ? undefined : "is not a version such as 2.6.2"), "2.6.2");

    // Images
    const imageKeys = { platformApi: "imagePlatformApi", vkAgent: "imageVkAgent", janus: "imageJanus", chatwoot: "imageChatwoot", postgres: "imagePostgres", redis: "imageRedis" } as const;
    const images: Record<string, string> = {};
    const imageOf = (key: string): string | undefined => {
        const v = key === "imageWebsocket" ? optStr(key) : str(key);
        if (v === undefined) return undefined;
        const ref = parseImageRef(v);
        if (!ref) {
            add(key, `"${v}" is not an image reference (registry/name:tag or name@sha256:digest, no spaces, lowercase name)`, setCmd(key, "ghcr.io/visualkit/name:1.2.3"));
            return undefined;
        }
        if (environment === "prod" && !isPinned(ref)) {
            add(key, `"${v}" is not pinned; prod deploys only a version tag (1.2.3, v4.7.0) or a digest, never latest or a branch tag`, setCmd(key, `${ref.repository}:<version>`));
        }
        return v;
    };
    for (const [id, key] of Object.entries(imageKeys)) {
        const v = imageOf(key);
        if (v !== undefined) images[id] = v;
    }
    const websocketImage = imageOf("imageWebsocket");
    const registryServer = optStr("registryServer");
    const registryUsername = optStr("registryUsername");
    const registryPassword = secret("registryPassword", requiredNow("registryPassword"));
    if (registryServer && !registryUsername) add("registryUsername", `is required when visualkit:registryServer is set`, setCmd("registryUsername", "<user>"));

    // Ports and hostnames: overrides of the catalog's defaults, by id.
    const ports: Record<string, number> = { ...DEFAULT_PORTS };
    for (const [id, v] of Object.entries(obj("ports"))) {
        if (!(id in DEFAULT_PORTS)) {
            add(`ports.${id}`, "is not a port id", `use one of ${Object.keys(DEFAULT_PORTS).join(", ")}`);
        } else if (typeof v !== "number" || !isPort(v)) {
            add(`ports.${id}`, `${JSON.stringify(v)} is not a port between 1 and 65535`, `pulumi config set --path 'visualkit:ports.${id}' ${DEFAULT_PORTS[id as PortId]} -s ${stack}`);
        } else {
            ports[id] = v;
        }
    }
    const hostnames: Record<string, string> = { ...DEFAULT_HOSTNAMES };
    for (const [id, v] of Object.entries(obj("hostnames"))) {
        if (!(id in DEFAULT_HOSTNAMES)) {
            add(`hostnames.${id}`, "is not a route id", `use one of ${Object.keys(DEFAULT_HOSTNAMES).join(", ")}`);
        } else if (typeof v !== "string" || (v !== "@" && checkLabel(v) !== undefined)) {
            add(`hostnames.${id}`, `${JSON.stringify(v)} ${checkLabel(String(v))}`, `pulumi config set --path 'visualkit:hostnames.${id}' ${DEFAULT_HOSTNAMES[id as RouteId]} -s ${stack}`);
        } else {
            hostnames[id] = v;
        }
    }

    // Environment variables
    const envMap = (key: string, values: Record<string, unknown>): Record<string, string> => {
        const out: Record<string, string> = {};
        for (const [name, v] of Object.entries(values)) {
            if (!ENV_NAME.test(name)) add(`${key}.${name}`, `"${name}" is not a valid environment variable name (letters, digits, underscore; not starting with a digit)`, `rename it in Pulumi.${stack}.yaml`);
            else if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") add(`${key}.${name}`, "must be a string, number or boolean", `quote the value in Pulumi.${stack}.yaml`);
            else out[name] = String(v);
        }
        return out;
    };
    const platformApiEnv = envMap("platformApiEnv", obj("platformApiEnv"));
    const vkAgentEnv = envMap("vkAgentEnv", obj("vkAgentEnv"));
    for (const name of Object.keys(vkAgentEnv).filter((n) => (VK_AGENT_DERIVED_ENV as readonly string[]).includes(n))) {
        add(`vkAgentEnv.${name}`, "is set by the program (derived from the catalog, or from geminiApiKey)", `remove it from visualkit:vkAgentEnv in Pulumi.${stack}.yaml`);
    }
    const platformApiSecretEnv = Object.fromEntries(Object.entries(envMap("platformApiSecretEnv", obj("platformApiSecretEnv"))).map(([k, v]) => [k, new SecretString(v)]));
    for (const name of Object.keys(platformApiSecretEnv).filter((n) => n in platformApiEnv)) {
        add(`platformApiSecretEnv.${name}`, `is also set in visualkit:platformApiEnv; a container gets each variable once`, `keep it in one of the two (a secret belongs in platformApiSecretEnv): remove visualkit:platformApiEnv.${name} from Pulumi.${stack}.yaml`);
    }
    const geminiApiKey = secret("geminiApiKey", true);
    const sshPrivateKey = secret("sshPrivateKey", false);

    // Janus
    const rtpText = str("janusRtpPorts");
    let rtpPorts = rtpText === undefined ? undefined : parsePortRange(rtpText);
    if (rtpText !== undefined) {
        if (!rtpPorts) add("janusRtpPorts", `"${rtpText}" is not a port range such as 10000-60000`, setCmd("janusRtpPorts", "10000-60000"));
        else if (!isPort(rtpPorts.from) || !isPort(rtpPorts.to)) add("janusRtpPorts", `"${rtpText}" has a port outside 1-65535`, setCmd("janusRtpPorts", "10000-60000"));
        else if (rtpPorts.from > rtpPorts.to) add("janusRtpPorts", `"${rtpText}" is inverted: the first port is above the last`, setCmd("janusRtpPorts", `${rtpPorts.to}-${rtpPorts.from}`));
        else if (rtpPorts.to - rtpPorts.from < 1) add("janusRtpPorts", `"${rtpText}" has fewer than 2 ports; Janus needs a pair per stream`, setCmd("janusRtpPorts", "10000-60000"));
        if (issues.some((i) => i.key === "visualkit:janusRtpPorts")) rtpPorts = undefined;
    }
    const stunText = optStr("janusStunServer");
    let stun: { host: string; port: number } | undefined;
    if (stunText !== undefined) {
        const m = stunText.replace(/^stun:/, "").match(/^([a-z0-9.-]+):(\d+)$/i);
        if (!m || checkDomain(m[1].toLowerCase()) !== undefined || !isPort(Number(m[2]))) add("janusStunServer", `"${stunText}" is not host:port`, setCmd("janusStunServer", "stun.l.google.com:19302"));
        else stun = { host: m[1].toLowerCase(), port: Number(m[2]) };
    }

    // Chatwoot mail
    const smtpAddress = optStr("chatwootSmtpAddress");
    const smtpPort = int("chatwootSmtpPort");
    if (smtpPort !== undefined && !isPort(smtpPort)) add("chatwootSmtpPort", `${smtpPort} is not a port between 1 and 65535`, setCmd("chatwootSmtpPort", "587"));
    const smtpUsername = str("chatwootSmtpUsername") ?? "";
    const sender = str("chatwootMailerSender") ?? "";
    const smtpPassword = secret("chatwootSmtpPassword", requiredNow("chatwootSmtpPassword"));

    // Pages
    const pagesEnabled = bool("pagesEnabled");
    const gitOwner = str("pagesGitOwner") ?? "";
    const gitRepo = str("pagesGitRepo") ?? "";
    if (pagesEnabled) {
        if (!gitOwner) add("pagesGitOwner", "is required when visualkit:pagesEnabled is true", setCmd("pagesGitOwner", "<github-owner>"));
        if (!gitRepo) add("pagesGitRepo", "is required when visualkit:pagesEnabled is true", setCmd("pagesGitRepo", "<repository>"));
    }

    // E-mail
    const mx = (list("emailMx") ?? []).flatMap((entry, i) => {
        const m = entry.match(/^(\d+)\s+(\S+?)\.?$/);
        if (!m || Number(m[1]) > 65535 || checkDomain(m[2].toLowerCase()) !== undefined) {
            add(`emailMx[${i}]`, `"${entry}" is not 'priority host', e.g. '10 mx.zoho.com'`, `fix the entry in Pulumi.${stack}.yaml`);
            return [];
        }
        return [{ priority: Number(m[1]), host: m[2].toLowerCase() }];
    });
    const spf = checked("emailSpf", optStr("emailSpf"), (v) => (v.startsWith("v=spf1 ") ? undefined : "is not an SPF record (it starts with 'v=spf1 ')"), "'v=spf1 include:zoho.com ~all'");
    const dkimValue = checked("emailDkim", optStr("emailDkim"), checkDkim, "'v=DKIM1; k=rsa; p=<key from Zoho>'");
    const dkimSelector = checked("emailDkimSelector", str("emailDkimSelector"), (v) => (checkLabel(v) === undefined ? undefined : "is not a DKIM selector (one hostname label)"), "zmail");
    const dmarcPolicy = oneOf<DmarcPolicy>("emailDmarcPolicy", ["none", "quarantine", "reject"]);
    const rua = checked(
        "emailDmarcRua",
        optStr("emailDmarcRua"),
        (v) => (v.split(",").every((a) => a.trim().startsWith("mailto:") && checkEmail(a.trim().slice(7)) === undefined) ? undefined : "is not a list of mailto: addresses"),
        "mailto:dmarc@visualkit.live",
    );

    // Takeover: the adopt map (written by npm run adopt) and the old server's address kept until the switch.
    const adopt: Record<string, string> = {};
    for (const [name, id] of Object.entries(obj("adopt"))) {
        if (!name.startsWith(`visualkit-${stack}-`)) {
            add(`adopt.${name}`, `is not a resource of stack ${stack} (names start with visualkit-${stack}-)`, `re-run npm run adopt -- ${stack}, which rewrites visualkit:adopt in Pulumi.${stack}.yaml`);
        } else if (typeof id !== "string" || !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+){1,2}$/.test(id)) {
            add(`adopt.${name}`, `${JSON.stringify(id)} is not a Cloudflare import id such as <zone_id>/<record_id>`, `re-run npm run adopt -- ${stack}, which rewrites visualkit:adopt in Pulumi.${stack}.yaml`);
        } else {
            adopt[name] = id;
        }
    }
    const cutoverFromIpv4 = checked("cutoverFromIpv4", optStr("cutoverFromIpv4"), (v) => (isIPv4(v) ? undefined : "is not an IPv4 address such as 178.156.151.139"), "178.156.151.139");

    // Provider credentials: only reported, the providers read them.
    for (const p of PROVIDER_SECRETS) {
        const v = raw.values[p.key];
        if ((v === undefined || v === "") && !raw.env[p.env]) {
            issues.push({ key: p.key, problem: `is not set (${p.description})`, fix: `${setCmd(p.key, "<token>", true)}  (or export ${p.env})` });
        } else if (v !== undefined && v !== "" && !raw.secretKeys.has(p.key)) {
            issues.push({ key: p.key, problem: "is stored in plain text in the stack file", fix: setCmd(p.key, "<token>", true) });
        }
    }

    const resticBackups = parseBackups({ bool, int, str, optStr, secret, add, setCmd, environment, stack });

    const widgetCdnSourceDir = optStr("widgetCdnSourceDir");
    if (widgetCdnSourceDir !== undefined) checkWidgetSource(raw.local.folder(widgetCdnSourceDir), stack).forEach((i) => add("widgetCdnSourceDir", i.problem, i.fix));
    // Every SSH step would retry its dial for minutes and then fail on authentication: say so before anything starts.
    const agent = raw.local.sshAgent;
    if (agent?.state === "stale") {
        issues.push({
            key: "SSH_AUTH_SOCK",
            problem: `(environment) names ${agent.socket}, which is not a socket: the command provider fails when it cannot reach the agent it is given, even with visualkit:sshPrivateKey set, so every SSH step would fail`,
            fix: `start an agent and load the deploy key (eval "$(ssh-agent -s)" && ssh-add ~/.ssh/id_ed25519), or unset SSH_AUTH_SOCK`,
        });
    } else if (agent?.state === "unset" && sshPrivateKey === undefined) {
        add(
            "sshPrivateKey",
            "is not set and no ssh-agent is running (SSH_AUTH_SOCK is unset): the command provider logs in with one or the other, never with ~/.ssh files, so every SSH step would fail",
            `load a key listed in visualkit:sshPublicKeys into an agent: eval "$(ssh-agent -s)" && ssh-add ~/.ssh/id_ed25519 (or store the key: pulumi config set --secret visualkit:sshPrivateKey -s ${stack} < ~/.ssh/id_ed25519)`,
        );
    }
    const pages = {
        enabled: pagesEnabled ?? false,
        projectSuffix: str("pagesProjectSuffix") ?? "",
        git: { owner: gitOwner, repo: gitRepo },
        productionBranch: str("pagesProductionBranch") ?? "",
        buildCommand: str("pagesBuildCommand") ?? "",
        outputDir: str("pagesOutputDir") ?? "",
        appsDir: str("pagesAppsDir") ?? "",
    };

    // Conflicts only the assembled catalog shows (two routes on one hostname, two services on one port) are
    // reported with the rest, so the user sees every problem in one run.
    let catalog: Catalog | undefined;
    if (rtpPorts) {
        catalog = buildCatalog({
            domain: domain ?? "invalid.example",
            zone: zone ?? domain ?? "invalid.example",
            ports: ports as Record<PortId, number>,
            hostnames: hostnames as Record<RouteId, string>,
            janus: { rtpPorts, stun },
            images: { ...(images as PlatformConfig["images"]), ...(websocketImage ? { websocket: websocketImage } : {}) },
            pages,
            standbyReplicas: standbyReplicas ?? true,
        });
        issues.push(...validateCatalog(catalog, stack));
        // Below the zone apex a CNAME may not share its name with other records (no CNAME flattening there).
        const emailAtDomain = (mx.length > 0 || spf !== undefined) && domain !== undefined && zone !== undefined && domain !== zone;
        const siteAtDomain = catalog.pages.find((p) => p.hostname === domain);
        if (emailAtDomain && siteAtDomain) {
            add("emailMx", `e-mail records at ${domain} would sit beside the CNAME of the Pages site "${siteAtDomain.id}", which DNS forbids below the zone apex`, `leave e-mail out of this stack, or move the site: pulumi config set --path 'visualkit:hostnames.landing' www2 -s ${stack}`);
        }
    }
    if (issues.length > 0 || !catalog || !resticBackups.valid) return { issues };

    const config: PlatformConfig = {
        project: raw.project,
        stack,
        environment: environment!,
        domain: domain!,
        cloudflare: { zone: zone!, zoneId, accountId: accountId! },
        acmeEmail: acmeEmail!,
        logLevel: logLevel!,
        server: { type: serverType!, location: location!, image: image!, backups: backups!, rebootstrap: rebootstrap!, volumeSizeGb: volumeSizeGb! },
        protect: protect!,
        ssh: { publicKeys: publicKeys!, allowedCidrs: cidrs!, privateKey: sshPrivateKey },
        caddyVersion: caddyVersion!,
        standbyReplicas: standbyReplicas!,
        janusForceRestart: janusForceRestart!,
        caddyTls,
        images: { ...(images as PlatformConfig["images"]), ...(websocketImage ? { websocket: websocketImage } : {}) },
        registry: registryServer ? { server: registryServer, username: registryUsername!, password: registryPassword! } : undefined,
        ports: ports as Record<PortId, number>,
        hostnames: hostnames as Record<RouteId, string>,
        env: { platformApi: platformApiEnv, vkAgent: vkAgentEnv },
        secretEnv: { platformApi: platformApiSecretEnv },
        geminiApiKey: geminiApiKey!,
        janus: { rtpPorts: rtpPorts!, stun },
        chatwoot: { smtp: smtpAddress ? { address: smtpAddress, port: smtpPort!, username: smtpUsername, password: smtpPassword!, sender } : undefined },
        widgetCdnSourceDir,
        backups: resticBackups.config,
        pages,
        adopt,
        cutoverFromIpv4,
        email:
            mx.length > 0 || spf || dkimValue
                ? { mx, spf, dkim: dkimValue ? { selector: dkimSelector!, value: dkimValue } : undefined, dmarc: { policy: dmarcPolicy!, rua } }
                : undefined,
    };
    return { config, catalog, issues };
}

interface BackupReaders {
    bool(key: string): boolean | undefined;
    int(key: string): number | undefined;
    str(key: string): string | undefined;
    optStr(key: string): string | undefined;
    secret(key: string, required: boolean): SecretString | undefined;
    add(key: string, problem: string, fix: string): void;
    setCmd(key: string, value: string, secret?: boolean): string;
    environment: Environment | undefined;
    stack: string;
}

/** restic's two repository kinds we support: S3 (Hetzner Object Storage) and SFTP (Hetzner Storage Box). */
const S3_REPOSITORY = /^s3:(https?:\/\/)?[a-z0-9.-]+(:\d+)?\/[a-z0-9][a-z0-9.-]{1,62}(\/[A-Za-z0-9._\/-]*)?$/i;
const SFTP_REPOSITORY = /^sftp:(\/\/([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+(:\d+)?\/[A-Za-z0-9._\/~-]+|([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:[A-Za-z0-9._\/~-]+)$/;
/** A systemd OnCalendar expression's characters; systemd-analyze calendar checks the rest on the host. */
const CALENDAR = /^[A-Za-z0-9*,.:\/~ -]+$/;

/** Backups: off (undefined) or every value the Backups component needs. prod with backups on needs a repository. */
function parseBackups(r: BackupReaders): { config?: PlatformConfig["backups"]; valid: boolean } {
    let valid = true;
    const add = (key: string, problem: string, fix: string) => {
        valid = false;
        r.add(key, problem, fix);
    };
    const enabled = r.bool("backupsEnabled");
    const repository = r.optStr("backupRepository");
    const keep = { daily: r.int("backupKeepDaily"), weekly: r.int("backupKeepWeekly"), monthly: r.int("backupKeepMonthly") };
    const schedule = r.str("backupSchedule");
    const drillSchedule = r.str("backupDrillSchedule");
    if (enabled === undefined) return { valid: false };
    if (!enabled) return { valid };
    if (repository === undefined) {
        const example = "s3:https://nbg1.your-objectstorage.com/<bucket>/" + r.stack;
        const where = r.environment === "prod" ? "is required in prod while visualkit:backupsEnabled is true" : "is required while visualkit:backupsEnabled is true";
        add("backupRepository", where, `${r.setCmd("backupRepository", example)} (see README "Backups and restore"), or turn backups off explicitly: ${r.setCmd("backupsEnabled", "false")}`);
        return { valid };
    }
    const kind = S3_REPOSITORY.test(repository) ? "s3" : SFTP_REPOSITORY.test(repository) ? "sftp" : undefined;
    if (!kind) {
        add("backupRepository", `"${repository}" is not a restic repository this program supports (s3:https://<endpoint>/<bucket>/<path> or sftp://<user>@<host>:<port>/<path>)`, r.setCmd("backupRepository", "s3:https://nbg1.your-objectstorage.com/<bucket>/" + r.stack));
    }
    const password = r.secret("backupPassword", true);
    const accessKeyId = r.secret("backupS3AccessKeyId", kind === "s3");
    const secretAccessKey = r.secret("backupS3SecretAccessKey", kind === "s3");
    const sftpPrivateKey = r.secret("backupSftpPrivateKey", kind === "sftp");
    if (kind === "sftp" && sftpPrivateKey && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(sftpPrivateKey.reveal())) {
        add("backupSftpPrivateKey", "is not an OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY-----)", `cat key | pulumi config set --secret visualkit:backupSftpPrivateKey -s ${r.stack}`);
    }
    for (const [period, n] of Object.entries(keep)) {
        const key = `backupKeep${period[0].toUpperCase()}${period.slice(1)}`;
        if (n !== undefined && n > 1000) add(key, `${n} is more snapshots than restic's retention is meant for`, r.setCmd(key, "7"));
    }
    if (keep.daily === 0 && keep.weekly === 0 && keep.monthly === 0) {
        add("backupKeepDaily", "and backupKeepWeekly and backupKeepMonthly are all 0, so every backup would be removed right after it is taken", r.setCmd("backupKeepDaily", "7"));
    }
    for (const [key, v] of [["backupSchedule", schedule], ["backupDrillSchedule", drillSchedule]] as const) {
        if (v !== undefined && (v === "" || !CALENDAR.test(v))) add(key, `"${v}" is not a systemd calendar expression such as "*-*-* 03:30:00"`, `${r.setCmd(key, "'*-*-* 03:30:00'")} (check one with systemd-analyze calendar '<expression>')`);
    }
    if (!valid || !kind || !password || keep.daily === undefined || keep.weekly === undefined || keep.monthly === undefined || !schedule || !drillSchedule) return { valid: false };
    if (kind === "s3" && (!accessKeyId || !secretAccessKey)) return { valid: false };
    if (kind === "sftp" && !sftpPrivateKey) return { valid: false };
    return {
        valid,
        config: {
            repository,
            kind,
            password,
            s3: kind === "s3" ? { accessKeyId: accessKeyId!, secretAccessKey: secretAccessKey! } : undefined,
            sftpPrivateKey: kind === "sftp" ? sftpPrivateKey : undefined,
            keep: { daily: keep.daily, weekly: keep.weekly, monthly: keep.monthly },
            schedule,
            drillSchedule,
        },
    };
}

/** What would make a widget sync fail or empty the CDN, found before anything is uploaded. */
function checkWidgetSource(f: FolderFacts, stack: string): { problem: string; fix: string }[] {
    const fix = `point visualkit:widgetCdnSourceDir in Pulumi.${stack}.yaml at the built widget files (relative to the project folder), or set it to "" to leave the CDN alone`;
    if (f.kind === "missing") return [{ problem: `${f.path} does not exist`, fix }];
    if (f.kind === "file") return [{ problem: `${f.path} is a file, not a folder`, fix }];
    const out: { problem: string; fix: string }[] = [];
    if (f.files === 0) out.push({ problem: `${f.path} holds no files; a sync would empty the CDN`, fix: `build the widget into it first, or ${fix.slice(0, 1).toLowerCase()}${fix.slice(1)}` });
    const list = (paths: readonly string[]) => paths.slice(0, 3).join(", ") + (paths.length > 3 ? ` and ${paths.length - 3} more` : "");
    if (f.broken.length > 0) out.push({ problem: `${f.path} holds links that point nowhere: ${list(f.broken)}`, fix: "remove the links or make them point at files" });
    if (f.linkedFolders.length > 0) out.push({ problem: `${f.path} holds links to folders, which the upload cannot copy: ${list(f.linkedFolders)}`, fix: "replace each link with the folder it points to (a copy)" });
    return out;
}

/** The declared key nearest to a misspelt one (edit distance ≤ 3), for "did you mean". */
function closest(word: string, candidates: string[]): string | undefined {
    let best: { c: string; d: number } | undefined;
    for (const c of candidates) {
        const d = editDistance(word.toLowerCase(), c.toLowerCase());
        if (d <= 3 && (!best || d < best.d)) best = { c, d };
    }
    return best?.c;
}

function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const tmp = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
            prev = tmp;
        }
    }
    return row[b.length];
}
