import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { registryOf, resolveDigest } from "../../../scripts/deploy/resolve";
import { freePort } from "../../helpers/sshd";

/**
 * `npm run deploy -- --resolve` against a stand-in registry on 127.0.0.1 that behaves like ghcr.io: a manifest HEAD
 * without a token gets 401 and a Bearer challenge, the realm hands out an anonymous pull token for the scope asked,
 * and the manifest answer names its digest in Docker-Content-Digest.
 */
const DIGEST = "sha256:" + "5e".repeat(32);
let server: Server;
let host: string;
const seen: { path: string; auth?: string; accept?: string }[] = [];

beforeAll(async () => {
    server = createServer((req, res) => {
        const url = new URL(req.url!, "http://x");
        seen.push({ path: req.url!, auth: req.headers.authorization, accept: req.headers.accept });
        if (url.pathname === "/token") {
            if (url.searchParams.get("scope") !== "repository:visualkit/platform-api:pull") return res.writeHead(403).end();
            res.writeHead(200, { "Content-Type": "application/json" });
            return res.end(JSON.stringify({ token: "anon-pull" }));
        }
        if (req.headers.authorization !== "Bearer anon-pull") {
            res.writeHead(401, { "WWW-Authenticate": `Bearer realm="http://${host}/token",service="${host}",scope="repository:visualkit/platform-api:pull"` });
            return res.end();
        }
        if (url.pathname === "/v2/visualkit/platform-api/manifests/main") {
            res.writeHead(200, { "Docker-Content-Digest": DIGEST, "Content-Type": "application/vnd.oci.image.index.v1+json" });
            return res.end();
        }
        return res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

test("a moving tag becomes tag@digest, through the anonymous token the challenge names", async () => {
    seen.length = 0;
    expect(await resolveDigest(`${host}/visualkit/platform-api:main`)).toBe(`${host}/visualkit/platform-api:main@${DIGEST}`);
    expect(seen.map((s) => [s.path, s.auth])).toEqual([
        ["/v2/visualkit/platform-api/manifests/main", undefined],
        [`/token?service=${encodeURIComponent(host)}&scope=repository%3Avisualkit%2Fplatform-api%3Apull`, undefined],
        ["/v2/visualkit/platform-api/manifests/main", "Bearer anon-pull"],
    ]);
    // Multi-architecture images: the index's digest, not one platform's manifest.
    expect(seen[2].accept).toContain("application/vnd.oci.image.index.v1+json");
});

test("a reference with a digest is left alone; a missing tag is an error naming it", async () => {
    seen.length = 0;
    expect(await resolveDigest(`${host}/visualkit/platform-api@${DIGEST}`)).toBe(`${host}/visualkit/platform-api@${DIGEST}`);
    expect(seen).toEqual([]);
    await expect(resolveDigest(`${host}/visualkit/platform-api:nope`)).rejects.toThrow(`${host}/visualkit/platform-api:nope does not exist`);
    const closed = await freePort();
    await expect(resolveDigest(`127.0.0.1:${closed}/x/y:main`)).rejects.toThrow(`cannot reach http://127.0.0.1:${closed} (connect ECONNREFUSED 127.0.0.1:${closed}); deploy a digest instead`);
});

test.each([
    ["chatwoot/chatwoot", "https://registry-1.docker.io", "chatwoot/chatwoot"],
    ["redis", "https://registry-1.docker.io", "library/redis"],
    ["ghcr.io/visualkit/vk-agent", "https://ghcr.io", "visualkit/vk-agent"],
    ["localhost:5000/x/y", "http://localhost:5000", "x/y"],
])("registryOf(%s)", (repo, base, name) => {
    expect(registryOf(repo)).toEqual({ base, name });
});
