import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runHostScript, stub } from "../../helpers/shell";

/**
 * The volume script against a sparse file standing in for the Hetzner volume: real blkid and mkfs.ext4, stubbed
 * mount/mountpoint/systemctl/udevadm (which log their calls), and a scratch fstab.
 */
// blkid and mkfs live in /usr/sbin, which a non-root PATH may lack.
process.env.PATH = `${process.env.PATH}:/usr/sbin:/sbin`;

let dir: string;
let stubs: string;
beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "vk-mount-"));
    stubs = join(dir, "bin");
    for (const cmd of ["mount", "systemctl", "udevadm"]) stub(stubs, cmd, `echo "${cmd} $*" >> "${join(dir, "calls.log")}"`);
    stub(stubs, "mountpoint", "exit 1");
    writeFileSync(join(dir, "fstab"), "# static file system information\n");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const device = () => join(dir, "volume.img");
const mnt = () => join(dir, "data");
const run = (...folders: string[]) => runHostScript("mount-data-volume.sh", [device(), mnt(), ...folders], { stubDir: stubs, env: { VISUALKIT_FSTAB: join(dir, "fstab"), VISUALKIT_VOLUME_WAIT_SECONDS: "0" } });
const blank = () => execFileSync("truncate", ["-s", "64M", device()]);
const probe = (tag: string) => execFileSync("blkid", ["-p", "-s", tag, "-o", "value", device()], { encoding: "utf8" }).trim();
const fstabLines = () => readFileSync(join(dir, "fstab"), "utf8").split("\n").filter((l) => l.startsWith("UUID="));
const calls = () => readFileSync(join(dir, "calls.log"), "utf8").trim().split("\n");

test("an empty volume is formatted as ext4, added to fstab by UUID with nofail, mounted, and the folders created", () => {
    blank();
    const res = run("postgres", "chatwoot/storage");
    expect(res).toMatchObject({ status: 0, stdout: expect.stringContaining("formatting empty data volume") });
    const uuid = probe("UUID");
    expect(probe("TYPE")).toBe("ext4");
    expect(fstabLines()).toEqual([`UUID=${uuid} ${mnt()} ext4 discard,nofail,defaults 0 2`]);
    expect(calls()).toEqual(expect.arrayContaining(["systemctl daemon-reload", `mount ${mnt()}`]));
    expect(existsSync(join(mnt(), "postgres")) && existsSync(join(mnt(), "chatwoot", "storage"))).toBe(true);
});

test("run again, it keeps the filesystem and the fstab entry as they are", () => {
    blank();
    expect(run().status).toBe(0);
    const uuid = probe("UUID");
    const res = run("redis");
    expect(res.status).toBe(0);
    expect(res.stdout).not.toContain("formatting");
    expect(probe("UUID")).toBe(uuid);
    expect(fstabLines()).toHaveLength(1);
});

test("a volume that already holds data (a rebuilt server) is mounted, never formatted", () => {
    blank();
    const uuid = "0b5d3c1e-3f0a-4c55-9a8e-6a1f2b3c4d5e";
    execFileSync("mkfs.ext4", ["-q", "-U", uuid, device()]);
    const res = run();
    expect(res.status).toBe(0);
    expect(res.stdout).not.toContain("formatting");
    expect(probe("UUID")).toBe(uuid);
    expect(fstabLines()).toEqual([`UUID=${uuid} ${mnt()} ext4 discard,nofail,defaults 0 2`]);
});

test("a volume with some other filesystem is left untouched and the script fails", () => {
    blank();
    execFileSync("mke2fs", ["-q", "-t", "ext2", device()]);
    const res = run();
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("holds 'ext2'");
    expect(probe("TYPE")).toBe("ext2");
    expect(fstabLines()).toEqual([]);
});

test("a volume that never appears fails with a message saying so", () => {
    const res = run();
    expect(res.status).toBe(1);
    expect(res.stderr).toContain(`data volume ${device()} did not appear within 0s`);
});

test("without a device and a mount point it prints its usage", () => {
    const res = runHostScript("mount-data-volume.sh", [], { stubDir: stubs });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain("usage:");
});
