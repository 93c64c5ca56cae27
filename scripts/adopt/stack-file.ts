import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { parseDocument } from "yaml";

/**
 * Writes the adopt map into the stack file as `visualkit:adopt`, where the program reads it (config/index.ts),
 * keeping every other line and comment as it was. An empty map removes the key.
 */
export function writeAdoptMap(file: string, adopt: Readonly<Record<string, string>>): void {
    const doc = parseDocument(readFileSync(file, "utf8"));
    if (doc.errors.length > 0) throw new Error(`cannot parse ${file}: ${doc.errors[0].message}`);
    if (Object.keys(adopt).length === 0) {
        doc.deleteIn(["config", "visualkit:adopt"]);
    } else {
        doc.setIn(["config", "visualkit:adopt"], doc.createNode({ ...adopt }));
        const pair = (doc.getIn(["config"], true) as { items: { key: { value?: unknown; commentBefore?: string } }[] }).items.find((p) => p.key?.value === "visualkit:adopt");
        if (pair) pair.key.commentBefore = " Written by `npm run adopt`: existing Cloudflare objects the stack imports instead of creating (resource name: import id).";
    }
    const tmp = `${file}.adopt-${process.pid}`;
    writeFileSync(tmp, doc.toString());
    renameSync(tmp, file);
}
