import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Context } from "./lib/context";
import { baseIdentity, hashInputs } from "./lib/vm-cache";
import { VM_LANE } from "./phases";

/**
 * The VM lane is skipped while its key is unchanged, so the key must change with everything that decides the lane's
 * outcome: the server disk and its build date (an aged base makes the VM's cloud-init do other work), the committed
 * user-data, and the code that shapes and judges the VM.
 */

let base: string;
beforeEach(() => (base = join(mkdtempSync(join(tmpdir(), "vk-vm-cache-")), "base-0123456789abcdef")));
afterEach(() => rmSync(resolve(base, ".."), { recursive: true, force: true }));

const ctx = () => ({ root: resolve(__dirname, "..", ".."), stack: "dev", images: { base } }) as unknown as Context;

test("the key names the server disk with its build date, the user-data and the VM code", async () => {
    mkdirSync(base);
    writeFileSync(join(base, "built"), "2026-12-04T23:30:52Z\n");
    const { inputs } = await VM_LANE.key(ctx());
    expect(inputs).toEqual(
        expect.arrayContaining([
            "server disk base-0123456789abcdef built 2026-12-04T23:30:52Z",
            "rendered/dev/cloud-init.yaml",
            "test/host/lib/vm.ts",
            "test/host/phases/vm.ts",
        ]),
    );
});

test("a rebuilt server disk (same inputs, another date) changes the key", async () => {
    mkdirSync(base);
    writeFileSync(join(base, "built"), "2026-12-01T10:00:00Z\n");
    const old = await VM_LANE.key(ctx());
    writeFileSync(join(base, "built"), "2026-12-05T10:00:00Z\n");
    const fresh = await VM_LANE.key(ctx());
    expect(fresh.hash).not.toBe(old.hash);
});

test("a change to any input's content changes the hash, and the order of names is part of it", () => {
    const inputs = [baseIdentity(base), { name: "user-data", content: "#cloud-config\n" }, { name: "lib/vm.ts", content: "-smp 2" }];
    const h = hashInputs(inputs);
    expect(hashInputs(inputs)).toBe(h);
    expect(hashInputs([inputs[0], { name: "user-data", content: "#cloud-config\n " }, inputs[2]])).not.toBe(h);
    expect(hashInputs([inputs[0], inputs[1], { name: "lib/vm.ts", content: "-smp 1" }])).not.toBe(h);
    expect(hashInputs([inputs[0], inputs[2], inputs[1]])).not.toBe(h);
});
