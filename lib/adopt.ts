import type * as pulumi from "@pulumi/pulumi";

/**
 * The adopt map (`visualkit:adopt`, written by `npm run adopt`): resource name → Cloudflare import id. A component
 * asks for the option of each child it creates; the map remembers which entries were asked for, so index.ts can
 * refuse entries that no resource uses (a renamed hostname, a stale map) instead of silently ignoring them.
 *
 * The map must not outlive the takeover. An entry left in place is not harmless: the engine refuses to *replace* a
 * resource that still carries an import id ("previously-imported resources that still specify an ID may not be
 * replaced", pulumi/pulumi pkg/resource/deploy/step_generator.go:1976-1995), so a later hostname rename or Pages
 * project change would fail `pulumi up` in prod. So: DNS records the stack has made its own (they carry its owner
 * comment, set by the first `up`) are never imported again (`settle`); `npm run adopt` writes entries only for objects
 * the stack's state does not hold, so running it after the first successful `up` empties the map; and every run
 * that still imports says so (index.ts). docs/operation.md says what a replacement of an adopted resource needs.
 */
export class AdoptMap {
    private readonly used = new Set<string>();
    private readonly settled = new Set<string>();

    constructor(private readonly entries: Readonly<Record<string, string>> = {}) {}

    /**
     * Marks the entries whose object the stack already owns (its last id part is one of `ownedIds`, e.g. DNS records
     * carrying the stack's owner comment): they are used, but no longer imported.
     */
    settle(ownedIds: ReadonlySet<string>): void {
        for (const [name, id] of Object.entries(this.entries)) if (ownedIds.has(id.split("/").pop() ?? id)) this.settled.add(name);
    }

    /** `{ import: id }` for an adopted resource not owned yet, `{}` for one that is created or already the stack's. */
    options(resourceName: string): Pick<pulumi.CustomResourceOptions, "import"> {
        const id = this.entries[resourceName];
        if (id === undefined) return {};
        this.used.add(resourceName);
        return this.settled.has(resourceName) ? {} : { import: id };
    }

    /** Entries still imported by this run (asked for and not settled). */
    imported(): string[] {
        return [...this.used].filter((n) => !this.settled.has(n)).sort();
    }

    /** Record ids (the last part of each import id): records the zone already has that the stack takes over. */
    ids(): Set<string> {
        return new Set(Object.values(this.entries).map((id) => id.split("/").pop() ?? id));
    }

    /** Entries no resource asked for. */
    unused(): string[] {
        return Object.keys(this.entries).filter((k) => !this.used.has(k)).sort();
    }
}
