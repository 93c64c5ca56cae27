import type * as pulumi from "@pulumi/pulumi";

/**
 * The adopt map (`visualkit:adopt`, written by `npm run adopt`): resource name → Cloudflare import id. A component
 * asks for the option of each child it creates; the map remembers which entries were asked for, so index.ts can
 * refuse entries that no resource uses (a renamed hostname, a stale map) instead of silently ignoring them.
 *
 * Leaving an entry in place after the first `pulumi up` is harmless: once the resource is in the state with that
 * id, the engine ignores the import id (pulumi/pulumi#2893, case 4).
 */
export class AdoptMap {
    private readonly used = new Set<string>();

    constructor(private readonly entries: Readonly<Record<string, string>> = {}) {}

    /** `{ import: id }` for an adopted resource, `{}` for one that is created. */
    options(resourceName: string): Pick<pulumi.CustomResourceOptions, "import"> {
        const id = this.entries[resourceName];
        if (id === undefined) return {};
        this.used.add(resourceName);
        return { import: id };
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
