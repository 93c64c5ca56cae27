import type { Phase } from "../lib/context";
import { boot, buildImages, renderForVm, volume } from "./boot";
import { caddyInstall, cdnSwitch, removedKey, replayCommands } from "./commands";
import { dockerImages, dockerServices } from "./docker";
import { backups } from "./backups";
import { reboot } from "./reboot";
import { rollout } from "./rollout";
import { smoke } from "./smoke";

/** The tier, in order. A new phase goes where its prerequisites are met; the reboot comes last (it checks what all left). */
export const PHASES: readonly Phase[] = [buildImages, renderForVm, boot, volume, replayCommands, removedKey, caddyInstall, cdnSwitch, dockerImages, dockerServices, smoke, rollout, backups, reboot];
