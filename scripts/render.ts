import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../config/issues";
import { PROJECT_ROOT as ROOT } from "../lib/shipped";
import { commandLine } from "./usage";

const USAGE = "usage: npm run render -- [<stack>] [--out <dir>]   (default dev; writes rendered/<stack>/ from Pulumi.<stack>.yaml under mocks, offline)";

/**
 * `npm run render -- <stack> [--out <dir>]` (default dev, rendered/<stack>): runs the real program under mocks with Pulumi.<stack>.yaml and
 * writes rendered/<stack>/ (resources.json, outputs.json and every generated file). Needs no CLI, credentials or
 * network. On invalid config it prints every problem, exits 1 and leaves rendered/ untouched.
 */
async function cli(): Promise<void> {
    const { values, positionals } = commandLine(USAGE, { out: { type: "string" } });
    const outDir = values.out;
    if (positionals.length > 1) {
        console.error(`render: one stack at a time, got ${positionals.join(" ")}\n${USAGE}`);
        process.exit(2);
    }
    // The output folder is replaced whole: refuse one that holds anything but an earlier render.
    if (outDir !== undefined && existsSync(outDir) && readdirSync(outDir).length > 0 && !existsSync(join(outDir, "resources.json"))) {
        console.error(`render: --out ${outDir} is a folder with other content; it would be replaced. Give an empty or new folder.`);
        process.exit(2);
    }
    const stack = positionals[0] ?? "dev";
    const available = readdirSync(ROOT).flatMap((f) => f.match(/^Pulumi\.(.+)\.yaml$/)?.slice(1) ?? []);
    if (!available.includes(stack)) {
        console.error(`render: no stack "${stack}" (Pulumi.${stack}.yaml not found); stacks here: ${available.join(", ")}`);
        process.exit(2);
    }
    // The Pulumi SDK (~1 s to load) only once the arguments are known to be good: a mistyped one is answered at once.
    const { renderedFiles, renderStack, writeRendered } = await import("./rendering");
    try {
        const result = await renderStack(stack);
        const files = renderedFiles(result);
        const dir = outDir ?? join(ROOT, "rendered", stack);
        writeRendered(dir, files);
        console.log(`rendered ${stack}: ${result.resources.length} resources, ${files.size} files in ${outDir ?? `rendered/${stack}/`}`);
    } catch (e) {
        if (e instanceof ConfigError) {
            console.error(e.message);
        } else {
            console.error(`render ${stack} failed: ${(e as Error).stack ?? e}`);
        }
        process.exit(1);
    }
}

void cli();
