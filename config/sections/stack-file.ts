import { fullKey, KEYS } from "../keys";
import type { ConfigReader } from "../reader";

/**
 * Problems of the stack file as a whole: keys in our namespace this program does not read (almost always typos, so
 * the nearest declared key is named), and secret keys stored in plain text.
 */
export function checkStackFile(r: ConfigReader): void {
    const declared = KEYS.map((k) => k.key);
    for (const k of Object.keys(r.raw.values)) {
        const ns = k.includes(":") ? k.slice(0, k.indexOf(":")) : "";
        if (!NAMESPACES.includes(ns)) {
            // The CLI hands every namespace over and nothing reads this one: a typo there silently drops the value.
            const name = k.slice(ns.length + 1);
            const nearNs = closest(ns, NAMESPACES, 2);
            const nearKey = nearNs === "visualkit" ? closest(name, declared) : undefined;
            r.report({
                key: k,
                problem: `is in the namespace "${ns}", which neither this program nor its providers read, so the value is ignored`,
                fix: nearNs ? `did you mean ${nearNs}:${nearKey ?? name}? Rename it in Pulumi.${r.stack}.yaml` : `remove it from Pulumi.${r.stack}.yaml (namespaces read here: ${NAMESPACES.join(", ")})`,
            });
            continue;
        }
        if (!k.startsWith("visualkit:")) continue;
        const name = k.slice("visualkit:".length);
        if (!declared.includes(name)) {
            const near = closest(name, declared);
            r.add(name, "is not a key this program reads", near ? `did you mean visualkit:${near}? Rename it in Pulumi.${r.stack}.yaml` : `remove it from Pulumi.${r.stack}.yaml`);
        }
    }
    for (const s of KEYS) {
        if (s.secret && r.rawOf(s.key) !== undefined && !r.raw.secretKeys.has(fullKey(s.key))) {
            r.add(s.key, "is stored in plain text in the stack file but is a secret", `${r.setCmd(s.key, "<value>", true)} (this overwrites the plain value)`);
        }
    }
}

/** Config namespaces something here reads: the program's own, its providers', and Pulumi's (pulumi:tags). */
const NAMESPACES = ["visualkit", "hcloud", "cloudflare", "docker", "command", "random", "pulumi"];

/** The candidate nearest to a misspelt word (edit distance ≤ `max`), for "did you mean". */
function closest(word: string, candidates: readonly string[], max = 3): string | undefined {
    let best: { c: string; d: number } | undefined;
    for (const c of candidates) {
        const d = editDistance(word.toLowerCase(), c.toLowerCase());
        if (d <= max && (!best || d < best.d)) best = { c, d };
    }
    return best?.c;
}

function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const tmp = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
            prev = tmp;
        }
    }
    return row[b.length];
}
