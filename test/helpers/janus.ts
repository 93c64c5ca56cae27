import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JANUS_PLUGINS } from "../../catalog/janus-plugins";
import { janusSettings, janusTestSettings, renderJanusFiles, type JanusLayout, type JanusSecrets, type JanusSettings } from "../../render/janus";
import { freePort, waitFor } from "./caddy";
import { parsedStack } from "./program";

/** Debian's multiarch folder of the installed package (x86_64-linux-gnu here). */
export function debianLayout(configs: string): JanusLayout {
    const arch = readdirSync("/usr/lib").find((d) => d.endsWith("-linux-gnu") && existsSync(`/usr/lib/${d}/janus/plugins`));
    if (!arch) throw new Error("Debian's janus package is not installed (scripts/test-tools.sh installs it)");
    const base = `/usr/lib/${arch}/janus`;
    return { configs, plugins: `${base}/plugins`, transports: `${base}/transports`, events: `${base}/events`, loggers: `${base}/loggers` };
}

/** Secrets for a test rendering: the given admin secret, a token secret and an admin key per allowed plugin. */
export function testJanusSecrets(adminSecret: string): JanusSecrets {
    return {
        adminSecret,
        tokenSecret: `token-secret-of-${adminSecret}`,
        adminKeys: Object.fromEntries(JANUS_PLUGINS.map((p) => [p.id, `${p.id}-admin-key-of-${adminSecret}`])),
    };
}

/** A real Janus (Debian's 1.1.2) on 127.0.0.1 with a stack's test-mode rendering; stopped by `stop()`. */
export interface RunningJanus {
    readonly settings: JanusSettings;
    /** Process id of Janus (its threads are /proc/<pid>/task). */
    readonly pid: number;
    /** Everything Janus printed so far. */
    log(): string;
    stop(): Promise<void>;
}

export async function startJanus(stack: string, secrets: JanusSecrets | string): Promise<RunningJanus> {
    const all = typeof secrets === "string" ? testJanusSecrets(secrets) : secrets;
    const dir = mkdtempSync(join(tmpdir(), "janus-run-"));
    const { config, catalog } = parsedStack(stack);
    const ports = { http: await freePort(), ws: await freePort(), admin: await freePort() };
    const settings = janusTestSettings(janusSettings(catalog, config), { bindAddress: "127.0.0.1", ports, layout: debianLayout(dir) });
    for (const [name, text] of Object.entries(renderJanusFiles(settings, all))) writeFileSync(join(dir, name), text);
    let log = "";
    const janus: ChildProcess = spawn("janus", ["--configs-folder", dir], { stdio: ["ignore", "pipe", "pipe"] });
    janus.stdout!.on("data", (d) => (log += d));
    janus.stderr!.on("data", (d) => (log += d));
    const stop = async () => {
        if (janus.exitCode === null && janus.signalCode === null) {
            const exited = new Promise((ok) => janus.once("exit", ok));
            janus.kill("SIGTERM");
            await exited;
        }
        rmSync(dir, { recursive: true, force: true });
    };
    try {
        await waitFor(
            `Janus on 127.0.0.1:${ports.http}`,
            async () => {
                if (janus.exitCode !== null) throw new Error(`janus exited with ${janus.exitCode}:\n${log}`);
                return (await fetch(`http://127.0.0.1:${ports.http}/janus/info`)).ok;
            },
            // Up to 60 s: on this shared 2-core machine a busy test run has taken Janus longer than 15 s to listen.
            600,
        );
    } catch (e) {
        await stop();
        throw new Error(`${(e as Error).message}\njanus printed:\n${log.slice(-4000)}`);
    }
    return { settings, pid: janus.pid!, log: () => log, stop };
}
