import { buildCatalog } from "../catalog";
import type { Catalog } from "../catalog/types";
import { validateCatalog } from "../catalog/validate";
import { CATALOG_SERVICE_IDS, placementIssues } from "../catalog/placement";
import type { ConfigIssue } from "../config/issues";
import { normalizeConfig, type RawConfig } from "../config/parse";
import type { PlatformConfig } from "../config/types";

export type { FolderFacts, LocalFacts, RawConfig } from "../config/parse";

/**
 * Where config and catalog meet, so neither imports the other's code: the stack's config normalized section by
 * section (config/parse.ts), the catalog built from it, and the conflicts only the assembled catalog shows (two
 * routes on one hostname, e-mail beside a Pages CNAME, two services on one port) reported with the rest, so the
 * user sees every problem in one run. Returns the config and catalog only when there is no problem at all.
 */
export function parseConfig(raw: RawConfig): { config?: PlatformConfig; catalog?: Catalog; issues: ConfigIssue[] } {
    const { config, catalogInput, email, issues } = normalizeConfig(raw);
    if (!catalogInput) return { issues };
    const catalog = buildCatalog(catalogInput);
    issues.push(...placementIssues(catalogInput, CATALOG_SERVICE_IDS, raw.stack), ...validateCatalog(catalog, raw.stack, email));
    if (issues.length > 0 || !config) return { issues };
    return { config, catalog, issues };
}
