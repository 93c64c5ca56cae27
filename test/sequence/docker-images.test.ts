import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDockerd, type Dockerd } from "../helpers/dockerd";
import { IMAGE_PRUNE_DEFAULTS, IMAGE_PRUNE_UNITS, renderImagePruneUnits } from "../../render/image-prune";

/**
 * The two image rules the sequence model (./engine.ts) and the prune timer rely on, against a real Docker engine
 * started here (own data root and socket, no network; stopped by its PID): `docker rmi` of a tag a container uses is
 * refused (what the provider's delete runs without keepLocally), and the timer's exact ExecStart removes old unused
 * images and keeps one a container uses. Images are a busybox root file system; the "old" ones are loaded with a
 * creation date in 2020, as a release pulled months ago has.
 */

let engine: Dockerd;
const docker = (...args: string[]) => engine.docker(...args);

/** A docker-archive (`docker load`) of one busybox layer, tagged `tag`, created at `created`. */
function imageArchive(tag: string, created: string): string {
    const dir = join(engine.dir, `img-${tag.replace(/[^a-z0-9]/g, "-")}`);
    const root = join(dir, "root");
    mkdirSync(join(root, "bin"), { recursive: true });
    copyFileSync(spawnSync("sh", ["-c", "command -v busybox"], { encoding: "utf8" }).stdout.trim(), join(root, "bin", "busybox"));
    for (const cmd of ["sh", "sleep"]) symlinkSync("busybox", join(root, "bin", cmd));
    const layer = join(dir, "layer.tar");
    spawnSync("tar", ["-C", root, "-cf", layer, "."]);
    const diffId = `sha256:${createHash("sha256").update(readFileSync(layer)).digest("hex")}`;
    const config = JSON.stringify({ architecture: "amd64", os: "linux", created, config: { Cmd: ["/bin/sh"] }, rootfs: { type: "layers", diff_ids: [diffId] } });
    const configName = `${createHash("sha256").update(config).digest("hex")}.json`;
    const pack = join(dir, "pack");
    mkdirSync(pack);
    writeFileSync(join(pack, configName), config);
    copyFileSync(layer, join(pack, "layer.tar"));
    writeFileSync(join(pack, "manifest.json"), JSON.stringify([{ Config: configName, RepoTags: [tag], Layers: ["layer.tar"] }]));
    const archive = join(dir, "image.tar");
    spawnSync("tar", ["-C", pack, "-cf", archive, "."]);
    return archive;
}

beforeAll(async () => {
    engine = await startDockerd("images", { bridge: false, storageDriver: "vfs" });
}, 90_000);

afterAll(async () => {
    await engine?.stop();
}, 60_000);

const load = (tag: string, created: string) => expect(docker("load", "-i", imageArchive(tag, created)).status).toBe(0);
const tags = () => docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split("\n").filter(Boolean).sort();

test("docker rmi of a tag a running container uses is refused: the failure keepLocally avoids", () => {
    load("ghcr.io/visualkit/platform-api:main", new Date().toISOString());
    expect(docker("run", "-d", "--name", "platform-api", "--network", "none", "ghcr.io/visualkit/platform-api:main", "/bin/sleep", "600").status).toBe(0);
    const rmi = docker("rmi", "ghcr.io/visualkit/platform-api:main");
    expect(rmi.status).not.toBe(0);
    // The text the model (engine.ts, remove()) reports for this case.
    expect(rmi.stderr).toMatch(/conflict: unable to remove repository reference "ghcr\.io\/visualkit\/platform-api:main" \(must force\) - container [0-9a-f]+ is using its referenced image/);
    expect(tags()).toContain("ghcr.io/visualkit/platform-api:main");
}, 60_000);

test("the prune timer's command removes old images no container uses and keeps old ones in use and new ones", () => {
    load("chatwoot/chatwoot:v4.6.0", "2020-01-01T00:00:00Z");
    load("chatwoot/chatwoot:v4.7.0", "2020-02-01T00:00:00Z");
    load("chatwoot/chatwoot:v4.8.0", new Date().toISOString());
    expect(docker("run", "-d", "--name", "chatwoot-rails", "--network", "none", "chatwoot/chatwoot:v4.7.0", "/bin/sleep", "600").status).toBe(0);
    const service = renderImagePruneUnits(IMAGE_PRUNE_DEFAULTS)[IMAGE_PRUNE_UNITS.service];
    const execStart = /^ExecStart=\/usr\/bin\/docker (.*)$/m.exec(service)![1].split(" ");
    const res = docker(...execStart);
    expect([res.status, res.stderr]).toEqual([0, ""]);
    expect(tags()).toEqual(expect.arrayContaining(["chatwoot/chatwoot:v4.7.0", "chatwoot/chatwoot:v4.8.0", "ghcr.io/visualkit/platform-api:main"]));
    expect(tags()).not.toContain("chatwoot/chatwoot:v4.6.0");
}, 60_000);
