import { deepFreeze } from "../catalog";
import type { Catalog } from "../catalog/types";
import { readRawConfig } from "../config";
import { ConfigError } from "../config/issues";
import type { PlatformConfig } from "../config/types";
import { parseConfig } from ".";

/*
 * The running program's side of stack/: reads the stack's config through the Pulumi SDK. Kept apart from
 * stack/index.ts so the offline parse (tests, the policy pack, scripts) does not load the SDK.
 */

/** The validated, frozen config of the running stack and the catalog built from it; throws a ConfigError listing every problem. */
export function loadConfig(): { config: PlatformConfig; catalog: Catalog } {
    const raw = readRawConfig();
    const { config, catalog, issues } = parseConfig(raw);
    if (!config || !catalog) throw new ConfigError(raw.stack, issues);
    return { config: deepFreeze(config), catalog };
}
