import { parseImageRef } from "../../config/validators";

/**
 * `npm run deploy -- --resolve`: turns `name:tag` into `name:tag@sha256:…` by asking the registry which manifest the
 * tag names now (OCI distribution spec: `HEAD /v2/<name>/manifests/<tag>`, answer header `Docker-Content-Digest`), so
 * a moving tag such as dev's `:main` is deployed as the exact build it points to. Public images only: the anonymous
 * token a registry hands out on its `WWW-Authenticate: Bearer realm=…` challenge (ghcr.io, Docker Hub). A registry
 * on localhost/127.0.0.1 is spoken to over plain HTTP, as Docker does, which is what the tests use.
 */

const ACCEPT = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** Registry host and repository path as the distribution API names them (Docker Hub's defaults filled in). */
export function registryOf(repository: string): { base: string; name: string } {
    const first = repository.split("/")[0];
    const hasHost = repository.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
    if (!hasHost) return { base: "https://registry-1.docker.io", name: repository.includes("/") ? repository : `library/${repository}` };
    const host = first;
    const local = /^(localhost|127\.0\.0\.1)(:\d+)?$/.test(host);
    return { base: `${local ? "http" : "https"}://${host}`, name: repository.slice(host.length + 1) };
}

function challenge(header: string | null): { realm: string; params: Record<string, string> } | undefined {
    const m = header?.match(/^Bearer\s+(.*)$/i);
    if (!m) return undefined;
    const params: Record<string, string> = {};
    for (const p of m[1].matchAll(/(\w+)="([^"]*)"/g)) params[p[1]] = p[2];
    return params.realm ? { realm: params.realm, params } : undefined;
}

/** `image` with the digest its tag names now; an image that already has a digest is returned as it is. */
export async function resolveDigest(image: string, timeoutMs = 15_000): Promise<string> {
    const ref = parseImageRef(image);
    if (!ref) throw new Error(`${JSON.stringify(image)} is not an image reference`);
    if (ref.digest) return image;
    const tag = ref.tag ?? "latest";
    const { base, name } = registryOf(ref.repository);
    const url = `${base}/v2/${name}/manifests/${tag}`;
    const head = (auth?: string) =>
        fetch(url, { method: "HEAD", headers: { Accept: ACCEPT, ...(auth ? { Authorization: auth } : {}) }, signal: AbortSignal.timeout(timeoutMs) }).catch((e: Error) => {
            throw new Error(`cannot reach ${base} (${(e.cause as Error | undefined)?.message ?? e.message}); deploy a digest instead`);
        });
    let res = await head();
    if (res.status === 401) {
        const c = challenge(res.headers.get("www-authenticate"));
        if (!c) throw new Error(`${base} wants credentials for ${name}; resolve the digest where you are logged in and deploy it`);
        const q = new URLSearchParams({ ...(c.params.service ? { service: c.params.service } : {}), scope: c.params.scope ?? `repository:${name}:pull` });
        const tokenRes = await fetch(`${c.realm}?${q}`, { signal: AbortSignal.timeout(timeoutMs) });
        if (!tokenRes.ok) throw new Error(`${c.realm} gave no anonymous pull token for ${name} (${tokenRes.status}): a private image; deploy its digest`);
        const body = (await tokenRes.json()) as { token?: string; access_token?: string };
        res = await head(`Bearer ${body.token ?? body.access_token}`);
    }
    if (res.status === 404) throw new Error(`${ref.repository}:${tag} does not exist in ${base}`);
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    const digest = res.headers.get("docker-content-digest");
    if (!digest || !/^sha256:[a-f0-9]{64}$/.test(digest)) throw new Error(`${url} named no sha256 digest (Docker-Content-Digest: ${digest ?? "absent"})`);
    return `${ref.repository}:${tag}@${digest}`;
}
