import * as cloudflare from "@pulumi/cloudflare";
import type { DnsRecordSpec } from "../catalog/dns";
import { ownerCommentPrefix, takeoverConflicts, type ZoneRecord } from "../catalog/takeover";
import type { AdoptMap } from "./adopt";

/** Raised before any resource is registered when `pulumi up` would duplicate or collide with an existing record. */
export class TakeoverError extends Error {
    constructor(stack: string, problems: readonly string[]) {
        super(
            `Stack ${stack}: the Cloudflare zone already has records where this stack would create its own; nothing was changed.\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "TakeoverError";
    }
}

/** Records listed per invoke; Cloudflare's largest plans allow 3,500 records a zone, so one call sees them all. */
const MAX_RECORDS = 10_000;

/**
 * Lists the zone's records (the `getDnsRecords` invoke of @pulumi/cloudflare 6.22.1, which pages through
 * GET /zones/{zone_id}/dns_records) and throws when a managed record would land beside one that is neither the
 * stack's own (its comment) nor adopted. Runs on every preview and up, before anything is created. Adopt entries of
 * records that are the stack's own already are settled (never imported again).
 */
export async function refuseDuplicateRecords(args: {
    zoneId: string;
    zone: string;
    project: string;
    stack: string;
    records: readonly DnsRecordSpec[];
    adopt: AdoptMap;
}): Promise<void> {
    const listed = await cloudflare.getDnsRecords({ zoneId: args.zoneId, maxItems: MAX_RECORDS });
    const existing: ZoneRecord[] = (listed.results ?? []).map((r) => ({
        id: r.id,
        name: r.name,
        type: r.type,
        content: r.content,
        comment: r.comment,
        proxied: r.proxied,
        priority: r.priority,
    }));
    const slots = args.records.map((r) => ({ hostname: r.hostname, type: r.type, content: r.content.kind === "literal" ? r.content.value : undefined }));
    const problems = takeoverConflicts(slots, existing, {
        zone: args.zone,
        ownerPrefix: ownerCommentPrefix(args.project, args.stack),
        adoptedIds: args.adopt.ids(),
        stack: args.stack,
    });
    if (problems.length > 0) throw new TakeoverError(args.stack, problems);
    // Records carrying the stack's owner comment are its own (the first `up` wrote it, also on adopted ones): their
    // adopt entries must not import again, or a later replacement of them is refused (lib/adopt.ts).
    const prefix = ownerCommentPrefix(args.project, args.stack);
    args.adopt.settle(new Set(existing.filter((r) => (r.comment ?? "").startsWith(prefix)).map((r) => r.id)));
}
