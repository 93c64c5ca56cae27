import { RESERVED_HOST_PORTS } from "../catalog/defaults";
import { localFacts } from "../config/local";
import { parseConfig, type RawConfig } from "../stack";
import type { DeclaredOpening, PolicyContext } from "./policies";

/** A stack's config as the offline render reads it (stack/stack-config.ts): full keys to raw strings. */
export interface StackConfigInput {
    readonly project: string;
    readonly stack: string;
    readonly config: Readonly<Record<string, string>>;
    readonly secretKeys: readonly string[];
    /** How the file wrote its non-string scalars (config/stack-yaml.ts), so the pack refuses what the program refuses. */
    readonly written?: RawConfig["written"];
}

function leaves(v: unknown): string[] {
    if (Array.isArray(v)) return v.flatMap(leaves);
    if (v && typeof v === "object") return Object.values(v).flatMap(leaves);
    return v === undefined || v === null ? [] : [String(v)];
}

/**
 * What the policies compare the resources against, from the stack file itself: the environment, the SSH CIDRs and
 * the ports the catalog declares public (the same parse and catalog the program builds), and every plain value.
 * Reading the stack's config rather than the firewall's own inputs is the point: a rule added to the firewall in
 * code, or a CIDR typed into a component, is then caught. Throws when the config does not validate (the program
 * would refuse it too).
 */
export function policyContext(input: StackConfigInput): PolicyContext {
    const { config, catalog, issues } = parseConfig({ project: input.project, stack: input.stack, values: input.config, secretKeys: new Set(input.secretKeys), env: {}, local: localFacts({}, false), written: input.written });
    if (!config || !catalog) throw new Error(`policy pack: Pulumi.${input.stack}.yaml does not validate: ${issues.map((i) => `${i.key} ${i.problem}`).join("; ")}`);
    const openings: DeclaredOpening[] = [];
    if (catalog.services.some((s) => s.routes.length > 0)) {
        for (const r of RESERVED_HOST_PORTS) if (r.firewall === "routes") openings.push({ protocol: r.protocol, from: r.port, to: r.port, why: r.owner });
    }
    for (const s of catalog.services) {
        for (const p of s.ports.filter((x) => x.exposure === "public")) openings.push({ protocol: p.protocol, from: p.port, to: p.endPort, why: `${s.id} ${p.id}` });
    }
    const plain = new Set<string>();
    for (const [key, raw] of Object.entries(input.config)) {
        if (input.secretKeys.includes(key)) continue;
        let parsed: unknown = raw;
        try {
            parsed = JSON.parse(raw);
        } catch {
            // a plain string
        }
        for (const v of leaves(parsed)) if (v !== "") plain.add(v);
    }
    return { stack: input.stack, environment: config.environment, sshAllowedCidrs: config.ssh.allowedCidrs, publicOpenings: openings, plainValues: plain, backupRepository: config.backups?.repository ?? "", backupAppendOnly: config.backups?.appendOnly ?? false };
}
