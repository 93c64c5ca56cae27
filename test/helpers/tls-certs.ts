import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A test CA and leaf certificates with chosen validity dates, made by the real openssl (`openssl ca` sets past dates). */
export interface TestCa {
    readonly dir: string;
    /** PEM of the CA certificate. */
    readonly caPem: string;
    /** A key and certificate for `name`, valid from `notBefore` to `notAfter` (YYYYMMDDHHMMSSZ); `san` defaults to DNS:<name>. */
    leaf(name: string, notBefore: string, notAfter: string, san?: string): { key: string; cert: string };
}

const CA_CONF = ["[ca]", "default_ca = c", "[c]", "database = db/index", "new_certs_dir = db", "serial = db/serial", "default_md = sha256", "policy = p", "copy_extensions = copy", "unique_subject = no", "[p]", "commonName = supplied", ""].join("\n");

/** openssl's date form of a Date. */
export const certDate = (d: Date) => d.toISOString().replace(/[-:T]/g, "").replace(/\.\d+Z$/, "Z");

export function makeTestCa(dir: string): TestCa {
    mkdirSync(join(dir, "db"), { recursive: true });
    writeFileSync(join(dir, "db/index"), "");
    writeFileSync(join(dir, "db/serial"), "01\n");
    writeFileSync(join(dir, "ca.cnf"), CA_CONF);
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    const run = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    run(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "3650", "-subj", "/CN=visualkit-test-ca"]);
    return {
        dir,
        caPem: readFileSync(join(dir, "ca.crt"), "utf8"),
        leaf(name, notBefore, notAfter, san = `DNS:${name}`) {
            run(["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`, "-addext", `subjectAltName=${san}`]);
            run(["ca", "-batch", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile", "ca.key", "-in", `${name}.csr`, "-out", `${name}.crt`, "-startdate", notBefore, "-enddate", notAfter]);
            return { key: readFileSync(join(dir, `${name}.key`), "utf8"), cert: readFileSync(join(dir, `${name}.crt`), "utf8") };
        },
    };
}
