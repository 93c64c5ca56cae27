import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The scripts the program ships to hosts (caddy/, scripts/host/) are real files, so shellcheck and the tests check
 * exactly what runs on a server. They are read from the project folder: this file's parent, since the program runs
 * from its sources (Pulumi transpiles them in place).
 */
export const PROJECT_ROOT = join(__dirname, "..");

/** The text of a shipped file, by its path from the project root (`scripts/host/wait-ready.sh`). */
export function shippedFile(relativePath: string): string {
    try {
        return readFileSync(join(PROJECT_ROOT, relativePath), "utf8");
    } catch (e) {
        throw new Error(`shipped file ${relativePath} not found under ${PROJECT_ROOT}: ${(e as Error).message}`);
    }
}

/** One POSIX-shell word, whatever the text contains. */
export function shellQuote(text: string): string {
    return `'${text.replace(/'/g, `'\\''`)}'`;
}
