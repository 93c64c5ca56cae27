import type { ConfigReader } from "../reader";
import type { SecretString } from "../secret";
import { checkSshSource } from "../checks";
import type { Environment } from "../types";
import { checkCidr, checkSshPublicKey } from "../validators";

/** Who may log in to the hosts, from where, and the key the day-2 SSH steps use. */
export interface SshSection {
    readonly publicKeys?: readonly string[];
    readonly allowedCidrs?: readonly string[];
    readonly privateKey?: SecretString;
}

/** Shows a value in a message with its control characters escaped, so a message never carries a hidden line. */
const shown = (v: string) => v.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

/** Whether a CIDR opens SSH to the internet or a large part of it: any IPv4 prefix shorter than /8, IPv6 than /16. */
function worldWide(cidr: string): boolean {
    const m = /^(.+)\/(\d+)$/.exec(cidr);
    if (!m) return false;
    return Number(m[2]) < (m[1].includes(":") ? 16 : 8);
}

export function readSsh(r: ConfigReader, environment?: Environment): SshSection {
    const publicKeys = r.list("sshPublicKeys");
    if (publicKeys && publicKeys.length === 0) r.add("sshPublicKeys", "is empty, so nobody could log in", `add your key: the line of ~/.ssh/id_ed25519.pub under visualkit:sshPublicKeys in Pulumi.${r.stack}.yaml`);
    publicKeys?.forEach((k, i) => {
        const why = checkSshPublicKey(k);
        if (why) r.add(`sshPublicKeys[${i}]`, `"${shown(k.slice(0, 40))}${k.length > 40 ? "…" : ""}" ${why}`, `paste the whole public key line (ssh-keygen -y -f ~/.ssh/id_ed25519 prints it)`);
    });
    const allowedCidrs = r.list("sshAllowedCidrs");
    if (allowedCidrs && allowedCidrs.length === 0) r.add("sshAllowedCidrs", "is empty, so SSH (and every deployment step over SSH) would be unreachable", `add your address, e.g. 203.0.113.7/32, under visualkit:sshAllowedCidrs in Pulumi.${r.stack}.yaml`);
    allowedCidrs?.forEach((c, i) => {
        const why = checkSshSource(c);
        if (why) r.add(`sshAllowedCidrs[${i}]`, `"${c}" ${why}`, `use a CIDR such as 203.0.113.7/32 (one address) or 2001:db8::/64 in Pulumi.${r.stack}.yaml`);
    });
    // In prod, SSH reaches root and every secret on the host: opening it to the internet must be a decision, not a
    // paste. A GitHub-hosted runner has no fixed address (its ranges are all of Azure); give the deploy job one instead.
    const openToWorld = r.bool("sshOpenToTheWorld") ?? false;
    const wide = (allowedCidrs ?? []).map((c, i) => [c, i] as const).filter(([c]) => !checkCidr(c) && worldWide(c));
    if (environment === "prod" && !openToWorld) {
        for (const [c, i] of wide) {
            r.add(
                `sshAllowedCidrs[${i}]`,
                `"${c}" opens SSH (root, every secret on the host) to ${c.endsWith("/0") ? "the whole internet" : "a large part of the internet"} in prod`,
                `list the deployers' fixed egress addresses instead (a self-hosted runner or a GitHub larger runner with a static IP, an office or VPN egress); a GitHub-hosted runner has no fixed address. Only if this is deliberate: ${r.setCmd("sshOpenToTheWorld", "true")}`,
            );
        }
    }
    if (openToWorld && wide.length === 0) {
        r.add("sshOpenToTheWorld", "is true, but no entry of visualkit:sshAllowedCidrs is wider than a /8 (IPv4) or /16 (IPv6)", `remove it: pulumi config rm visualkit:sshOpenToTheWorld -s ${r.stack}`);
    }
    return { publicKeys, allowedCidrs, privateKey: r.secret("sshPrivateKey", false) };
}
