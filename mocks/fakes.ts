import { createHash } from "node:crypto";
import { SECRET_PLACEHOLDER } from "../config/secret";

/**
 * What the mocks answer for the provider resources and invokes the program uses: realistic computed state,
 * deterministic (two renders are byte-identical) and from documentation address ranges only.
 */

/** Deterministic fake numbers so two renders are byte-identical. */
function fakeNumber(seed: string, modulo: number): number {
    return parseInt(createHash("sha256").update(seed).digest("hex").slice(0, 8), 16) % modulo;
}

/** The id the mocks give a custom resource (tests use it to check references between resources). */
export function fakeId(type: string, name: string): string {
    return String(fakeNumber(`${type}::${name}`, 90_000_000) + 10_000_000);
}

/** Realistic computed state for the provider resources the program uses (documentation IP ranges only). */
export function builtinState(type: string, name: string, inputs: Record<string, unknown>, exitCodes: Readonly<Record<string, number>>): Record<string, unknown> {
    const n = fakeNumber(`${type}::${name}`, 9_000_000) + 1_000_000;
    switch (type) {
        case "hcloud:index/primaryIp:PrimaryIp":
            return inputs.type === "ipv6"
                ? { ipAddress: "2001:db8:1:2::1", ipNetwork: "2001:db8:1:2::/64" }
                : { ipAddress: `203.0.113.${(n % 200) + 10}` };
        case "hcloud:index/floatingIp:FloatingIp":
            return { ipAddress: `198.51.100.${(n % 200) + 10}` };
        case "hcloud:index/server:Server":
            return { ipv4Address: "203.0.113.10", ipv6Address: "2001:db8:1:2::1", ipv6Network: "2001:db8:1:2::/64", status: "running" };
        case "hcloud:index/volume:Volume":
            // Hetzner names the device after the volume id (the id the mocks give it below).
            return { linuxDevice: `/dev/disk/by-id/scsi-0HC_Volume_${fakeId(type, name)}` };
        case "hcloud:index/sshKey:SshKey":
            return { fingerprint: createHash("md5").update(String(inputs.publicKey)).digest("hex").replace(/(..)(?!$)/g, "$1:") };
        case "random:index/randomPassword:RandomPassword":
            return { result: SECRET_PLACEHOLDER, bcryptHash: SECRET_PLACEHOLDER };
        case "cloudflare:index/pagesProject:PagesProject":
            return { subdomain: `${String(inputs.name)}.pages.dev`, domains: [] };
        case "command:remote:Command":
        case "command:local:Command":
            return { stdout: "", stderr: "" };
        case "docker:index/remoteImage:RemoteImage": {
            // The image id is a function of the reference, so tests can tell which image a container runs.
            const digest = createHash("sha256").update(String(inputs.name)).digest("hex");
            return { imageId: `sha256:${digest}`, repoDigest: `${String(inputs.name).split(/[:@]/)[0]}@sha256:${digest}` };
        }
        case "docker:index/container:Container":
            // An attached one-shot container has run to completion; 0 is a successful run.
            return inputs.attach === true ? { exitCode: exitCodes[String(inputs.name)] ?? 0, containerLogs: "" } : {};
        default:
            return {};
    }
}

export function builtinInvoke(token: string, inputs: Record<string, unknown>): Record<string, unknown> | undefined {
    if (token === "cloudflare:index/getZone:getZone") {
        const name = String((inputs.filter as Record<string, unknown> | undefined)?.name ?? "zone");
        const zoneId = createHash("sha256").update(`zone:${name}`).digest("hex").slice(0, 32);
        return { id: zoneId, zoneId, name, status: "active" };
    }
    // The offline render stands for a zone with no records yet; tests pass today's zone instead.
    if (token === "cloudflare:index/getDnsRecords:getDnsRecords") return { results: [] };
    return undefined;
}
