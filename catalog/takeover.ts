/**
 * Taking over a zone that already has records: which existing record sits where a managed record will go. Pure,
 * shared by `npm run adopt` (which records to import) and the program's refusal to create a duplicate (index.ts).
 *
 * Cloudflare accepts several A, AAAA, TXT and MX records at one name, so creating our `api` A record beside the
 * hand-made one would silently make `api` round-robin between two servers; a CNAME, on the other hand, may not share
 * its name with anything below the apex, and Cloudflare refuses that create outright.
 */

/** A record as the Cloudflare API lists it (the fields the takeover looks at). */
export interface ZoneRecord {
    readonly id: string;
    /** Fully qualified, as the API returns it. */
    readonly name: string;
    readonly type: string;
    readonly content: string;
    readonly comment?: string | null;
    readonly proxied?: boolean;
    readonly ttl?: number;
    readonly priority?: number;
}

/** Where a managed record goes: name and type, plus the content for the types that may repeat at a name. */
export interface ManagedSlot {
    readonly hostname: string;
    readonly type: string;
    /** Literal content when known before deploy (MX host, TXT value); host addresses and pages.dev names are not. */
    readonly content?: string;
}

/** The comment every record of a stack carries (catalog/dns.ts); it marks records the stack created itself. */
export function ownerCommentPrefix(project: string, stack: string): string {
    return `Managed by Pulumi ${project}/${stack}:`;
}

/** TXT records share names (SPF beside site verifications at the apex): they are told apart by their `v=` tag. */
export function txtFamily(content: string): string {
    const m = content.replace(/^"/, "").match(/^v=([A-Za-z0-9]+)/);
    return m ? m[1].toLowerCase() : "";
}

const norm = (name: string) => name.toLowerCase().replace(/\.$/, "");

/** True when the existing record occupies the managed record's place (same name and type, same MX host, same TXT family). */
export function sameSlot(slot: ManagedSlot, r: ZoneRecord): boolean {
    if (norm(r.name) !== norm(slot.hostname) || r.type !== slot.type) return false;
    if (slot.type === "MX") return slot.content === undefined || norm(r.content) === norm(slot.content);
    if (slot.type === "TXT") return slot.content === undefined || txtFamily(r.content) === txtFamily(slot.content);
    return true;
}

/** An existing record that makes the managed one impossible: below the apex a CNAME shares its name with nothing. */
export function blocks(slot: ManagedSlot, r: ZoneRecord, zone: string): boolean {
    if (norm(r.name) !== norm(slot.hostname) || norm(slot.hostname) === norm(zone) || r.type === slot.type) return false;
    return slot.type === "CNAME" || r.type === "CNAME";
}

export interface SlotFinding {
    /** Existing records at the slot: one can be adopted; more than one must be reduced by hand first. */
    readonly same: readonly ZoneRecord[];
    /** Existing records of another type that Cloudflare would not let the managed record sit beside. */
    readonly blocking: readonly ZoneRecord[];
}

export function findAtSlot(slot: ManagedSlot, records: readonly ZoneRecord[], zone: string): SlotFinding {
    return { same: records.filter((r) => sameSlot(slot, r)), blocking: records.filter((r) => blocks(slot, r, zone)) };
}

export const describeRecord = (r: ZoneRecord): string =>
    `${r.type} ${r.name} → ${r.type === "MX" && r.priority !== undefined ? `${r.priority} ` : ""}${r.content}${r.proxied ? " (proxied)" : ""}`;

/**
 * Every existing record that `pulumi up` would duplicate or collide with: at a managed place, not created by this
 * stack (its comment) and not adopted (its id in `visualkit:adopt`). Empty means the up cannot make a duplicate.
 */
export function takeoverConflicts(
    slots: readonly ManagedSlot[],
    records: readonly ZoneRecord[],
    opts: { readonly zone: string; readonly ownerPrefix: string; readonly adoptedIds: ReadonlySet<string>; readonly stack: string },
): string[] {
    const foreign = records.filter((r) => !(r.comment ?? "").startsWith(opts.ownerPrefix) && !opts.adoptedIds.has(r.id));
    const problems: string[] = [];
    for (const slot of slots) {
        const { same, blocking } = findAtSlot(slot, foreign, opts.zone);
        for (const r of same) {
            problems.push(
                `${slot.hostname} ${slot.type}: the zone already has ${describeRecord(r)} (id ${r.id}), not made by this stack and not adopted; ` +
                    `pulumi up would add a second ${slot.type} record beside it. Run npm run adopt -- ${opts.stack} to adopt it, or delete it in Cloudflare.`,
            );
        }
        for (const r of blocking) {
            problems.push(
                `${slot.hostname} ${slot.type}: the zone has ${describeRecord(r)} (id ${r.id}), and a CNAME cannot share its name with other records. ` +
                    `Delete it in Cloudflare when you are ready to switch that name (docs/takeover.md), or move the hostname (visualkit:hostnames).`,
            );
        }
    }
    return problems;
}
