import { existsSync, readFileSync } from "node:fs";
import { isScalar, parseDocument, type Document } from "yaml";
import { isPinned, parseImageRef } from "../../config/validators";
import { findTarget, type Target } from "./targets";

/**
 * The pure half of `npm run deploy` / `npm run rollback`: which stack file key changes to what, the edit of
 * Pulumi.<stack>.yaml that keeps its comments, and the recorded history the rollback reads.
 */

/** One `<service>=<image>` of the command line, checked. */
export interface Change {
    readonly target: Target;
    readonly image: string;
}

/**
 * Parses and checks `<service>=<image>`. The reference must be immutable in every stack: a digest, or a full
 * x.y.z version tag (config/validators.ts isPinned, the rule prod's config already enforces). A moving tag (`:main`)
 * is refused in dev too: writing the same `:main` again changes no input, so nothing would be pulled or replaced.
 * This tool runs offline, so it cannot resolve a tag to its digest: the app's CI sends the digest its build
 * printed (docs/deploy.md), and a version tag is trusted to be immutable in the registry.
 */
export function parseChange(arg: string): Change {
    const eq = arg.indexOf("=");
    if (eq <= 0) throw new Error(`expected <service>=<image>, got ${JSON.stringify(arg)}`);
    const target = findTarget(arg.slice(0, eq));
    const image = arg.slice(eq + 1);
    const ref = parseImageRef(image);
    if (!ref) throw new Error(`${target.configKey}: ${JSON.stringify(image)} is not an image reference (registry/name:1.2.3 or registry/name@sha256:<64 hex>)`);
    if (!isPinned(ref)) {
        throw new Error(
            `${target.configKey}: ${JSON.stringify(image)} is not immutable; deploy a digest (${ref.repository}@sha256:…, the one your image build printed) or a full version tag (${ref.repository}:1.2.3). A moving tag such as :main or :latest is never pulled again once on the host.`,
        );
    }
    return { target, image };
}

/** One line of deploy/history/<stack>.json. */
export interface HistoryEntry {
    readonly at: string;
    readonly action: "deploy" | "rollback";
    /** The name given on the command line (service or container). */
    readonly service: string;
    /** The stack file key, `visualkit:imagePlatformApi`. */
    readonly key: string;
    /** The reference before (absent: the key was not set, the program's default applied). */
    readonly from?: string;
    readonly to: string;
}

export interface History {
    readonly stack: string;
    readonly entries: HistoryEntry[];
}

export function readHistory(file: string, stack: string): History {
    if (!existsSync(file)) return { stack, entries: [] };
    const parsed = JSON.parse(readFileSync(file, "utf8")) as History;
    if (!Array.isArray(parsed.entries)) throw new Error(`${file}: no entries list; restore it from git (git log -p -- ${file})`);
    return { stack, entries: parsed.entries };
}

export function historyText(h: History): string {
    return JSON.stringify({ stack: h.stack, entries: h.entries }, null, 2) + "\n";
}

/**
 * Where a rollback of `key` goes: the deploys of that key not yet undone form a stack (each rollback undoes the
 * newest one), and the newest one's `from` is the answer. So two rollbacks in a row go two releases back, not to and
 * fro. Refuses when the stack file no longer holds what that deploy wrote (someone changed the key by hand since):
 * the history would then be guesswork.
 */
export function rollbackTarget(h: History, key: string, current: string | undefined): { to: string; undoes: HistoryEntry } {
    const open: HistoryEntry[] = [];
    for (const e of h.entries) {
        if (e.key !== key) continue;
        if (e.action === "deploy") open.push(e);
        else open.pop();
    }
    const last = open[open.length - 1];
    if (!last) throw new Error(`no recorded deploy of ${key} in the history of stack ${h.stack} to roll back; deploy the reference you want with npm run deploy -- ${h.stack} <service>=<image>`);
    if (last.to !== current) {
        throw new Error(`${key} is ${JSON.stringify(current)} but the last recorded deploy set ${JSON.stringify(last.to)}: it was changed outside npm run deploy, so the history does not say what came before. Deploy the reference you want explicitly.`);
    }
    if (last.from === undefined) throw new Error(`the last deploy of ${key} (${last.at}) set it where it was unset before; there is no earlier reference to go back to`);
    return { to: last.from, undoes: last };
}

/** The stack file as a YAML document, so an edit keeps every comment and every other line as written. */
export function loadStackFile(text: string): Document {
    const doc = parseDocument(text);
    if (doc.errors.length) throw new Error(`the stack file does not parse: ${doc.errors[0].message}`);
    return doc;
}

export function currentImage(doc: Document, key: string): string | undefined {
    const v = doc.getIn(["config", key]);
    return v === undefined || v === null ? undefined : String(v);
}

/** Sets `config.<key>`: the existing scalar node keeps its quoting style and comments; a missing key is appended. */
export function setImage(doc: Document, key: string, image: string): void {
    const node = doc.getIn(["config", key], true);
    if (isScalar(node)) node.value = image;
    else doc.setIn(["config", key], image);
}

/** The document as text; lineWidth 0 so `yaml` folds no long line the user wrote on one. */
export function stackFileText(doc: Document): string {
    return doc.toString({ lineWidth: 0 });
}
