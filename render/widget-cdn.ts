/**
 * Shell scripts of the widget CDN, run over SSH. Pure, so the tests run them with shellcheck and against a local
 * folder standing in for the data volume.
 */

/** POSIX single quotes: the one quoting that needs no escaping rules besides the quote itself. */
export function shellQuote(s: string): string {
    return `'${s.replace(/'/g, `'"'"'`)}'`;
}

/**
 * Makes sure the files folder exists on the data volume and that the static root Caddy serves links to it.
 * A real folder at the root (a server set up by hand) is left alone and reported.
 */
export function renderWidgetFolderScript(folder: string, root: string): string {
    const [f, r] = [shellQuote(folder), shellQuote(root)];
    return [
        "set -eu",
        `install -d -m 0755 ${f}`,
        `if [ -L ${r} ] || [ ! -e ${r} ]; then`,
        `  mkdir -p "$(dirname ${r})"`,
        `  ln -sfn ${f} ${r}`,
        "else",
        `  echo "widget-cdn: ${root.replace(/["$`\\]/g, "")} is a real folder, not a link to ${folder.replace(/["$`\\]/g, "")}; Caddy serves it as it is" >&2`,
        "fi",
        "",
    ].join("\n");
}

/**
 * Replaces the folder's content with an uploaded archive: unpacked next to it, then swapped in with two renames, so
 * Caddy never serves half a release and files removed locally disappear from the CDN.
 */
export function renderWidgetSyncScript(archive: string, folder: string): string {
    const [a, f] = [shellQuote(archive), shellQuote(folder)];
    return [
        "set -eu",
        `new=$(mktemp -d ${f}.new.XXXXXX)`,
        `tar -xzf ${a} -C "$new" --no-same-owner --no-same-permissions`,
        `find "$new" -type d -exec chmod 0755 {} +`,
        `find "$new" -type f -exec chmod 0644 {} +`,
        `rm -rf ${f}.old`,
        `if [ -d ${f} ]; then mv ${f} ${f}.old; fi`,
        `mv "$new" ${f}`,
        `rm -rf ${f}.old ${a}`,
        `echo "widget-cdn: $(find ${f} -type f | wc -l) files in ${folder.replace(/["$`\\]/g, "")}"`,
        "",
    ].join("\n");
}
