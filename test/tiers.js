"use strict";
/**
 * Which jest tier a test file belongs to. The fast tier (`npm test`, jest.config.js) is everything but the data tier.
 * The data tier (`npm run test:data`, jest.data.config.js) is the scripts that keep and move the platform's data,
 * driven end to end against real services: restic repositories behind a local sshd (SFTP) and s3rver (S3 over TLS),
 * and throwaway Debian PostgreSQL clusters. Their cost is the real tools' own (restic derives the repository key,
 * ~0.5 s of CPU, on every command; each suite starts its clusters and servers), ~70 s of CPU together: in the fast tier
 * they alone were more than its minute. CI runs both tiers; run the data tier too when scripts/host/backup*.sh,
 * restore.sh, pg-copy.sh or visualkit-metrics.sh's Postgres role, or scripts/backup.ts, restore.ts or migrate-data.ts change.
 */
const DATA_TIER = [
    "test/scripts/host/backup.test.ts",
    "test/scripts/host/pitr.test.ts",
    "test/scripts/backup-commands.test.ts",
    "test/scripts/host/pg-copy.test.ts",
    "test/scripts/host/metrics-pg-role.test.ts",
    "test/scripts/migrate-data.test.ts",
];

const { existsSync } = require("node:fs");
const { join } = require("node:path");
const missing = DATA_TIER.filter((f) => !existsSync(join(__dirname, "..", f)));
if (missing.length > 0) {
    throw new Error(`test/tiers.js names test files that do not exist: ${missing.join(", ")}; update DATA_TIER`);
}

module.exports = { DATA_TIER };
