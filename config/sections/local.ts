import type { FolderFacts } from "../raw";
import type { ConfigReader } from "../reader";
import type { SecretString } from "../secret";

/**
 * What the machine running `pulumi up` must provide: the widget folder to sync (when set) and a way to log in over
 * SSH. Checked from the local facts config/index.ts gathers, so this stays pure.
 */
export function readLocal(r: ConfigReader, sshPrivateKey: SecretString | undefined): { widgetCdnSourceDir?: string } {
    const widgetCdnSourceDir = r.optStr("widgetCdnSourceDir");
    if (widgetCdnSourceDir !== undefined) checkWidgetSource(r.raw.local.folder(widgetCdnSourceDir), r.stack).forEach((i) => r.add("widgetCdnSourceDir", i.problem, i.fix));
    // Every SSH step would retry its dial for minutes and then fail on authentication: say so before anything starts.
    const agent = r.raw.local.sshAgent;
    if (agent?.state === "stale") {
        r.report({
            key: "SSH_AUTH_SOCK",
            problem: `(environment) names ${agent.socket}, which is not a socket: the command provider fails when it cannot reach the agent it is given, even with visualkit:sshPrivateKey set, so every SSH step would fail`,
            fix: `start an agent and load the deploy key (eval "$(ssh-agent -s)" && ssh-add ~/.ssh/id_ed25519), or unset SSH_AUTH_SOCK`,
        });
    } else if (agent?.state === "unset" && sshPrivateKey === undefined) {
        r.add(
            "sshPrivateKey",
            "is not set and no ssh-agent is running (SSH_AUTH_SOCK is unset): the command provider logs in with one or the other, never with ~/.ssh files, so every SSH step would fail",
            `load a key listed in visualkit:sshPublicKeys into an agent: eval "$(ssh-agent -s)" && ssh-add ~/.ssh/id_ed25519 (or store the key: pulumi config set --secret visualkit:sshPrivateKey -s ${r.stack} < ~/.ssh/id_ed25519)`,
        );
    }
    return { widgetCdnSourceDir };
}

/** What would make a widget sync fail or empty the CDN, found before anything is uploaded. */
function checkWidgetSource(f: FolderFacts, stack: string): { problem: string; fix: string }[] {
    const fix = `point visualkit:widgetCdnSourceDir in Pulumi.${stack}.yaml at the built widget files (relative to the project folder), or set it to "" to leave the CDN alone`;
    if (f.kind === "missing") return [{ problem: `${f.path} does not exist`, fix }];
    if (f.kind === "file") return [{ problem: `${f.path} is a file, not a folder`, fix }];
    const out: { problem: string; fix: string }[] = [];
    if (f.files === 0) out.push({ problem: `${f.path} holds no files; a sync would empty the CDN`, fix: `build the widget into it first, or ${fix.slice(0, 1).toLowerCase()}${fix.slice(1)}` });
    const list = (paths: readonly string[]) => paths.slice(0, 3).join(", ") + (paths.length > 3 ? ` and ${paths.length - 3} more` : "");
    if (f.broken.length > 0) out.push({ problem: `${f.path} holds links that point nowhere: ${list(f.broken)}`, fix: "remove the links or make them point at files" });
    if (f.linkedFolders.length > 0) out.push({ problem: `${f.path} holds links to folders, which the upload cannot copy: ${list(f.linkedFolders)}`, fix: "replace each link with the folder it points to (a copy)" });
    // The folder becomes public at cdn.<domain>: a checkout (the project folder, `.`) would publish its history and
    // configuration, a folder with keys the keys. Dotfiles are never served anyway (Caddy hides them, the sync drops them).
    if ((f.vcs ?? []).length > 0) {
        out.push({ problem: `${f.path} is or holds a version-control checkout (${list(f.vcs ?? [])}); everything in it would be public on the CDN`, fix: `build the widget into a folder of its own (e.g. widget/dist) and ${fix.slice(0, 1).toLowerCase()}${fix.slice(1)}` });
    }
    if ((f.keyLike ?? []).length > 0) {
        out.push({ problem: `${f.path} holds files that look like keys or credentials (${list(f.keyLike ?? [])}); they would be public on the CDN`, fix: "move them out of the folder (the CDN serves every file in it), then run pulumi up again" });
    }
    return out;
}
