import { readPages } from "../../../config/sections/pages";
import { issue, readSection } from "../../helpers/config-reader";

describe("pages section", () => {
    test("enabled with a repository: the declared build defaults", () => {
        expect(readSection(readPages, { pagesGitOwner: "visualkit", pagesGitRepo: "apps", pagesProjectSuffix: "-dev" })).toEqual({
            value: { enabled: true, projectSuffix: "-dev", git: { owner: "visualkit", repo: "apps" }, productionBranch: "main", buildCommand: "pnpm build", outputDir: "dist", appsDir: "apps" },
            issues: [],
        });
    });

    test("disabled: no repository needed", () => {
        const { value, issues } = readSection(readPages, { pagesEnabled: "false" });
        expect(issues).toEqual([]);
        expect(value.enabled).toBe(false);
    });

    test.each([
        ["no owner", { pagesGitRepo: "apps" }, issue("pagesGitOwner", /is required when visualkit:pagesEnabled is true/, /set visualkit:pagesGitOwner <github-owner>/)],
        ["no repository", { pagesGitOwner: "visualkit" }, issue("pagesGitRepo", /is required when visualkit:pagesEnabled is true/, /set visualkit:pagesGitRepo <repository>/)],
        ["enabled spelt on", { pagesEnabled: "on", pagesGitOwner: "v", pagesGitRepo: "a" }, issue("pagesEnabled", /must be true or false, not "on"/, /set visualkit:pagesEnabled true/)],
    ])("%s is reported with its key and fix", (_, values, expected) => {
        expect(readSection(readPages, values).issues).toEqual([expected]);
    });
});
