import { shellQuote } from "../lib/shipped";

/**
 * Shell scripts of the widget CDN, run over SSH. Pure, so the tests run them with shellcheck and against a local
 * folder standing in for the data volume.
 */

/** Strips what could end a double-quoted shell string, for paths shown in messages. */
const shown = (s: string) => s.replace(/["$`\\]/g, "");

/**
 * The releases folder next to the data folder (`/mnt/data/widget-cdn` → `/mnt/data/widget-cdn-releases`), and the
 * data folder's link target for a release, relative so the volume may be mounted elsewhere.
 */
function layout(folder: string): { releases: string; linkPrefix: string } {
    const base = folder.replace(/\/+$/, "").split("/").pop() ?? "";
    if (!/^[A-Za-z0-9._-]+$/.test(base)) throw new Error(`widget-cdn: the data folder ${folder} must end in a plain name (letters, digits, . _ -)`);
    return { releases: `${folder.replace(/\/+$/, "")}-releases`, linkPrefix: `${base}-releases/` };
}

/** The releases folder of a data folder (`/mnt/data/widget-cdn` → `/mnt/data/widget-cdn-releases`); backups take it too. */
export function widgetReleasesFolder(folder: string): string {
    return layout(folder).releases;
}

/** rename(2) replaces a link in one step: a reader resolves the old target or the new one, never nothing. */
const SWAP = ['swap() { ln -sfn "$1" "$2.next"; mv -T "$2.next" "$2"; }'];

/**
 * Makes the data folder a link to a release under `<folder>-releases` and the static root Caddy serves a link to the
 * data folder (so Caddy serves /opt/widget-cdn → /mnt/data/widget-cdn → widget-cdn-releases/<release>). A real data
 * folder (a new volume, or the layout before releases) becomes the first release, served without a gap: the root
 * points at the copy while the folder turns into a link. A real folder at the root (a server set up by hand) is left
 * alone and reported.
 */
export function renderWidgetFolderScript(folder: string, root: string): string {
    const { releases, linkPrefix } = layout(folder);
    return [
        "set -eu",
        ...SWAP,
        `releases=${shellQuote(releases)}`,
        `folder=${shellQuote(folder)}`,
        `root=${shellQuote(root)}`,
        'install -d -m 0755 "$releases"',
        'if [ ! -L "$folder" ]; then',
        '  release=$(mktemp -d "$releases/initial.XXXXXX")',
        '  chmod 0755 "$release"',
        '  if [ -d "$folder" ]; then',
        '    cp -a "$folder/." "$release/"',
        '    if [ -L "$root" ]; then swap "$release" "$root"; fi',
        '    mv "$folder" "$release.replaced"',
        "  fi",
        `  swap "${linkPrefix}$(basename "$release")" "$folder"`,
        '  rm -rf "$release.replaced"',
        "fi",
        'if [ -L "$root" ] || [ ! -e "$root" ]; then',
        '  if [ "$(readlink "$root" || true)" != "$folder" ]; then',
        '    mkdir -p "$(dirname "$root")"',
        '    swap "$folder" "$root"',
        "  fi",
        "else",
        `  echo "widget-cdn: ${shown(root)} is a real folder, not a link to ${shown(folder)}; Caddy serves it as it is" >&2`,
        "fi",
        "",
    ].join("\n");
}

/**
 * Copies an uploaded folder (`staged`, where the upload put the source folder's files) into a new release (named by
 * `release`, the content hash) and switches the data folder's link to it with one rename, so Caddy never serves half
 * a release or nothing, and files removed locally disappear from the CDN. The previous release is kept (rollback,
 * requests already reading it); older ones are removed, and so is the staged copy. Safe to run again with the same
 * inputs: without the staged copy it finds the release of the same content and succeeds.
 */
export function renderWidgetSyncScript(staged: string, folder: string, release: string): string {
    const { releases, linkPrefix } = layout(folder);
    if (!/^[0-9a-zA-Z_-]+$/.test(release)) throw new Error(`widget-cdn: release name ${release} must be letters, digits, - or _`);
    return [
        "set -eu",
        ...SWAP,
        `releases=${shellQuote(releases)}`,
        `folder=${shellQuote(folder)}`,
        `staged=${shellQuote(staged)}`,
        'if [ ! -L "$folder" ]; then',
        `  echo "widget-cdn: ${shown(folder)} is not a link to a release; the folder step sets it up" >&2`,
        "  exit 1",
        "fi",
        // A re-run with the same inputs (the command provider re-runs `create` on any input change that is not a
        // trigger, e.g. a new SSH key in `connection`) finds the staged copy gone: this content is a release already
        // (its name starts with the content hash), so it is made live, or left live, and nothing is uploaded again.
        'if [ ! -d "$staged" ]; then',
        "  done_release=",
        `  for d in "$releases"/${release}.*; do`,
        '    if [ -d "$d" ]; then done_release=$d; fi',
        "  done",
        '  if [ -n "$done_release" ]; then',
        `    case "$(basename "$(readlink "$folder")")" in`,
        `      ${release}.*) echo "widget-cdn: release ${release} is live already in ${shown(folder)} -> $(readlink "$folder")" ;;`,
        `      *) swap "${linkPrefix}$(basename "$done_release")" "$folder"; echo "widget-cdn: switched ${shown(folder)} back to the synced release $(readlink "$folder")" ;;`,
        "    esac",
        "    exit 0",
        "  fi",
        `  echo "widget-cdn: ${shown(staged)} is missing (each sync removes it) and no release ${release} exists; replace the upload step to send it again" >&2`,
        "  exit 1",
        "fi",
        `new=$(mktemp -d "$releases/${release}.XXXXXX")`,
        // Owner and modes are this script's, not the upload's: Caddy reads the same release whoever uploaded it.
        'cp -R "$staged/." "$new/"',
        // Dotfiles (.git, .env, .DS_Store …) never reach a release: the CDN is public (Caddy hides them too).
        `find "$new" -mindepth 1 -name '.*' -prune -exec rm -rf {} +`,
        'find "$new" -type d -exec chmod 0755 {} +',
        'find "$new" -type f -exec chmod 0644 {} +',
        'previous=$(basename "$(readlink "$folder")")',
        `swap "${linkPrefix}$(basename "$new")" "$folder"`,
        'for old in "$releases"/*; do',
        '  case "$(basename "$old")" in',
        '    "$(basename "$new")" | "$previous") ;;',
        '    *) rm -rf "$old" ;;',
        "  esac",
        "done",
        'rm -rf "$staged"',
        `echo "widget-cdn: $(find "$new" -type f | wc -l) files in ${shown(folder)} -> $(readlink "$folder")"`,
        "",
    ].join("\n");
}
