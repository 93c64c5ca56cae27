import { spawn, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { ROOT } from "./program";
import { freePort } from "./sshd";

/** An S3 server (s3rver) on 127.0.0.1 over TLS with a certificate of its own; restic trusts it through SSL_CERT_FILE. */
export interface LocalS3 {
    readonly endpoint: string;
    readonly bucket: string;
    /** PEM file of the server's self-signed certificate. */
    readonly ca: string;
    /** s3rver's fixed credentials. */
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    stop(): Promise<void>;
}

/**
 * Over TLS because restic's S3 client (minio-go) sends plain-HTTP uploads with the aws-chunked streaming signature,
 * which s3rver stores verbatim (the repository config then does not decrypt); over HTTPS it sends plain bodies, as
 * it does to Hetzner's Object Storage.
 */
export async function startS3(dir: string, bucket = "backups"): Promise<LocalS3> {
    mkdirSync(join(dir, "data"), { recursive: true });
    const key = join(dir, "key.pem");
    const ca = join(dir, "cert.pem");
    const ssl = spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", ca, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { encoding: "utf8" });
    if (ssl.status !== 0) throw new Error(`openssl failed: ${ssl.stderr}`);
    const port = await freePort();
    const bin = join(ROOT, "node_modules", "s3rver", "bin", "s3rver.js");
    let log = "";
    const child = spawn(process.execPath, [bin, "-d", join(dir, "data"), "-a", "127.0.0.1", "-p", String(port), "--key", key, "--cert", ca, "--configure-bucket", bucket, "--silent"], {
        stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (d) => (log += String(d)));
    child.stderr!.on("data", (d) => (log += String(d)));
    const deadline = Date.now() + 10_000;
    for (;;) {
        if (child.exitCode !== null) throw new Error(`s3rver exited: ${log}`);
        const ok = await new Promise<boolean>((resolve) => {
            const s = connect(port, "127.0.0.1", () => (s.end(), resolve(true)));
            s.on("error", () => resolve(false));
        });
        if (ok) break;
        if (Date.now() > deadline) throw new Error(`s3rver did not listen: ${log}`);
        await new Promise((r) => setTimeout(r, 100));
    }
    return {
        endpoint: `https://127.0.0.1:${port}`,
        bucket,
        ca,
        accessKeyId: "S3RVER",
        secretAccessKey: "S3RVER",
        stop: () =>
            new Promise<void>((resolve) => {
                if (child.exitCode !== null) return resolve();
                child.once("exit", () => resolve());
                child.kill("SIGTERM");
            }),
    };
}
