import type { ApiDeploymentConfig, ApiPagesProject } from "./cloudflare-api";

/**
 * What the first `pulumi up` does to an adopted Pages project's deployment configuration, field by field. The
 * provider sends the whole `deployment_configs` block on update, so every field the program does not declare takes
 * the value the schema gives an unset field (cloudflare/terraform-provider-cloudflare v5.22.0,
 * internal/services/pages_project/schema.go, production block from line 448, preview from line 200):
 *   - Optional, not Computed → sent as null: the binding maps (ai_bindings 454, analytics_engine_datasets 472,
 *     browsers 484, d1_databases 509, durable_object_namespaces 521, hyperdrive_bindings 560, kv_namespaces 571,
 *     mtls_certificates 593, queue_producers 614, r2_buckets 626, services 642, vectorize_bindings 679), limits (583),
 *     placement (604) and compatibility_flags (504): whatever the project had is deleted;
 *   - a Default → reset to it: build_image_major_version 3 (491-495), always_use_latest_compatibility_date false
 *     (465-469), fail_open true (553-557);
 *   - Computed with UseStateForUnknown, no default → kept as read: compatibility_date (498), usage_model (663).
 * Pure: the table rows come from here.
 */

export const REMOVED_WHEN_UNDECLARED = [
    "ai_bindings",
    "analytics_engine_datasets",
    "browsers",
    "d1_databases",
    "durable_object_namespaces",
    "hyperdrive_bindings",
    "kv_namespaces",
    "mtls_certificates",
    "queue_producers",
    "r2_buckets",
    "services",
    "vectorize_bindings",
    "limits",
    "placement",
    "compatibility_flags",
] as const;

export const DEFAULTS: Readonly<Record<string, unknown>> = { build_image_major_version: 3, always_use_latest_compatibility_date: false, fail_open: true };

/** Fields kept as the provider read them when the program leaves them out. */
export const KEPT_WHEN_UNDECLARED = ["compatibility_date", "usage_model"] as const;

const ENVIRONMENTS = ["production", "preview"] as const;

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const empty = (v: unknown) => v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (typeof v === "object" && Object.keys(v as object).length === 0);
const show = (v: unknown): string => {
    if (empty(v)) return "(none)";
    if (Array.isArray(v)) return v.join(", ");
    if (typeof v === "object") return Object.keys(v as object).sort().join(", ");
    return String(v);
};

/**
 * Every change, "<environment> <field>: old → new", between the project as Cloudflare has it and the program's
 * `deploymentConfigs` and `buildConfig` inputs (camelCase, as the render records them).
 */
export function pagesConfigChanges(existing: ApiPagesProject, inputs: Record<string, unknown>): string[] {
    const out: string[] = [];
    const declared = (inputs.deploymentConfigs ?? {}) as Record<string, Record<string, unknown> | undefined>;
    for (const env of ENVIRONMENTS) {
        const had: ApiDeploymentConfig = existing.deployment_configs?.[env] ?? {};
        const wants = declared[env] ?? {};
        for (const field of REMOVED_WHEN_UNDECLARED) {
            const before = had[field];
            const after = wants[camel(field)];
            if (show(before) !== show(after)) out.push(`${env} ${field}: ${show(before)} → ${show(after)}${empty(after) ? " (deleted: the program declares none)" : ""}`);
        }
        for (const [field, dflt] of Object.entries(DEFAULTS)) {
            const before = had[field];
            const after = wants[camel(field)] ?? dflt;
            if (before !== undefined && before !== after) out.push(`${env} ${field}: ${String(before)} → ${String(after)}${wants[camel(field)] === undefined ? " (the provider's default)" : ""}`);
        }
        for (const field of KEPT_WHEN_UNDECLARED) {
            const after = wants[camel(field)];
            if (after !== undefined && had[field] !== after) out.push(`${env} ${field}: ${show(had[field])} → ${String(after)}`);
        }
        // Variables by name and value (secret_text values are not readable: only their presence is compared).
        const before = (had.env_vars ?? {}) as Record<string, { type?: string; value?: string } | null>;
        const after = (wants.envVars ?? {}) as Record<string, { type?: string; value?: string }>;
        for (const name of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
            const b = before[name];
            const a = after[name];
            if (!a) out.push(`${env} env var ${name}: deleted (the program does not set it)`);
            else if (!b) out.push(`${env} env var ${name}: added`);
            else if (b.type !== "secret_text" && (b.value ?? "") !== (a.value ?? "")) out.push(`${env} env var ${name}: ${b.value ?? ""} → ${a.value ?? ""}`);
            else if ((b.type ?? "plain_text") !== (a.type ?? "plain_text")) out.push(`${env} env var ${name}: ${b.type} → ${a.type}`);
        }
    }
    const build = (inputs.buildConfig ?? {}) as Record<string, unknown>;
    const caching = existing.build_config?.build_caching;
    if (build.buildCaching !== undefined && caching !== undefined && caching !== null && caching !== build.buildCaching) out.push(`build caching: ${caching} → ${String(build.buildCaching)}`);
    return out;
}
