import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { runWithMocks, type MockRunResult } from "../mocks/runtime";
import { readStackConfig } from "../stack/stack-config";

/** The offline render: the real program under mocks, turned into the files of rendered/<stack>/. */

export const ROOT = resolve(__dirname, "..");

export async function renderStack(stack: string): Promise<MockRunResult> {
    const { project, config, secretKeys } = readStackConfig(ROOT, stack);
    const program = require("../index") as () => Promise<Record<string, unknown>>;
    return runWithMocks({ project, stack, config, secretKeys, program });
}

function sortKeys(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
    return v;
}

/** Stable JSON: two-space indent, newline at the end. */
export function stableJson(value: unknown): string {
    return JSON.stringify(value, null, 2) + "\n";
}

/** The files of rendered/<stack>/, by relative path. */
export function renderedFiles(result: MockRunResult): Map<string, string> {
    const resources = [...result.resources]
        .sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name))
        .map((r) => {
            const options = Object.fromEntries(
                Object.entries(r.options).filter(([, v]) => v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0)),
            );
            return { type: r.type, name: r.name, parent: r.parent, inputs: sortKeys(r.inputs), ...(Object.keys(options).length ? { options } : {}) };
        });
    const out = new Map<string, string>([
        ["resources.json", stableJson(resources)],
        ["outputs.json", stableJson(sortKeys(result.outputs))],
    ]);
    for (const [path, content] of result.files) out.set(path, content);
    return out;
}

/** Writes the whole folder at once (temp dir, then swap), so a failed render never leaves half a folder. */
export function writeRendered(dir: string, files: Map<string, string>): void {
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    for (const [path, content] of files) {
        const target = join(tmp, path);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, content);
    }
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dirname(dir), { recursive: true });
    renameSync(tmp, dir);
}
