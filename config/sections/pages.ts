import type { ConfigReader } from "../reader";
import type { PlatformConfig } from "../types";

/** Cloudflare Pages: whether the three projects exist, their names' suffix, and the repository they build from. */
export function readPages(r: ConfigReader): PlatformConfig["pages"] {
    const enabled = r.bool("pagesEnabled");
    const owner = r.str("pagesGitOwner") ?? "";
    const repo = r.str("pagesGitRepo") ?? "";
    if (enabled) {
        if (!owner) r.add("pagesGitOwner", "is required when visualkit:pagesEnabled is true", r.setCmd("pagesGitOwner", "<github-owner>"));
        if (!repo) r.add("pagesGitRepo", "is required when visualkit:pagesEnabled is true", r.setCmd("pagesGitRepo", "<repository>"));
    }
    return {
        enabled: enabled ?? false,
        projectSuffix: r.str("pagesProjectSuffix") ?? "",
        git: { owner, repo },
        productionBranch: r.str("pagesProductionBranch") ?? "",
        buildCommand: r.str("pagesBuildCommand") ?? "",
        outputDir: r.str("pagesOutputDir") ?? "",
        appsDir: r.str("pagesAppsDir") ?? "",
    };
}
