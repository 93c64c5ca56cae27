import { createHash, createPrivateKey, createPublicKey } from "node:crypto";

/**
 * A host's SSH identity, known to the program before the server exists, so every SSH connection the program and its
 * scripts make can refuse a server that presents another key (a machine in the middle receives every container
 * environment, backup.env and the Janus admin secret otherwise). Pure: no `@pulumi/*` import, the scripts use it too.
 *
 * The key pair is a function of a generated secret (a RandomPassword in the state, see HetznerHost): the same secret
 * always gives the same key, so the user data does not change between runs and a server rebuilt on the same IPs comes
 * back with the same key. Ed25519 private keys are 32 random bytes (RFC 8032 §5.1.5), which the secret's hash is.
 */
export interface SshHostKey {
    /** `ssh-ed25519 AAAA… <comment>`: a known_hosts / authorized_keys line without the host name. Not a secret. */
    readonly publicKey: string;
    /** The OpenSSH private key file (`-----BEGIN OPENSSH PRIVATE KEY-----`, unencrypted), as sshd reads it. */
    readonly privateKey: string;
}

// DER of a PKCS#8 Ed25519 private key up to its 32-byte seed (RFC 8410 §7): node builds the key from seed + this.
const PKCS8_ED25519 = Buffer.from("302e020100300506032b657004220420", "hex");

function sshString(value: Buffer | string): Buffer {
    const data = typeof value === "string" ? Buffer.from(value, "utf8") : value;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    return Buffer.concat([len, data]);
}

function uint32(n: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    return b;
}

/** The Ed25519 host key derived from `secret`; `comment` ends the public line (e.g. `visualkit-main`). */
export function ed25519HostKey(secret: string, comment: string): SshHostKey {
    if (!/^[A-Za-z0-9._@-]+$/.test(comment)) throw new Error(`host key comment must be one word of [A-Za-z0-9._@-], got ${JSON.stringify(comment)}`);
    const seed = createHash("sha256").update("visualkit ssh host key\0").update(secret).digest();
    const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: "der", type: "pkcs8" });
    const pub = createPublicKey(key).export({ format: "der", type: "spki" }).subarray(-32);
    const blob = Buffer.concat([sshString("ssh-ed25519"), sshString(pub)]);

    // PROTOCOL.key in OpenSSH: "openssh-key-v1\0", cipher/kdf "none", one key, then the private section (a random
    // check number twice, the key, the comment, padding 1, 2, 3… to the cipher's block size, 8 for "none"). The check
    // number comes from the seed so the file is the same on every run.
    const check = createHash("sha256").update("visualkit ssh host key check\0").update(seed).digest().readUInt32BE(0);
    let section = Buffer.concat([uint32(check), uint32(check), sshString("ssh-ed25519"), sshString(pub), sshString(Buffer.concat([seed, pub])), sshString(comment)]);
    const pad = (8 - (section.length % 8)) % 8;
    section = Buffer.concat([section, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
    const body = Buffer.concat([Buffer.from("openssh-key-v1\0", "latin1"), sshString("none"), sshString("none"), sshString(""), uint32(1), sshString(blob), sshString(section)]);
    const lines = body.toString("base64").match(/.{1,70}/g)!;
    return {
        publicKey: `ssh-ed25519 ${blob.toString("base64")} ${comment}`,
        privateKey: ["-----BEGIN OPENSSH PRIVATE KEY-----", ...lines, "-----END OPENSSH PRIVATE KEY-----", ""].join("\n"),
    };
}

/** Whether `blob` is the base64 of an SSH public key of `type`: the wire format starts with the type's name. */
function isPublicKey(type: string, blob: string): boolean {
    if (!/^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa)$/.test(type) || !/^[A-Za-z0-9+/]+=*$/.test(blob)) return false;
    const data = Buffer.from(blob, "base64");
    return data.length > 4 + type.length && data.readUInt32BE(0) === type.length && data.subarray(4, 4 + type.length).toString("latin1") === type;
}

/**
 * `ssh` options that accept exactly `publicKey` from the server, whatever address or port it is reached at, and
 * nothing from ~/.ssh/known_hosts: KnownHostsCommand (OpenSSH ≥ 8.5) prints the one known_hosts line, with `%H` (the
 * name ssh is looking up) as its host. No file has to exist on the deployer's machine, so the Docker provider's
 * options are plain values. ssh runs the command without a shell (argv_split in sshconnect.c), hence the absolute path.
 */
export function pinnedHostKeyOptions(publicKey: string): string[] {
    const [type, blob] = publicKey.trim().split(/\s+/);
    if (!isPublicKey(type ?? "", blob ?? "")) throw new Error(`not an SSH public key line: ${JSON.stringify(publicKey.slice(0, 40))}`);
    return [
        "-o", "StrictHostKeyChecking=yes",
        "-o", "UserKnownHostsFile=/dev/null",
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", `KnownHostsCommand=/bin/echo %H ${type} ${blob}`,
        // Only the pinned key's algorithm is negotiated, so a server offering another type fails at once.
        "-o", `HostKeyAlgorithms=${type}`,
    ];
}
