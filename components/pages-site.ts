import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { PagesSiteSpec } from "../catalog/types";
import type { AdoptMap } from "../lib/adopt";

export interface PagesSiteArgs {
    /** Cloudflare account id that owns the project. */
    accountId: string;
    /** The site from the catalog: project name, custom hostname, root dir and build-time variables. */
    site: PagesSiteSpec;
    /** GitHub repository the project builds from; the Cloudflare GitHub app must already have access to it. */
    git: { owner: string; repo: string };
    /**
     * Branch whose pushes deploy to production; every other branch gets a preview deployment.
     * @default "main"
     */
    productionBranch?: string;
    /**
     * Build command, run in the site's root dir.
     * @default "pnpm build"
     */
    buildCommand?: string;
    /**
     * Build output folder, relative to the root dir.
     * @default "dist"
     */
    outputDir?: string;
    /**
     * Existing Cloudflare objects to import instead of creating (from `visualkit:adopt`, written by `npm run adopt`).
     * @default none: every resource is created, which fails or duplicates when the object already exists
     */
    adopt?: AdoptMap;
}

/**
 * One Cloudflare Pages project built from GitHub, with its custom domain. The DNS record for the domain is not
 * made here: the CNAME comes from the DNS derivation (catalog/dns.ts) so every record of the zone has one source.
 */
export class PagesSite extends pulumi.ComponentResource {
    public readonly projectName: pulumi.Output<string>;
    /** The `<name>.pages.dev` host Cloudflare assigned (it differs from the name when that was taken). */
    public readonly subdomain: pulumi.Output<string>;
    public readonly pagesDevUrl: pulumi.Output<string>;
    public readonly customDomain: pulumi.Output<string>;

    constructor(name: string, args: PagesSiteArgs, opts?: pulumi.ComponentResourceOptions) {
        super("visualkit:cloudflare:PagesSite", name, {}, opts);
        const { site } = args;
        const branch = args.productionBranch ?? "main";
        const envVars = Object.fromEntries(Object.entries(site.buildEnv).map(([k, value]) => [k, { type: "plain_text", value }]));

        const projectName = `${name}-project`;
        const project = new cloudflare.PagesProject(
            projectName,
            {
                accountId: args.accountId,
                name: site.project,
                productionBranch: branch,
                // Every member of buildConfig and source.config that the API echoes back is set explicitly: one left
                // unset plans as "(known after apply)" on every preview (cloudflare/terraform-provider-cloudflare#7288).
                buildConfig: {
                    buildCaching: true,
                    buildCommand: args.buildCommand ?? "pnpm build",
                    destinationDir: args.outputDir ?? "dist",
                    rootDir: site.rootDir,
                },
                source: {
                    type: "github",
                    config: {
                        owner: args.git.owner,
                        repoName: args.git.repo,
                        productionBranch: branch,
                        productionDeploymentsEnabled: true,
                        previewDeploymentSetting: "all",
                        previewBranchIncludes: ["*"],
                        previewBranchExcludes: [],
                        pathIncludes: ["*"],
                        pathExcludes: [],
                        prCommentsEnabled: true,
                    },
                },
                // Both environments get the variables: a preview build without the API URL is broken, and with only
                // one block set the other is left to the API (deploymentConfigs only partly applied:
                // pulumi/pulumi-cloudflare#925).
                deploymentConfigs: { production: { envVars }, preview: { envVars } },
            },
            {
                parent: this,
                // Import id '<account_id>/<project_name>' (@pulumi/cloudflare 6.22.1 pagesProject.d.ts).
                ...args.adopt?.options(projectName),
                // Fields Cloudflare fills in itself, which drift whatever we send (terraform-provider-cloudflare#7288
                // and #5773):
                // the Web Analytics tag/token appear when analytics is switched on in the dashboard, owner/repo ids
                // come from the GitHub app, and deploymentsEnabled is deprecated in favour of the two fields above.
                ignoreChanges: [
                    "buildConfig.webAnalyticsTag",
                    "buildConfig.webAnalyticsToken",
                    "source.config.ownerId",
                    "source.config.repoId",
                    "source.config.deploymentsEnabled",
                ],
            },
        );

        // Import id '<account_id>/<project_name>/<domain_name>' (@pulumi/cloudflare 6.22.1 pagesDomain.d.ts).
        const domain = new cloudflare.PagesDomain(
            `${name}-domain`,
            { accountId: args.accountId, projectName: project.name, name: site.hostname },
            { parent: this, ...args.adopt?.options(`${name}-domain`) },
        );

        this.projectName = project.name;
        this.subdomain = project.subdomain;
        this.pagesDevUrl = pulumi.interpolate`https://${project.subdomain}`;
        this.customDomain = domain.name;
        this.registerOutputs({ projectName: this.projectName, subdomain: this.subdomain, pagesDevUrl: this.pagesDevUrl, customDomain: this.customDomain });
    }
}
