import { parseConfig, type RawConfig } from "../../stack";
import { stackRaw } from "../helpers/config-reader";
import { runProgram } from "../helpers/program";

/*
 * Issue 26's classes, each a table: a bad value → the one problem naming the key as written in Pulumi.<stack>.yaml
 * and the fix; the good neighbours beside it → no problem at all (and, together, a real render at the end).
 * `CASES` is counted in the report: test names start with the class.
 */

type Set = Record<string, unknown>;
const SMTP = { chatwootSmtpAddress: "smtp.zoho.eu", chatwootSmtpPassword: "pw" };

const raw = (stack: "dev" | "prod", set: Set): RawConfig => stackRaw(stack, set, { secrets: Object.keys(set).filter((k) => /Password|SecretEnv|PrivateKey|S3/.test(k)) });
/** An S3 repository in prod: its keys, and a host key that may delete (append-only needs an sftp:// backup box). */
const S3 = { backupAppendOnly: "false", backupS3AccessKeyId: "id", backupS3SecretAccessKey: "key" };

type Bad = readonly [what: string, set: Set, key: string, problem: RegExp, fix: RegExp];
type Good = readonly [what: string, set: Set];

const CLASSES: Record<string, { stack: "dev" | "prod"; bad: readonly Bad[]; good: readonly Good[] }> = {
    addresses: {
        stack: "prod",
        bad: [
            ["SSH from loopback", { sshAllowedCidrs: ["127.0.0.0/8"] }, "sshAllowedCidrs[0]", /is the loopback range: the firewall sees SSH clients by their public address/, /use a CIDR such as/],
            ["SSH from IPv6 loopback", { sshAllowedCidrs: ["::1/128"] }, "sshAllowedCidrs[0]", /is the loopback address/, /use a CIDR such as/],
            ["SSH from a private range", { sshAllowedCidrs: ["10.0.0.0/8"] }, "sshAllowedCidrs[0]", /is a private range \(RFC 1918\)/, /use a CIDR such as/],
            ["SSH from a home network", { sshAllowedCidrs: ["192.168.1.0/24"] }, "sshAllowedCidrs[0]", /is a private range \(RFC 1918\)/, /use a CIDR such as/],
            ["SSH from CGNAT", { sshAllowedCidrs: ["100.64.0.0/10"] }, "sshAllowedCidrs[0]", /carrier-grade NAT/, /use a CIDR such as/],
            ["SSH from IPv4 link-local", { sshAllowedCidrs: ["169.254.0.0/16"] }, "sshAllowedCidrs[0]", /is the link-local range/, /use a CIDR such as/],
            ["SSH from IPv6 link-local", { sshAllowedCidrs: ["fe80::/64"] }, "sshAllowedCidrs[0]", /is the link-local range/, /use a CIDR such as/],
            ["SSH from a unique-local range", { sshAllowedCidrs: ["fd12:3456::/32"] }, "sshAllowedCidrs[0]", /unique-local \(private\)/, /use a CIDR such as/],
            ["a prefix written /024", { sshAllowedCidrs: ["94.130.12.0/024"] }, "sshAllowedCidrs[0]", /has the prefix length \/024; write \/24/, /use a CIDR such as/],
            ["an octet written 010", { sshAllowedCidrs: ["94.130.012.0/24"] }, "sshAllowedCidrs[0]", /has an octet with a leading zero; write 94\.130\.12\.0\/24/, /use a CIDR such as/],
            ["an IPv4-mapped IPv6 CIDR", { sshAllowedCidrs: ["::ffff:94.130.12.7/128"] }, "sshAllowedCidrs[0]", /IPv4-mapped .* write it as 94\.130\.12\.7\/32/, /use a CIDR such as/],
            ["an IPv6 zone id (crashed the validator)", { sshAllowedCidrs: ["fe80::%eth0/64"] }, "sshAllowedCidrs[0]", /has an IPv6 zone id/, /use a CIDR such as/],
            ["cutover from 0.0.0.0", { cutoverFromIpv4: "0.0.0.0" }, "cutoverFromIpv4", /unspecified\/this-network range, not the old server's public address/, /set visualkit:cutoverFromIpv4 178\.156\.151\.139/],
            ["cutover from 127.0.0.1", { cutoverFromIpv4: "127.0.0.1" }, "cutoverFromIpv4", /loopback range/, /set visualkit:cutoverFromIpv4/],
            ["cutover from a private address", { cutoverFromIpv4: "10.1.2.3" }, "cutoverFromIpv4", /private range/, /set visualkit:cutoverFromIpv4/],
            ["cutover from a broadcast address", { cutoverFromIpv4: "255.255.255.255" }, "cutoverFromIpv4", /reserved range/, /set visualkit:cutoverFromIpv4/],
        ],
        good: [
            ["a public IPv4 range and IPv6 prefix", { sshAllowedCidrs: ["94.130.12.0/24", "2a01:4f8:c012::/48"] }],
            ["one public address", { sshAllowedCidrs: ["94.130.12.7/32"] }],
            ["a non-compressed IPv6 address", { sshAllowedCidrs: ["2a01:4f8:0:0:0:0:0:1/128"] }],
            ["cutover from the old server", { cutoverFromIpv4: "178.156.151.139" }],
        ],
    },
    names: {
        stack: "prod",
        bad: [
            ["an empty serverImage", { serverImage: "" }, "serverImage", /is not an image the bootstrap targets \(debian-12\)/, /set visualkit:serverImage debian-12/],
            ["an OS the bootstrap does not target", { serverImage: "ubuntu-24.04" }, "serverImage", /cloud-init installs Debian 12 packages/, /debian-12/],
            ["a garbage serverImage", { serverImage: "debian 12; rm -rf" }, "serverImage", /not an image the bootstrap targets/, /debian-12/],
            ["a registry URL", { registryServer: "https://ghcr.io", registryUsername: "ci", registryPassword: "t" }, "registryServer", /without https:\/\/ or a path/, /set visualkit:registryServer ghcr\.io/],
            ["a registry with a path", { registryServer: "ghcr.io/visualkit", registryUsername: "ci", registryPassword: "t" }, "registryServer", /without https:\/\/ or a path/, /ghcr\.io/],
            ["an uppercase registry", { registryServer: "GHCR.IO", registryUsername: "ci", registryPassword: "t" }, "registryServer", /lowercase host name/, /ghcr\.io/],
            ["an SMTP address with its port", { ...SMTP, chatwootSmtpAddress: "smtp.zoho.eu:587" }, "chatwootSmtpAddress", /give the port in visualkit:chatwootSmtpPort/, /smtp\.zoho\.eu/],
            ["an SMTP address with a space", { ...SMTP, chatwootSmtpAddress: "smtp zoho.eu" }, "chatwootSmtpAddress", /not a host name/, /smtp\.zoho\.eu/],
            ["a sender with a header injected", { ...SMTP, chatwootMailerSender: "VisualKit <support@visualkit.live>\nBcc: all@evil.example" }, "chatwootMailerSender", /line break .* mail headers of its own/, /VisualKit <support@visualkit\.live>/],
            ["a sender that is no address", { ...SMTP, chatwootMailerSender: "VisualKit support" }, "chatwootMailerSender", /has the address "VisualKit support"/, /VisualKit <support@visualkit\.live>/],
            ["apps folder ../../etc", { pagesAppsDir: "../../etc" }, "pagesAppsDir", /steps out of .* the repository/, /set visualkit:pagesAppsDir apps/],
            ["apps folder /etc", { pagesAppsDir: "/etc" }, "pagesAppsDir", /is an absolute path/, /pagesAppsDir apps/],
            ["output folder ../dist", { pagesOutputDir: "../dist" }, "pagesOutputDir", /steps out of/, /pagesOutputDir dist/],
            ["a branch with ..", { pagesProductionBranch: "main..x" }, "pagesProductionBranch", /not a branch name git accepts/, /pagesProductionBranch main/],
            ["a branch with a space", { pagesProductionBranch: "my branch" }, "pagesProductionBranch", /not a branch name git accepts/, /main/],
            ["a branch starting with -", { pagesProductionBranch: "--force" }, "pagesProductionBranch", /not a branch name git accepts/, /main/],
            ["owner/repo in the repository key", { pagesGitRepo: "visualkit/apps" }, "pagesGitRepo", /holds owner\/repository/, /set visualkit:pagesGitRepo visualkit/],
            ["a repository named ..", { pagesGitRepo: ".." }, "pagesGitRepo", /not a GitHub repository name/, /pagesGitRepo/],
            ["an owner with a leading hyphen", { pagesGitOwner: "-visualkit" }, "pagesGitOwner", /not a GitHub user or organization name/, /pagesGitOwner visualkit/],
            ["an adopt id with ..", { adopt: { "visualkit-prod-dns-api-a": "0123/../records" } }, "adopt.visualkit-prod-dns-api-a", /is not a Cloudflare import id/, /npm run adopt/],
            ["an adopt id of ..", { adopt: { "visualkit-prod-dns-api-a": "../x" } }, "adopt.visualkit-prod-dns-api-a", /is not a Cloudflare import id/, /npm run adopt/],
        ],
        good: [
            ["debian-12", { serverImage: "debian-12" }],
            ["a registry host and one with a port", { registryServer: "registry.example.com:5000", registryUsername: "ci", registryPassword: "t" }],
            ["SMTP with a named sender", { ...SMTP, chatwootMailerSender: "VisualKit <support@visualkit.live>" }],
            ["SMTP by IP with a bare sender", { ...SMTP, chatwootSmtpAddress: "94.130.12.25", chatwootMailerSender: "support@visualkit.live" }],
            ["nested folders", { pagesAppsDir: "packages/apps", pagesOutputDir: "build/out" }],
            ["a release branch", { pagesProductionBranch: "release/1.2" }],
            ["a repository with dots", { pagesGitRepo: "visualkit.apps", pagesGitOwner: "visual-kit" }],
            ["an adopt id with a domain", { adopt: { "visualkit-prod-pages-landing-domain": "0123456789abcdef0123456789abcdef/landing/visualkit.live" } }],
        ],
    },
    email: {
        stack: "prod",
        bad: [
            ["a backtick (Caddy refuses the Caddyfile)", { acmeEmail: "op`s@visualkit.live" }, "acmeEmail", /characters before the @ other than/, /set visualkit:acmeEmail ops@visualkit\.live/],
            ["{$HOME} (Caddy expands it)", { acmeEmail: "{$HOME}@visualkit.live" }, "acmeEmail", /Caddy would expand/, /acmeEmail ops@visualkit\.live/],
            ["{env.HOME}", { acmeEmail: "{env.HOME}@visualkit.live" }, "acmeEmail", /characters before the @/, /acmeEmail/],
            ["a 5,000-character local part", { acmeEmail: `${"a".repeat(5000)}@visualkit.live` }, "acmeEmail", /is not an e-mail address/, /acmeEmail/],
            ["a 65-character local part", { acmeEmail: `${"a".repeat(65)}@visualkit.live` }, "acmeEmail", /longer than 64 characters/, /acmeEmail/],
            ["a non-ASCII local part", { acmeEmail: "öps@visualkit.live" }, "acmeEmail", /characters before the @/, /acmeEmail/],
            ["two dots in a row", { acmeEmail: "ops..team@visualkit.live" }, "acmeEmail", /two in a row/, /acmeEmail/],
            ["SPF +all", { emailSpf: "v=spf1 include:zoho.com +all" }, "emailSpf", /lets anyone on the Internet send mail as the domain/, /~all/],
            ["SPF bare all (= +all)", { emailSpf: "v=spf1 include:zoho.com all" }, "emailSpf", /lets anyone/, /~all/],
            ["a quote in the SPF value", { emailSpf: 'v=spf1 include:zoho.com "~all"' }, "emailSpf", /holds a quote or a backslash/, /~all/],
            ["a newline in the SPF value", { emailSpf: "v=spf1 include:zoho.com\n~all" }, "emailSpf", /line break/, /~all/],
            ["a newline in the DKIM value", { emailDkim: "v=DKIM1; k=rsa;\np=MIIBIjAN" }, "emailDkim", /line break/, /v=DKIM1; k=rsa/],
            ["a quote in the DKIM value", { emailDkim: 'v=DKIM1; k=rsa; p="MIIBIjAN"' }, "emailDkim", /quote or a backslash/, /v=DKIM1/],
            ["a DMARC report address with a backtick", { emailDmarcRua: "mailto:dm`arc@visualkit.live" }, "emailDmarcRua", /not a list of mailto: addresses/, /mailto:dmarc@visualkit\.live/],
        ],
        good: [
            ["plus addressing", { acmeEmail: "ops+acme@visualkit.live" }],
            ["dots and digits", { acmeEmail: "ops.team2@visualkit.live" }],
            ["SPF -all", { emailSpf: "v=spf1 include:zoho.com -all" }],
            ["SPF ?all", { emailSpf: "v=spf1 include:zoho.com ?all" }],
        ],
    },
    routing: {
        stack: "prod",
        bad: [
            ["www at the apex (redirect loop)", { hostnames: { www: "@" } }, "hostnames.www", /redirects to: every request would loop/, /--path 'visualkit:hostnames\.www' www/],
            ["www at the apex with the landing site moved", { hostnames: { www: "@", landing: "home" } }, "hostnames.www", /would loop/, /hostnames\.www' www/],
        ],
        good: [
            ["www under another label", { hostnames: { www: "w" } }],
            ["the landing site elsewhere", { hostnames: { landing: "home" } }],
        ],
    },
    images: {
        stack: "prod",
        bad: [
            ["a floating major tag :1", { imageJanus: "ghcr.io/visualkit/janus:1" }, "imageJanus", /is not pinned; .* floating major\/minor tag/, /janus:<version>/],
            ["a major.minor tag", { imageVkAgent: "ghcr.io/visualkit/vk-agent:1.4" }, "imageVkAgent", /is not pinned/, /vk-agent:<version>/],
            ["the old default pg16", { imagePostgres: "pgvector/pgvector:pg16" }, "imagePostgres", /is not pinned/, /pgvector\/pgvector:<version>/],
            ["the old default 7.4-alpine", { imageRedis: "redis:7.4-alpine" }, "imageRedis", /is not pinned/, /redis:<version>/],
            ["v1", { imageChatwoot: "chatwoot/chatwoot:v4" }, "imageChatwoot", /is not pinned/, /chatwoot:<version>/],
        ],
        good: [
            ["the new defaults", { imagePostgres: undefined, imageRedis: undefined }],
            ["full versions", { imagePostgres: "pgvector/pgvector:0.8.0-pg16", imageRedis: "redis:7.4.2-alpine", imageJanus: "ghcr.io/visualkit/janus:1.3.2" }],
            ["a digest", { imageJanus: `ghcr.io/visualkit/janus@sha256:${"a".repeat(64)}` }],
        ],
    },
    environment: {
        stack: "prod",
        bad: [
            ["a secret-named plain variable", { platformApiEnv: { JWT_SECRET: "x" } }, "platformApiEnv.JWT_SECRET", /is named like a credential \(SECRET\) but is plain config/, /--secret --path 'visualkit:platformApiSecretEnv\.JWT_SECRET'/],
            ["an API key in plain env", { platformApiEnv: { STRIPE_API_KEY: "sk_live" } }, "platformApiEnv.STRIPE_API_KEY", /named like a credential/, /platformApiSecretEnv\.STRIPE_API_KEY/],
            ["a password in vk-agent's env", { vkAgentEnv: { DB_PASSWORD: "pw" } }, "vkAgentEnv.DB_PASSWORD", /named like a credential \(PASSWORD\)/, /vk-agent's only secret is visualkit:geminiApiKey/],
            ["a token in vk-agent's env", { vkAgentEnv: { SENTRY_TOKEN: "t" } }, "vkAgentEnv.SENTRY_TOKEN", /named like a credential/, /remove visualkit:vkAgentEnv\.SENTRY_TOKEN/],
            ["a value over 128 KiB", { platformApiEnv: { BLOB: "x".repeat(128 * 1024) } }, "platformApiEnv.BLOB", /Linux refuses to start a program with an environment entry over 128 KiB/, /ship it as a file/],
            ["a secret over 128 KiB", { platformApiSecretEnv: { CERT: "x".repeat(200 * 1024) } }, "platformApiSecretEnv.CERT", /over 128 KiB/, /ship it as a file/],
        ],
        good: [
            ["plain settings", { platformApiEnv: { LOG_FORMAT: "json", NODE_ENV: "production" } }],
            ["the secret in the secret map", { platformApiSecretEnv: { JWT_SECRET: "x" } }],
            ["a value just under the limit", { platformApiEnv: { BLOB: "x".repeat(128 * 1024 - 10) } }],
            ["an empty secret-named variable", { platformApiEnv: { SENTRY_TOKEN: "" } }],
        ],
    },
    backups: {
        stack: "prod",
        bad: [
            ["a plain-HTTP S3 endpoint", { ...S3, backupRepository: "s3:http://nbg1.your-objectstorage.com/visualkit-backups/prod" }, "backupRepository", /over plain HTTP/, /s3:https:\/\/nbg1\.your-objectstorage\.com\/visualkit-backups\/prod/],
            ["an hour systemd cannot parse", { backupSchedule: "*-*-* 25:00:00" }, "backupSchedule", /has the hour "25"/, /systemd-analyze calendar/],
            ["a schedule with a shell character", { backupSchedule: "daily;reboot" }, "backupSchedule", /is not a systemd calendar expression/, /'\*-\*-\* 03:30:00'/],
            ["backup + prune every minute", { backupSchedule: "*-*-* *:*:00" }, "backupSchedule", /fires more than once an hour/, /systemd-analyze calendar/],
            ["every five minutes", { backupSchedule: "*:0/5" }, "backupSchedule", /fires more than once an hour/, /03:30:00/],
            ["minutely", { backupSchedule: "minutely" }, "backupSchedule", /fires every minute/, /03:30:00/],
            ["a drill schedule that is not one", { backupDrillSchedule: "sunday 5am" }, "backupDrillSchedule", /only weekdays|time of day/, /systemd-analyze calendar/],
        ],
        good: [
            ["weekdays twice a day", { backupSchedule: "Mon..Fri *-*-* 02,14:05:00" }],
            ["hourly", { backupSchedule: "hourly" }],
            ["every hour at :30", { backupSchedule: "*:30" }],
            ["an S3 endpoint with a port", { ...S3, backupRepository: "s3:https://s3.example.com:9000/bucket/prod" }],
        ],
    },
    namespaces: {
        stack: "prod",
        bad: [
            ["visualkt:domain", { "visualkt:domain": "visualkit.live" }, "visualkt:domain", /namespace "visualkt", which neither this program nor its providers read/, /did you mean visualkit:domain\?/],
            ["visualkit with a typo in both parts", { "visualkitt:acmeEmal": "ops@visualkit.live" }, "visualkitt:acmeEmal", /ignored/, /did you mean visualkit:acmeEmail\?/],
            ["hclod:token", { "hclod:token": "x" }, "hclod:token", /namespace "hclod"/, /did you mean hcloud:token\?/],
            ["aws:region", { "aws:region": "eu-central-1" }, "aws:region", /namespace "aws"/, /remove it from Pulumi\.prod\.yaml/],
        ],
        good: [
            ["Pulumi's own tags", { "pulumi:tags": { team: "platform" } }],
            ["a provider setting", { "hcloud:pollInterval": "1s" }],
        ],
    },
    messages: {
        stack: "prod",
        bad: [
            ["a numeric hostname label (was '123 undefined')", { hostnames: { api: 123 } }, "hostnames.api", /^is the number 123, not text/, /quote it/],
            ["a STUN server on a private address", { janusStunServer: "10.0.0.5:3478" }, "janusStunServer", /is in a private range \(RFC 1918\): a STUN server there cannot tell Janus its public address/, /stun\.l\.google\.com:19302/],
            ["a STUN server without a port", { janusStunServer: "stun.example.com" }, "janusStunServer", /is not host:port \(stun\.l\.google\.com:19302, 192\.0\.2\.10:3478/, /19302/],
            ["a whole number far too large", { volumeSizeGb: "1e+23" }, "volumeSizeGb", /^1e\+23 is far too large$/, /set visualkit:volumeSizeGb/],
        ],
        good: [
            ["a STUN server by IPv4 (was 'not host:port')", { janusStunServer: "74.125.250.129:19302" }],
            ["a STUN server by IPv6", { janusStunServer: "[2001:4860:4864:5:8000::1]:19302" }],
            ["a wide RTP range (collided with vk-agent's port in its own namespace)", { janusRtpPorts: "1024-65535" }],
            ["a quoted numeric label", { hostnames: { api: "123" } }],
        ],
    },
};

for (const [cls, { stack, bad, good }] of Object.entries(CLASSES)) {
    describe(`${cls}: ${bad.length} bad, ${good.length} good`, () => {
        test.each(bad.map((b) => [...b]))(`${cls} refused: %s`, (_what, set, key, problem, fix) => {
            const issues = parseConfig(raw(stack, set as Set)).issues;
            const full = (key as string).includes(":") ? key : `visualkit:${key as string}`;
            expect(issues).toEqual([expect.objectContaining({ key: full, problem: expect.stringMatching(problem as RegExp), fix: expect.stringMatching(fix as RegExp) })]);
        });
        test.each(good.map((g) => [...g]))(`${cls} accepted: %s`, (_what, set) => {
            expect(parseConfig(raw(stack, set as Set)).issues).toEqual([]);
        });
    });
}

test("the good neighbours render together: the real program under mocks takes them and they reach their resources", async () => {
    const run = await runProgram("prod", {
        set: {
            sshAllowedCidrs: ["94.130.12.0/24", "2a01:4f8:c012::/48"],
            chatwootSmtpAddress: "smtp.zoho.eu",
            chatwootSmtpPassword: "pw",
            chatwootMailerSender: "VisualKit <support@visualkit.live>",
            pagesAppsDir: "packages/apps",
            pagesProductionBranch: "release/1.2",
            acmeEmail: "ops+acme@visualkit.live",
            emailSpf: "v=spf1 include:zoho.com -all",
            janusStunServer: "74.125.250.129:19302",
            janusRtpPorts: "1024-65535",
            backupSchedule: "Mon..Fri *-*-* 02,14:05:00",
            platformApiEnv: { LOG_FORMAT: "json" },
        },
        secrets: ["chatwootSmtpPassword"],
    });
    const text = JSON.stringify(run.resources.map((r) => r.rawInputs)) + [...run.files.values()].join("\n");
    for (const needle of ["94.130.12.0/24", "smtp.zoho.eu", "packages/apps", "release/1.2", "ops+acme@visualkit.live", "v=spf1 include:zoho.com -all", "74.125.250.129", "1024-65535", "02,14:05:00", "LOG_FORMAT=json"]) {
        expect(text).toContain(needle);
    }
});
