import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The one home of two things every script the program sends to a host needs: finding the shipped file, and quoting
 * values into a shell command line. Pure (no @pulumi import), so the renderers in render/ use it too.
 */

/**
 * The scripts the program ships to hosts (scripts/host/) are real files, so shellcheck and the tests check
 * exactly what runs on a server. They are read from the project folder: this file's parent, since the program runs
 * from its sources (Pulumi transpiles them in place; there is no compiled copy elsewhere).
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

/** One POSIX-shell word, whatever the text contains: single quotes, each quote inside closed, escaped and reopened. */
export function shellQuote(text: string): string {
    return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Characters that mean nothing to sh, so a word made only of them needs no quotes (and reads better in a plan). */
const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One POSIX-shell word, quoted only when it needs it. */
export function shellWord(text: string): string {
    return PLAIN_WORD.test(text) ? text : shellQuote(text);
}
