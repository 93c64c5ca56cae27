/**
 * Point-in-time recovery of Chatwoot's Postgres (docs/backups.md, "Point-in-time recovery"): where the WAL goes and
 * how Postgres is started so that it goes there. Read by the Chatwoot component (the container's command and mounts)
 * and by the Backups component (the host's pgBackRest settings), so the two cannot disagree.
 *
 * Postgres (the pgvector image, no pgBackRest inside) copies each finished WAL segment into a spool folder on the data
 * volume; pgBackRest on the host pushes the spooled segments into its repository on the volume every minute and restic
 * ships that repository off site (scripts/host/pitr.sh).
 */

import { DATA_FOLDERS } from "./defaults";

/** Folders under the host's data directory (`dataDir`). Postgres's data folder is DATA_FOLDERS.postgres. */
export const PITR_FOLDERS = {
    /** WAL segments Postgres finished and the host has not pushed yet (written by the container's postgres user). */
    walSpool: "postgres-wal-spool",
    /** The container's Unix socket folder (/var/run/postgresql), so pgBackRest on the host reaches the server. */
    socket: "postgres-socket",
    /** pgBackRest's repository: base backups and WAL, shipped off site by restic. */
    repository: "pgbackrest",
} as const;

/** A spooled segment is archived only while this marker exists in the spool (the host's backup install writes it). */
export const PITR_SPOOL_MARKER = ".on";

/**
 * A segment closes at the latest this long after a commit (archive_timeout), so a quiet database still reaches the
 * spool within a minute. A forced switch pads the rest of the 16 MiB segment with zeros, which compress to nearly
 * nothing (pgBackRest zstd, restic dedup).
 */
export const ARCHIVE_TIMEOUT_SECONDS = 60;

/**
 * Postgres's archive_command: copy the segment into the spool (aside, then renamed, so the host never pushes half a
 * segment). A segment already spooled is accepted only when identical (a retry after a crash between copy and
 * acknowledgement); anything else fails and Postgres keeps the segment and retries. Without the marker (backups off,
 * or not installed yet) it succeeds without copying: the segment is recycled as with archive_mode off, so the spool
 * can never fill the volume on a host nobody pushes from. Runs with `sh -c` in the container (coreutils, diffutils).
 */
export function archiveCommand(spool: string): string {
    return (
        `if [ -f ${spool}/${PITR_SPOOL_MARKER} ]; then ` +
        `if [ -f ${spool}/%f ]; then cmp -s %p ${spool}/%f; ` +
        `else cp %p ${spool}/%f.part && mv ${spool}/%f.part ${spool}/%f; fi; fi`
    );
}

/** The server settings, as `postgres -c key=value` arguments (the container's command). */
export function archiveSettings(spool: string): Record<string, string> {
    return { archive_mode: "on", archive_command: archiveCommand(spool), archive_timeout: String(ARCHIVE_TIMEOUT_SECONDS), wal_level: "replica" };
}

/** The pgBackRest stanza of Chatwoot's cluster. */
export const PITR_STANZA = "chatwoot";

/** The host's folders of point-in-time recovery under a data directory (the Backups component's PitrLayout). */
export function pitrLayout(dataDir: string): { dataPath: string; socketPath: string; spool: string; repository: string } {
    return {
        dataPath: `${dataDir}/${DATA_FOLDERS.postgres}`,
        socketPath: `${dataDir}/${PITR_FOLDERS.socket}`,
        spool: `${dataDir}/${PITR_FOLDERS.walSpool}`,
        repository: `${dataDir}/${PITR_FOLDERS.repository}`,
    };
}
