import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { renderCaddyfile } from "../../../render/caddyfile";
import { adminGet, CaddyProcess, caddyEnv, freePort, get, proxiedUpstreams, stackOptions, StubUpstream, tcpListenPorts } from "../../helpers/caddy";
import { parsedStack, ROOT } from "../../helpers/program";

/**
 * The install script run locally against the real Caddy, the way the component runs it on the server: the
 * Caddyfile arrives on stdin, paths point into a temp dir. Caddy starts the way a new server has it: admin API on TCP
 * (Debian's default localhost:2019, here a free loopback port); the first install moves it to the unix socket, and
 * every reload after that goes through the socket.
 */

const SCRIPT = join(ROOT, "scripts", "host", "install-caddyfile.sh");
const { config, catalog } = parsedStack("prod");
const apiUpstream = [...proxiedUpstreams(catalog)].find(([, ids]) => ids.includes("api"))![0];

const tmp = mkdtempSync(join(tmpdir(), "vk-caddy-install-"));
const target = join(tmp, "etc", "caddy", "Caddyfile");
const stubs: Record<"old" | "new" | "others", StubUpstream | undefined> = { old: undefined, new: undefined, others: undefined };
let caddy: CaddyProcess;
let httpPort: number;
let legacyAdminPort: number;
const adminSocket = join(tmp, "var", "lib", "caddy", "admin", "caddy.sock");

/** The loopback Caddyfile with the api route pointed at one stand-in (the "route change" being deployed). */
function render(api: StubUpstream, port = httpPort): string {
    const upstreams = Object.fromEntries([...proxiedUpstreams(catalog).keys()].map((a) => [a, (a === apiUpstream ? api : stubs.others!).address]));
    return renderCaddyfile(catalog, { ...stackOptions(config), loopback: { httpPort: port, adminSocket, upstreams, logDir: join(tmp, "log") } });
}

