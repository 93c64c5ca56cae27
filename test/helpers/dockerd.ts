import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A real Docker Engine for one test file (Debian's docker.io 20.10, the servers' version): its own data root, exec
 * root, socket and bridge (or none), no iptables rules, stopped by its PID and removed with everything it made.
 */
export interface Dockerd {
    /** The folder holding its data root, socket and anything the test writes beside them. */
    readonly dir: string;
    /** The environment that points the docker CLI at this engine. */
    readonly env: NodeJS.ProcessEnv;
    docker(...args: string[]): SpawnSyncReturns<string>;
    /** Whether the engine this helper started still runs (a check that found nothing is vacuous otherwise). */
    running(): boolean;
    /**
     * Imports a one-binary image: busybox (busybox-static) with `applets` linked to it; `extra` may add files to the
     * root file system before it is imported.
     */
    importBusybox(image: string, applets: readonly string[], extra?: (rootfs: string) => void): void;
    /** Removes the given containers, stops the engine, deletes its bridge and folder. */
    stop(containers?: readonly string[]): Promise<void>;
}

/** Starts an engine; `bridge: false` gives it no default bridge (`--bridge=none`). */
export async function startDockerd(label: string, opts: { bridge?: boolean; storageDriver?: string } = {}): Promise<Dockerd> {
    const dir = mkdtempSync(join(tmpdir(), `vk-${label}-`));
    const env = { ...process.env, DOCKER_HOST: `unix://${dir}/docker.sock` };
    const bridge = opts.bridge === false ? undefined : `vk${label.slice(0, 5)}${process.pid % 10000}`;
    if (bridge) {
        spawnSync("ip", ["link", "add", bridge, "type", "bridge"]);
        spawnSync("ip", ["link", "set", bridge, "up"]);
    }
    const args = ["--data-root", join(dir, "root"), "--exec-root", join(dir, "exec"), "--pidfile", join(dir, "docker.pid"), "-H", env.DOCKER_HOST];
    args.push("--bridge", bridge ?? "none", "--iptables=false", "--ip6tables=false", "--ip-masq=false");
    if (opts.storageDriver) args.push("--storage-driver", opts.storageDriver);
    const dockerd = spawn("dockerd", args, { stdio: "ignore" });
    const docker = (...a: string[]) => spawnSync("docker", a, { env, encoding: "utf8", timeout: 60_000 });
    const deadline = Date.now() + 60_000;
    while (docker("version").status !== 0) {
        if (dockerd.exitCode !== null || Date.now() > deadline) throw new Error(`dockerd did not start (exit ${dockerd.exitCode})`);
        await new Promise((r) => setTimeout(r, 200));
    }
    return {
        dir,
        env,
        docker,
        running: () => dockerd.exitCode === null && dockerd.signalCode === null,
        importBusybox(image, applets, extra) {
            const rootfs = join(dir, `rootfs-${image.replace(/[^a-z0-9]/gi, "-")}`);
            mkdirSync(join(rootfs, "bin"), { recursive: true });
            mkdirSync(join(rootfs, "tmp"), { recursive: true });
            copyFileSync("/bin/busybox", join(rootfs, "bin", "busybox"));
            for (const applet of applets) symlinkSync("busybox", join(rootfs, "bin", applet));
            extra?.(rootfs);
            const tar = spawnSync("sh", ["-c", `tar -C '${rootfs}' -c . | docker import - '${image}'`], { env, encoding: "utf8" });
            if (tar.status !== 0) throw new Error(`docker import: ${tar.stderr}`);
        },
        async stop(containers = []) {
            if (dockerd.exitCode === null) {
                if (containers.length > 0) docker("rm", "-f", ...containers);
                const exited = new Promise((r) => dockerd.once("exit", r));
                dockerd.kill("SIGTERM");
                await exited;
            }
            if (bridge) spawnSync("ip", ["link", "del", bridge]);
            rmSync(dir, { recursive: true, force: true });
        },
    };
}
