import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

/**
 * Records of the VM lane's passes, one file per hash of its inputs under the cache folder (vm-pass-<hash>): a lane
 * whose inputs hash to a recorded pass is not booted again. The inputs are everything that decides its outcome: the
 * server disk (its folder is named by the hash of what built it, and its build date: an aged base makes cloud-init's
 * upgrade do real work), the committed user-data, and the code that shapes the VM and judges it — meta-data and QEMU
 * flags (lib/vm.ts), the lane's phases (phases/vm.ts) and the helpers they call.
 */

export interface PassRecord {
    readonly date: string;
    readonly inputs: string[];
    readonly figures: Record<string, number>;
}

export interface KeyInput {
    /** A name for the record (what it is). */
    readonly name: string;
    readonly content: string | Buffer;
}

export function hashInputs(inputs: readonly KeyInput[]): string {
    const h = createHash("sha256");
    for (const i of inputs) {
        h.update(`${i.name}\0`);
        h.update(createHash("sha256").update(i.content).digest("hex"));
        h.update("\0");
    }
    return h.digest("hex").slice(0, 16);
}

/** The base disk's identity: its folder name (hash of its build inputs) and the date it was built. */
export function baseIdentity(baseDir: string): KeyInput {
    const stamp = join(baseDir, "built");
    const built = existsSync(stamp) ? readFileSync(stamp, "utf8").trim() : "unknown";
    return { name: `server disk ${basename(baseDir)} built ${built}`, content: `${basename(baseDir)} ${built}` };
}

export const recordPath = (cacheDir: string, hash: string) => join(cacheDir, `vm-pass-${hash}`);

export function readPass(cacheDir: string, hash: string): PassRecord | undefined {
    const file = recordPath(cacheDir, hash);
    if (!existsSync(file)) return undefined;
    try {
        return JSON.parse(readFileSync(file, "utf8")) as PassRecord;
    } catch {
        return undefined;
    }
}

/** Records a pass; the records of other inputs are stale once this one exists. */
export function writePass(cacheDir: string, hash: string, record: PassRecord): void {
    for (const f of readdirSync(cacheDir)) if (f.startsWith("vm-pass-") && f !== `vm-pass-${hash}`) rmSync(join(cacheDir, f), { force: true });
    writeFileSync(recordPath(cacheDir, hash), `${JSON.stringify(record, null, 2)}\n`);
}
