import { checkBranch, checkGitOwner, checkGitRepo, checkRepoFolder } from "../checks";
import type { ConfigReader } from "../reader";
import type { PlatformConfig } from "../types";

/** Cloudflare Pages: whether the three projects exist, their names' suffix, and the repository they build from. */
export function readPages(r: ConfigReader): PlatformConfig["pages"] {
    const enabled = r.bool("pagesEnabled");
    // Each reaches Cloudflare's API as it is, and the folders become build paths inside the clone.
    const owner = r.checked("pagesGitOwner", r.optStr("pagesGitOwner"), checkGitOwner, "visualkit") ?? "";
    const repo = r.checked("pagesGitRepo", r.optStr("pagesGitRepo"), checkGitRepo, "visualkit") ?? "";
    if (enabled) {
        if (!owner && !r.rawOf("pagesGitOwner")) r.add("pagesGitOwner", "is required when visualkit:pagesEnabled is true", r.setCmd("pagesGitOwner", "<github-owner>"));
        if (!repo && !r.rawOf("pagesGitRepo")) r.add("pagesGitRepo", "is required when visualkit:pagesEnabled is true", r.setCmd("pagesGitRepo", "<repository>"));
    }
    return {
        enabled: enabled ?? false,
        projectSuffix: r.str("pagesProjectSuffix") ?? "",
        git: { owner, repo },
        productionBranch: r.checked("pagesProductionBranch", r.str("pagesProductionBranch"), checkBranch, "main") ?? "",
        buildCommand: r.str("pagesBuildCommand") ?? "",
        outputDir: r.checked("pagesOutputDir", r.str("pagesOutputDir"), checkRepoFolder, "dist") ?? "",
        appsDir: r.checked("pagesAppsDir", r.str("pagesAppsDir"), checkRepoFolder, "apps") ?? "",
    };
}
