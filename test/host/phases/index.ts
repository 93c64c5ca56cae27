import type { Phase } from "../lib/context";
import { boot, buildImages, renderForVm, volume } from "./boot";
import { caddyInstall, cdnSwitch, removedKey, replayCommands } from "./commands";
import { dockerImages, dockerServices } from "./docker";
import { reboot } from "./reboot";
import { smoke } from "./smoke";

/** The tier, in order. A new phase (backup drill, zero-downtime loop) goes where its prerequisites are met. */
export const PHASES: readonly Phase[] = [buildImages, renderForVm, boot, volume, replayCommands, removedKey, caddyInstall, cdnSwitch, dockerImages, dockerServices, smoke, reboot];
