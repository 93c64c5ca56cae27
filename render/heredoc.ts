import { createHash } from "node:crypto";

/**
 * A shell command fed `text` through a here-document whose end marker cannot occur in the text (it is derived from
 * the text's hash), quoted so nothing in the text is expanded.
 */
export function heredoc(command: string, text: string): string[] {
    const marker = `VISUALKIT_EOF_${createHash("sha256").update(text).digest("hex").slice(0, 12)}`;
    const body = text.endsWith("\n") ? text : `${text}\n`;
    return [`${command} <<'${marker}'`, ...body.slice(0, -1).split("\n"), marker];
}
