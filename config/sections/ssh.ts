import type { ConfigReader } from "../reader";
import type { SecretString } from "../secret";
import { checkSshSource } from "../checks";
import { checkSshPublicKey } from "../validators";

/** Who may log in to the hosts, from where, and the key the day-2 SSH steps use. */
export interface SshSection {
    readonly publicKeys?: readonly string[];
    readonly allowedCidrs?: readonly string[];
    readonly privateKey?: SecretString;
}

export function readSsh(r: ConfigReader): SshSection {
    const publicKeys = r.list("sshPublicKeys");
    if (publicKeys && publicKeys.length === 0) r.add("sshPublicKeys", "is empty, so nobody could log in", `add your key: the line of ~/.ssh/id_ed25519.pub under visualkit:sshPublicKeys in Pulumi.${r.stack}.yaml`);
    publicKeys?.forEach((k, i) => {
        const why = checkSshPublicKey(k);
        if (why) r.add(`sshPublicKeys[${i}]`, `"${k.slice(0, 40)}${k.length > 40 ? "…" : ""}" ${why}`, `paste the whole public key line (ssh-keygen -y -f ~/.ssh/id_ed25519 prints it)`);
    });
    const allowedCidrs = r.list("sshAllowedCidrs");
    if (allowedCidrs && allowedCidrs.length === 0) r.add("sshAllowedCidrs", "is empty, so SSH (and every deployment step over SSH) would be unreachable", `add your address, e.g. 203.0.113.7/32, under visualkit:sshAllowedCidrs in Pulumi.${r.stack}.yaml`);
    allowedCidrs?.forEach((c, i) => {
        const why = checkSshSource(c);
        if (why) r.add(`sshAllowedCidrs[${i}]`, `"${c}" ${why}`, `use a CIDR such as 203.0.113.7/32 (one address) or 2001:db8::/64 in Pulumi.${r.stack}.yaml`);
    });
    return { publicKeys, allowedCidrs, privateKey: r.secret("sshPrivateKey", false) };
}
