import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderCaddyfile } from "../../caddy/render";
import { CaddyProcess, caddyEnv, freePort, get, proxiedUpstreams, stackOptions, StubUpstream } from "../helpers/caddy";
import { parsedStack, ROOT } from "../helpers/program";

/**
 * The install script run locally against the real Caddy, the way the component runs it on the server: the
 * Caddyfile arrives on stdin, paths point into a temp dir, the reload goes through the loopback admin endpoint.
 */

const SCRIPT = join(ROOT, "caddy", "install-caddyfile.sh");
const { config, catalog } = parsedStack("prod");
const apiUpstream = [...proxiedUpstreams(catalog)].find(([, ids]) => ids.includes("api"))![0];

const tmp = mkdtempSync(join(tmpdir(), "vk-caddy-install-"));
const target = join(tmp, "etc", "caddy", "Caddyfile");
const stubs: Record<"old" | "new" | "others", StubUpstream | undefined> = { old: undefined, new: undefined, others: undefined };
let caddy: CaddyProcess;
let httpPort: number;
let adminPort: number;

/** The loopback Caddyfile with the api route pointed at one stand-in (the "route change" being deployed). */
function render(api: StubUpstream, port = httpPort): string {
    const upstreams = Object.fromEntries([...proxiedUpstreams(catalog).keys()].map((a) => [a, (a === apiUpstream ? api : stubs.others!).address]));
    return renderCaddyfile(catalog, { ...stackOptions(config), loopback: { httpPort: port, adminPort, upstreams, logDir: join(tmp, "log") } });
}

function install(args: string[], input?: string) {
    const res = spawnSync("bash", [SCRIPT, ...args], {
        input,
        encoding: "utf8",
        env: { ...caddyEnv(tmp), CADDYFILE: target, CADDY_ADMIN: `127.0.0.1:${adminPort}` },
    });
    return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

const servedBy = async () => (await get(httpPort, "api.visualkit.live")).headers["x-upstream"];

beforeAll(async () => {
    stubs.old = await StubUpstream.start("old-api");
    stubs.new = await StubUpstream.start("new-api");
    stubs.others = await StubUpstream.start("others");
    httpPort = await freePort();
    adminPort = await freePort();
    mkdirSync(join(tmp, "etc", "caddy"), { recursive: true });
    writeFileSync(target, render(stubs.old));
    caddy = await CaddyProcess.start(target, caddyEnv(tmp), adminPort, httpPort);
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
    });

    test("an empty input installs nothing", async () => {
        const before = readFileSync(target);
        const res = install([], "");
        expect(res.status).not.toBe(0);
        expect(res.output).toContain("empty");
        expect(readFileSync(target).equals(before)).toBe(true);
    });
});
