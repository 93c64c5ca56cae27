import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { isMap, parseDocument, Scalar } from "yaml";

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
        const config = doc.get("config", true);
        if (!isMap(config)) throw new Error(`${file} has no config: map`);
        const key = new Scalar("visualkit:adopt");
        key.commentBefore = " Written by `npm run adopt`: existing Cloudflare objects the stack imports instead of creating (resource name: import id).";
        config.delete("visualkit:adopt");
        config.set(key, doc.createNode({ ...adopt }));
    }
    const tmp = `${file}.adopt-${process.pid}`;
    // lineWidth 0: never fold the long lines (SSH keys, DKIM) that are already in the file.
    writeFileSync(tmp, doc.toString({ lineWidth: 0 }));
    renameSync(tmp, file);
}
