import { readFileSync } from "node:fs";
import { join } from "node:path";
import { need, type Cached, type Step } from "../lib/context";
import { baseIdentity, hashInputs } from "../lib/vm-cache";
import { backups } from "./backups";
import { buildApps, buildBase, renderForVm } from "./boot";
import { caddyInstall, cdnSwitch, removedKey, replayCommands } from "./commands";
import { dockerImages, dockerServices } from "./docker";
import { monitoring, monitoringAlert } from "./monitoring";
import { multihost } from "./multihost";
import { nativeBoot, nativeRestart } from "./native";
import { rebuild } from "./rebuild";
import { rollback } from "./rollback";
import { rollout } from "./rollout";
import { sequence, sequenceRotation } from "./sequence";
import { smoke } from "./smoke";
import { turn } from "./turn";
import { vmBoot, vmReboot, vmVolume } from "./vm";

/** The code that shapes the VM and judges it: a change to any of it runs the VM lane again. */
const VM_CODE = ["lib/vm.ts", "phases/vm.ts", "phases/boot.ts", "lib/ssh.ts", "lib/proc.ts"];

/** The VM lane, skipped when a pass with the same inputs is on record (lib/vm-cache.ts). */
export const VM_LANE: Cached = {
    cached: "VM lane",
    async key(ctx) {
        const inputs = [
            baseIdentity(need(ctx.images, "the images").base),
            { name: `rendered/${ctx.stack}/cloud-init.yaml`, content: readFileSync(join(ctx.root, "rendered", ctx.stack, "cloud-init.yaml")) },
            ...VM_CODE.map((f) => ({ name: `test/host/${f}`, content: readFileSync(join(__dirname, "..", f)) })),
        ];
        return { hash: hashInputs(inputs), inputs: inputs.map((i) => i.name) };
    },
    steps: [vmBoot, vmVolume, vmReboot],
};

/**
 * The tier, in order. After the server disk and the render, two lanes side by side: the VM lane (its own kernel: cold
 * boot, volume, reboot; cached) and the native host's lane, where every other phase runs. A new phase for the native
 * host goes in the native lane where its prerequisites are met, before `nativeRestart` (which checks what all left).
 * Lanes share no state they change: the image import is Docker's alone while the SSH steps replay; the zero-downtime
 * loop replaces platform-api while the backups phase stops and restarts only Chatwoot's writers; the monitoring
 * alert stops and starts only the node exporter, which no other phase reads, so its ~11 min of the program's own alert
 * windows start as soon as the monitoring install is replayed and run beside the containers, smoke, rollout and backups. The rebuild
 * drill after backups works on a second machine of its own and only reads the first (its data, its repository account).
 * The two-host phase (multihost) beside them boots a media cell host of its own and touches the first host only with a
 * container of its own name (platform-api-mh, no port, no alias) and a private link it removes again.
 */
export const NATIVE_LANE: readonly Step[] = [
    { lanes: [[buildApps], [nativeBoot]] },
    { lanes: [[dockerImages], [replayCommands, removedKey, caddyInstall, cdnSwitch]] },
    // sequence after rollout ∥ backups ∥ multihost: its scenarios replace every service container those phases use.
    { lanes: [[monitoringAlert], [dockerServices, smoke, { lanes: [[rollout, rollback], [backups, rebuild], [multihost]] }, sequence]] },
    // Not beside the alert: the key rotation re-runs every remote step — the monitoring install among them, which would
    // take the alert's webhook sink away before its "resolved" (seen: the alert phase timed out waiting for it).
    sequenceRotation,
    monitoring,
    turn,
    nativeRestart,
];

export const STEPS: readonly Step[] = [{ lanes: [[buildBase], [renderForVm]] }, { lanes: [[VM_LANE], NATIVE_LANE] }];
