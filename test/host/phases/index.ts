import type { Step } from "../lib/context";
import { boot, buildImages, renderForVm, volume } from "./boot";
import { caddyInstall, cdnSwitch, removedKey, replayCommands } from "./commands";
import { dockerImages, dockerServices } from "./docker";
import { backups } from "./backups";
import { reboot } from "./reboot";
import { rollout } from "./rollout";
import { smoke } from "./smoke";

/**
 * The tier, in order. A new phase goes where its prerequisites are met; the reboot comes last (it checks what all left).
 * Lanes share no state they change: the image import is Docker's alone while the SSH steps replay; the
 * zero-downtime loop replaces platform-api while the backups phase stops and restarts only Chatwoot's writers.
 */
export const STEPS: readonly Step[] = [
    buildImages,
    renderForVm,
    boot,
    volume,
    { lanes: [[dockerImages], [replayCommands, removedKey, caddyInstall, cdnSwitch]] },
    dockerServices,
    smoke,
    { lanes: [[rollout], [backups]] },
    reboot,
];
