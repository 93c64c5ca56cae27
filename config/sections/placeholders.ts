import { createPublicKey } from "node:crypto";
import { DOCUMENTATION_RANGES, parseNetwork, within } from "../checks";
import type { ConfigReader } from "../reader";

/**
 * The committed stack files are examples: their SSH keys' private halves were thrown away, their CIDRs are
 * documentation ranges, their account id is made up and their DKIM key is a placeholder. The offline render and the
 * tests use them as they are; a real `pulumi preview`/`up` refuses each, naming it, because a first `up` with them
 * creates a server nobody can reach (and waits ~15 minutes for SSH), and during the takeover the placeholder DKIM
 * would replace the real one. Like the ssh-agent check (sections/local.ts), this runs only under a real engine.
 */
export function checkPlaceholders(r: ConfigReader): void {
    if (r.raw.local.engine === undefined) return;
    const run = `pulumi ${r.raw.local.engine}`;
    const list = (key: string): unknown[] => {
        try {
            const v: unknown = JSON.parse(r.rawOf(key) ?? "[]");
            return Array.isArray(v) ? v : [];
        } catch {
            return [];
        }
    };
    list("sshPublicKeys").forEach((k, i) => {
        if (typeof k === "string" && isExampleSshKey(k)) {
            r.add(`sshPublicKeys[${i}]`, `is one of the example keys the stack files ship with (its private half was thrown away): after ${run} nobody could log in`, `replace it with your team's key in Pulumi.${r.stack}.yaml (the line of ~/.ssh/id_ed25519.pub)`);
        }
    });
    list("sshAllowedCidrs").forEach((c, i) => {
        const n = parseNetwork(c);
        const doc = typeof n === "string" ? undefined : within(n, DOCUMENTATION_RANGES);
        if (doc) r.add(`sshAllowedCidrs[${i}]`, `"${String(c)}" is ${doc.what}, the stack file's example: no real client comes from it, so SSH and every deployment step would be unreachable`, `put your office/VPN egress and the CI runner's address in Pulumi.${r.stack}.yaml (curl -s https://api.ipify.org prints yours)`);
    });
    for (const key of ["cloudflareAccountId", "cloudflareZoneId"]) {
        const v = r.rawOf(key)?.trim() ?? "";
        if (isExampleId(v)) r.add(key, `"${v}" is the stack file's example id, not a Cloudflare ${key === "cloudflareAccountId" ? "account" : "zone"}`, `${r.setCmd(key, "<32-hex id>")} (Cloudflare dashboard → ${key === "cloudflareAccountId" ? "Workers & Pages → Account ID" : "the zone's Overview page"})`);
    }
    const dkim = r.rawOf("emailDkim")?.trim() ?? "";
    if (dkim !== "" && !isRealDkimKey(dkim)) {
        r.add("emailDkim", "holds no usable public key (p= is the stack file's placeholder or cut short): receivers would fail every DKIM signature, and during the takeover it would replace the real record", `paste the DKIM record your mail provider shows (Zoho: Mail Admin → Domains → DKIM): ${r.setCmd("emailDkim", "'v=DKIM1; k=rsa; p=MIIB...'")}`);
    }
}

/** The example keys of the committed stack files, and any key whose comment says it is one. */
const EXAMPLE_KEY_BLOBS = new Set([
    "AAAAC3NzaC1lZDI1NTE5AAAAIEWtOjFYbf4ORWFI8STa7hIP6udHFvc03LP90/G8BUoe",
    "AAAAC3NzaC1lZDI1NTE5AAAAIMl9/JEi4YjZ3PB6MZEsTI9IzbxA4k41036ci93unqjY",
]);

export function isExampleSshKey(line: string): boolean {
    const [, blob, ...comment] = line.trim().split(/\s+/);
    return EXAMPLE_KEY_BLOBS.has(blob ?? "") || /example|replace-?me/i.test(comment.join(" "));
}

/** All zeros, or the committed 0123456789abcdef… pattern. */
export function isExampleId(v: string): boolean {
    return /^0{32}$/.test(v) || v === "0123456789abcdef0123456789abcdef";
}

/** Whether p= holds a public key a receiver can load: RSA as SubjectPublicKeyInfo DER, ed25519 as 32 raw bytes. */
export function isRealDkimKey(record: string): boolean {
    const tags = new Map(record.split(";").map((t) => t.trim()).filter((t) => t.includes("=")).map((t) => [t.slice(0, t.indexOf("=")).trim(), t.slice(t.indexOf("=") + 1).replace(/\s+/g, "")] as const));
    const p = tags.get("p") ?? "";
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(p)) return false;
    const der = Buffer.from(p, "base64");
    if (tags.get("k") === "ed25519") return der.length === 32;
    try {
        return createPublicKey({ key: der, format: "der", type: "spki" }).asymmetricKeyType === "rsa";
    } catch {
        return false;
    }
}
