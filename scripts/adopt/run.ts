import { join } from "node:path";
import { ownerCommentPrefix } from "../../catalog/takeover";
import { ipv6HostAddress } from "../../components/hetzner-host";
import { CloudflareReader, DEFAULT_BASE_URL, type ApiPagesDomain, type ApiZoneSetting } from "./cloudflare-api";
import { matchAccount, TYPES, type MatchResult, type RenderedResource } from "./match";
import { writeAdoptMap } from "./stack-file";
import { formatAdoptTable } from "./table";
import { runWithMocks } from "../../mocks/runtime";
import { readStackConfig } from "../stack-config";

/**
 * The work of `npm run adopt -- <stack> [--dry-run]`: reads (GET only) the zone's DNS records, the account's Pages projects and
 * their domains, the zone's redirect entrypoint and TLS settings, matches them to the resources the stack will
 * manage — taken from the program's own offline render, so there is no second list to keep in step — prints one
 * table and writes `visualkit:adopt` into Pulumi.<stack>.yaml. Needs CLOUDFLARE_API_TOKEN (read rights suffice);
 * CLOUDFLARE_API_BASE_URL points it elsewhere (the tests' stand-in).
 */

const REDIRECT_PHASE = "http_request_dynamic_redirect";
/** Stand-ins for the new host's addresses in the render, so the table says where a record will point. */
export const NEW_IPV4 = "<new server IPv4>";
export const NEW_IPV6 = "<new server IPv6>";
const SENTINEL_NET6 = "2001:db8:ffff:fff0::/64";

export interface AdoptRun extends MatchResult {
    readonly output: string;
    readonly stackFile: string;
}

/** The stack's Cloudflare resources as the program registers them, with the adopt map left out (it is being rebuilt). */
export async function renderCloudflare(root: string, stack: string): Promise<{ resources: RenderedResource[]; config: Record<string, string>; project: string }> {
    const { project, config, secretKeys } = readStackConfig(root, stack);
    const withoutAdopt = { ...config };
    delete withoutAdopt["visualkit:adopt"];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const program = require("../../index") as () => Promise<Record<string, unknown>>;
    const result = await runWithMocks({
        project,
        stack,
        config: withoutAdopt,
        secretKeys,
        program,
        state: (type, _name, inputs) =>
            type === "hcloud:index/primaryIp:PrimaryIp" ? (inputs.type === "ipv6" ? { ipNetwork: SENTINEL_NET6 } : { ipAddress: NEW_IPV4 }) : undefined,
    });
    // The host's IPv6 is computed from its network, so it cannot be a label: a reserved network stands in and is
    // renamed here.
    const sentinel6 = ipv6HostAddress(SENTINEL_NET6);
    const wanted = new Set<string>(Object.values(TYPES));
    const resources = result.resources
        .filter((r) => wanted.has(r.type))
        .map((r) => ({ type: r.type, name: r.name, inputs: r.type === TYPES.dnsRecord && r.rawInputs.content === sentinel6 ? { ...r.rawInputs, content: NEW_IPV6 } : r.rawInputs }));
    return { resources, config, project };
}

/**
 * Names of the resources a `pulumi stack export` holds (live ones; a pending delete is on its way out). The URN's last
 * `::` part is the resource name the adopt map is keyed by.
 */
export function resourceNamesInState(exported: unknown): Set<string> {
    const deployment = (exported as { deployment?: { resources?: { urn?: string; delete?: boolean }[] } } | undefined)?.deployment;
    if (!deployment) throw new Error("not the output of pulumi stack export (no deployment)");
    return new Set((deployment.resources ?? []).filter((r) => r.urn && !r.delete).map((r) => String(r.urn).split("::").pop()!));
}

export async function runAdopt(opts: {
    root: string;
    stack: string;
    token: string;
    baseUrl?: string;
    write: boolean;
    /** Resource names the stack's state holds (resourceNamesInState); none for a stack never deployed. */
    inState?: ReadonlySet<string>;
}): Promise<AdoptRun> {
    const { resources, config, project } = await renderCloudflare(opts.root, opts.stack);
    const zone = config["visualkit:cloudflareZone"];
    const accountId = config["visualkit:cloudflareAccountId"];
    const api = new CloudflareReader(opts.token, opts.baseUrl ?? DEFAULT_BASE_URL);
    const zoneId = config["visualkit:cloudflareZoneId"] || (await api.zoneId(zone));

    const of = (type: string) => resources.filter((r) => r.type === type);
    const records = await api.dnsRecords(zoneId);
    const projects = of(TYPES.pagesProject).length || of(TYPES.pagesDomain).length ? await api.pagesProjects(accountId) : [];
    const domains: Record<string, ApiPagesDomain[]> = {};
    for (const r of of(TYPES.pagesProject)) {
        const name = String(r.inputs.name);
        if (projects.some((p) => p.name === name)) domains[name] = await api.pagesDomains(accountId, name);
    }
    const redirectEntrypoint = of(TYPES.ruleset).length ? await api.phaseEntrypoint(zoneId, REDIRECT_PHASE) : undefined;
    const settings: Record<string, ApiZoneSetting> = {};
    for (const r of of(TYPES.zoneSetting)) settings[String(r.inputs.settingId)] = await api.zoneSetting(zoneId, String(r.inputs.settingId));

    const match = matchAccount(
        resources,
        { zone, zoneId, accountId, records, projects, domains, redirectEntrypoint, settings },
        { ownerPrefix: ownerCommentPrefix(project, opts.stack), stack: opts.stack, inState: opts.inState },
    );
    const stackFile = join(opts.root, `Pulumi.${opts.stack}.yaml`);
    let output = formatAdoptTable(match.rows);
    const movesToNew = match.rows.some((r) => r.status === "change" && r.object.startsWith("A ") && r.detail.includes(NEW_IPV4));
    if (movesToNew && !config["visualkit:cutoverFromIpv4"]) {
        output += `\nService A records would move to the new server on the first pulumi up. To keep them on the old server until the switch:\n` +
            `  pulumi config set visualkit:cutoverFromIpv4 <old server IPv4> -s ${opts.stack}   and run adopt again.\n`;
    }
    if (opts.write) {
        writeAdoptMap(stackFile, match.adopt);
        output += `\nWrote ${Object.keys(match.adopt).length} entries to visualkit:adopt in Pulumi.${opts.stack}.yaml; pulumi preview -s ${opts.stack} shows each as an import.\n`;
    } else {
        output += `\n--dry-run: Pulumi.${opts.stack}.yaml not changed.\n`;
    }
    return { ...match, output, stackFile };
}