function install(args: string[], input?: string) {
    const res = spawnSync("bash", [SCRIPT, ...args], {
        input,
        encoding: "utf8",
        // No CADDY_ADMIN: the script finds the endpoint itself, as on the server.
        env: { ...caddyEnv(tmp), CADDYFILE: target, CADDY_ADMIN_SOCKET: adminSocket, CADDY_ADMIN_LEGACY: `127.0.0.1:${legacyAdminPort}`, CADDY_USER: "root" },
    });
    return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

const caddyPid = () => caddy.proc.pid!;
const servedBy = async () => (await get(httpPort, "api.visualkit.live")).headers["x-upstream"];

beforeAll(async () => {
    stubs.old = await StubUpstream.start("old-api");
    stubs.new = await StubUpstream.start("new-api");
    stubs.others = await StubUpstream.start("others");
    httpPort = await freePort();
    legacyAdminPort = await freePort();
    mkdirSync(join(tmp, "etc", "caddy"), { recursive: true });
    // A server before its first rendered Caddyfile: admin API on TCP, as every Caddy had it before this change.
    writeFileSync(target, render(stubs.old).replace(`admin unix/${adminSocket}`, `admin 127.0.0.1:${legacyAdminPort}`));
    caddy = await CaddyProcess.start(target, caddyEnv(tmp), legacyAdminPort, httpPort);
});

afterAll(async () => {
    await caddy?.stop();
    for (const stub of Object.values(stubs)) await stub?.stop();
    rmSync(tmp, { recursive: true, force: true });
});

describe("install-caddyfile.sh against a running Caddy", () => {
    test("shellcheck finds nothing", () => {
        const res = spawnSync("shellcheck", [SCRIPT], { encoding: "utf8" });
        if (res.error) throw new Error(`shellcheck could not run (is it installed?): ${res.error.message}`);
        expect({ status: res.status, output: res.stdout }).toEqual({ status: 0, output: "" });
    });

    test("the first install moves the admin API off TCP: Caddy then listens on no TCP port but its site port, and the socket's folder is root's and Caddy's alone", async () => {
        const pid = caddyPid();
        expect(tcpListenPorts(pid)).toEqual([httpPort, legacyAdminPort].sort((a, b) => a - b));
        // A stale socket file (left by a crashed Caddy) is not mistaken for the running endpoint.
        mkdirSync(dirname(adminSocket), { recursive: true });
        spawnSync("/usr/bin/python3", ["-c", `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(adminSocket)})`]);
        expect(statSync(adminSocket).isSocket()).toBe(true);
        const res = install([], render(stubs.old!));
        expect({ status: res.status, output: res.output }).toEqual({ status: 0, output: expect.stringContaining("installed and Caddy reloaded") });
        expect(caddyPid()).toBe(pid);
        expect(tcpListenPorts(pid)).toEqual([httpPort]);
        await expect(get(legacyAdminPort, `127.0.0.1:${legacyAdminPort}`, "/config/")).rejects.toThrow(/ECONNREFUSED/);
        expect((await adminGet(adminSocket, "/config/")).status).toBe(200);
        expect(statSync(join(tmp, "var", "lib", "caddy", "admin")).mode & 0o777).toBe(0o700);
        // Another user of the host (Janus's container user would not even see the file) cannot open the socket.
        // (The test's folders above it are opened up, so the admin folder is the only wall.)
        chmodSync(tmp, 0o755);
        const connect = (path: string) =>
            spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", `import socket; socket.socket(socket.AF_UNIX).connect(${JSON.stringify(path)})`], { encoding: "utf8" });
        expect(connect(join(tmp, "var", "lib", "caddy", "not-a-socket")).stderr).toContain("FileNotFoundError");
        const asNobody = connect(adminSocket);
        expect(asNobody.status).not.toBe(0);
        expect(asNobody.stderr).toContain("PermissionError");
    });

    test("a valid new Caddyfile on stdin goes live by reload; the previous file is kept as the backup", async () => {
        expect(await servedBy()).toBe("old-api");
        const before = readFileSync(target, "utf8");
        const next = render(stubs.new!);
        const res = install([], next);
        expect({ status: res.status, output: res.output }).toEqual({ status: 0, output: expect.stringContaining("installed and Caddy reloaded") });
        expect(readFileSync(target, "utf8")).toBe(next);
        expect(readFileSync(`${target}.previous`, "utf8")).toBe(before);
        expect(await servedBy()).toBe("new-api");
        // Reloaded in place, not restarted: the process the test started is still the one serving.
        expect(caddy.proc.exitCode).toBeNull();
        expect(tcpListenPorts(caddyPid())).toEqual([httpPort]);
    });

    test("a file given as an argument works the same way", async () => {
        const file = join(tmp, "incoming.Caddyfile");
        writeFileSync(file, render(stubs.old!));
        expect(install([file]).status).toBe(0);
        expect(await servedBy()).toBe("old-api");
        expect(install([], render(stubs.new!)).status).toBe(0);
        expect(await servedBy()).toBe("new-api");
    });

    test("a broken file is rejected by caddy validate: exit non-zero with Caddy's error, old file untouched and still served", async () => {
        const before = readFileSync(target);
        const broken = render(stubs.old!).replace("reverse_proxy 127.0.0.1", "reverse_prxy 127.0.0.1");
        const res = install([], broken);
        expect(res.status).not.toBe(0);
        expect(res.output).toContain("unrecognized directive: reverse_prxy");
        expect(res.output).toContain("caddy validate rejected the new Caddyfile");
        expect(readFileSync(target).equals(before)).toBe(true);
        expect(await servedBy()).toBe("new-api");
    });

    test("a file that validates but fails to load (port taken) is rolled back: old file restored byte for byte and still served", async () => {
        const before = readFileSync(target);
        const taken = stubs.others!.port;
        const res = install([], render(stubs.old!, taken));
        expect(res.status).not.toBe(0);
        expect(res.output).toContain("address already in use");
        expect(res.output).toContain("the previous");
        expect(readFileSync(target).equals(before)).toBe(true);
        expect(await servedBy()).toBe("new-api");
        // The rollback went through the socket too; nothing was left listening on TCP.
        expect(tcpListenPorts(caddyPid())).toEqual([httpPort]);
    });

    test("an empty input installs nothing", async () => {
        const before = readFileSync(target);
        const res = install([], "");
        expect(res.status).not.toBe(0);
        expect(res.output).toContain("empty");
        expect(readFileSync(target).equals(before)).toBe(true);
    });
});
