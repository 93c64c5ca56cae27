import { request } from "node:http";
import { connect, createServer } from "node:net";
import { ArchiveProxy, TcpForward, aptSourceHosts } from "./lib/forward";

/**
 * The native host's only way out is the test's apt proxy: it must forward to the hosts of the machine's apt sources
 * and nothing else (no other host, no other port, no CONNECT tunnel), like the VM that reaches only Debian's archive.
 */

test("the allowed hosts are the hosts of the machine's deb lines", () => {
    const sources = ["deb http://deb.debian.org/debian bookworm main", "# deb http://commented.example/debian bookworm main", "deb http://deb.debian.org/debian-security bookworm-security main", "deb-src http://src.example.org/debian bookworm main"].join("\n");
    expect(aptSourceHosts(sources)).toEqual(["deb.debian.org", "src.example.org"]);
});

test("only plain HTTP on port 80 to an allowed host is forwarded", () => {
    const proxy = new ArchiveProxy(["deb.debian.org"]);
    expect(proxy.allows("http://deb.debian.org/debian/dists/bookworm/InRelease")).toBe(true);
    expect(proxy.allows("http://deb.debian.org:8080/debian/")).toBe(false);
    expect(proxy.allows("https://deb.debian.org/debian/")).toBe(false);
    expect(proxy.allows("http://registry-1.docker.io/v2/")).toBe(false);
    expect(proxy.allows("http://deb.debian.org.evil.example/debian/")).toBe(false);
    expect(proxy.allows("/relative")).toBe(false);
});

test("a request for another host and a CONNECT tunnel are refused with 403", async () => {
    const proxy = new ArchiveProxy(["deb.debian.org"]);
    const port = await proxy.listen("127.0.0.1");
    try {
        const status = (method: string, path: string) =>
            new Promise<number>((resolve, reject) => {
                const req = request({ host: "127.0.0.1", port, method, path }, (res) => {
                    res.resume();
                    resolve(res.statusCode ?? 0);
                });
                req.on("connect", (res) => resolve(res.statusCode ?? 0));
                req.on("error", reject);
                req.end();
            });
        expect(await status("GET", "http://example.org/")).toBe(403);
        expect(await status("CONNECT", "deb.debian.org:443")).toBe(403);
        expect(proxy.refused).toEqual(["http://example.org/", "CONNECT deb.debian.org:443"]);
    } finally {
        await proxy.close();
    }
});

test("a forward listens only on the address it is given (a machine's veth end for another machine, lib/extra-host.ts)", async () => {
    // An upstream that says hello; the forward listens on 127.0.0.2 (loopback, another address), not on 127.0.0.1.
    const upstream = createServer((s) => s.end("hello from upstream\n"));
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
    const forward = await TcpForward.open("127.0.0.1", (upstream.address() as { port: number }).port, "127.0.0.2");
    const read = (host: string) =>
        new Promise<string>((resolve) => {
            const s = connect(forward.port, host);
            let data = "";
            s.on("data", (d) => (data += d));
            s.on("end", () => resolve(data));
            s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
        });
    try {
        expect(await read("127.0.0.2")).toBe("hello from upstream\n");
        expect(await read("127.0.0.1")).toBe("ECONNREFUSED");
    } finally {
        await forward.close();
        await new Promise((r) => upstream.close(r));
    }
});
