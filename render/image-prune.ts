import { createHash } from "node:crypto";

/**
 * The host timer that removes Docker images no container uses any more. Images are pulled with `keepLocally`
 * (lib/containers.ts pullImage): the provider never runs `docker rmi`, which after a failed rollout and its revert
 * refused a tag the running containers use and failed every later `up`. Without `docker rmi`, old images pile up on
 * the disk; this timer removes them once they are old enough that no revert needs them without a pull. Pure: no
 * Pulumi import, so the tests run the units with systemd-analyze and the install with a real shell.
 */

export const IMAGE_PRUNE_UNITS = { service: "visualkit-image-prune.service", timer: "visualkit-image-prune.timer" } as const;
/** Where the units are installed on the host (the admin's unit folder, like the backup timers). */
export const IMAGE_PRUNE_UNIT_DIR = "/etc/systemd/system";

export interface ImagePruneSettings {
    /**
     * Unused images created longer ago than this are removed. Docker's `until` filter compares the image's creation
     * (build) time, not the time of the pull; an image a running or stopped container uses is never removed.
     */
    readonly olderThanDays: number;
    /** systemd OnCalendar expression of the run. */
    readonly schedule: string;
}

export const IMAGE_PRUNE_DEFAULTS: ImagePruneSettings = { olderThanDays: 14, schedule: "*-*-* 04:30:00" };

export function renderImagePruneUnits(s: ImagePruneSettings): Record<string, string> {
    if (!Number.isInteger(s.olderThanDays) || s.olderThanDays < 1) throw new Error(`image-prune: olderThanDays must be a whole number of days ≥ 1, got ${s.olderThanDays}`);
    if (/[\n\r]/.test(s.schedule) || s.schedule.trim() === "") throw new Error("image-prune: schedule must be one OnCalendar expression");
    return {
        [IMAGE_PRUNE_UNITS.service]: [
            "[Unit]",
            "Description=VisualKit: remove Docker images no container uses, created more than " + `${s.olderThanDays} days ago`,
            "Requires=docker.service",
            "After=docker.service",
            "",
            "[Service]",
            "Type=oneshot",
            // --all: tagged images too (the ones pulled for earlier releases), not only dangling layers.
            `ExecStart=/usr/bin/docker image prune --all --force --filter until=${s.olderThanDays * 24}h`,
            "Nice=10",
            "IOSchedulingClass=idle",
            "",
        ].join("\n"),
        [IMAGE_PRUNE_UNITS.timer]: [
            "[Unit]",
            "Description=Daily removal of unused VisualKit Docker images",
            "",
            "[Timer]",
            `OnCalendar=${s.schedule}`,
            "Persistent=true",
            "RandomizedDelaySec=30min",
            "",
            "[Install]",
            "WantedBy=timers.target",
            "",
        ].join("\n"),
    };
}

/** A here-document whose end marker cannot occur in the text, written aside and renamed into place. */
function heredoc(path: string, text: string): string[] {
    const marker = `VISUALKIT_EOF_${createHash("sha256").update(text).digest("hex").slice(0, 12)}`;
    const body = text.endsWith("\n") ? text : `${text}\n`;
    return [`cat >"$root${path}.new" <<'${marker}'`, ...body.slice(0, -1).split("\n"), marker, `chmod 0644 "$root${path}.new"`, `mv -f "$root${path}.new" "$root${path}"`];
}

/**
 * Installs (or updates) both units and enables the timer: every step is a write-aside-and-rename or an idempotent
 * systemctl call, so running it again with the same text changes nothing. VISUALKIT_INSTALL_ROOT puts the files under
 * another folder and skips systemctl, for the tests.
 */
export function renderImagePruneInstall(s: ImagePruneSettings): string {
    const units = renderImagePruneUnits(s);
    return [
        "set -eu",
        'root="${VISUALKIT_INSTALL_ROOT:-}"',
        "umask 022",
        `mkdir -p "$root${IMAGE_PRUNE_UNIT_DIR}"`,
        ...Object.entries(units).flatMap(([name, text]) => heredoc(`${IMAGE_PRUNE_UNIT_DIR}/${name}`, text)),
        'if [ -z "$root" ]; then',
        "  systemctl daemon-reload",
        `  systemctl enable --now ${IMAGE_PRUNE_UNITS.timer} >/dev/null`,
        "fi",
        `echo "image prune timer installed: unused images older than ${s.olderThanDays} days, ${s.schedule.replace(/["$`\\]/g, "")}"`,
        "",
    ].join("\n");
}
