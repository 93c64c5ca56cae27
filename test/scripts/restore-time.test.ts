import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { checkTargetTime } from "../../scripts/backup/remote";
import { ROOT } from "../helpers/program";

/** `npm run restore -- <stack> --to-time T`: the timestamp check that runs before anything reaches the host. */
test.each([
    ["2026-12-05T14:30:00Z", "2026-12-05T14:30:00.000Z"],
    ["2026-12-05 14:30Z", "2026-12-05T14:30:00.000Z"],
    ["2026-12-05T15:30:00+01:00", "2026-12-05T14:30:00.000Z"],
    ["2026-12-05T00:30:00.25+0100", "2026-12-04T23:30:00.250Z"],
    ["2026-12-04T20:00:00-05:00", "2026-12-05T01:00:00.000Z"],
])("%s is sent to the host as %s (UTC, one shell word)", (given, sent) => {
    expect(checkTargetTime(given)).toBe(sent);
});

test.each(["yesterday", "2026-12-05T14:30:00", "2026-12-05 14:30", "2026-02-30T10:00:00Z", "2026-13-01T00:00:00Z", "2026-12-05T25:00:00Z", "1733400000", "2026-12-05T14:30:00+01"])(
    "%s is refused with the accepted forms",
    (given) => {
        expect(() => checkTargetTime(given)).toThrow(`--to-time '${given}' is not a timestamp with a zone: give it as 2026-12-05T14:30:00Z (UTC) or 2026-12-05T15:30:00+01:00`);
    },
);

test("npm run restore refuses a malformed --to-time with exit 2 before it looks for the host", () => {
    const res = spawnSync(process.execPath, [join(ROOT, "scripts", "run-ts.js"), join(ROOT, "scripts", "restore.ts"), "prod", "--to-time", "last tuesday", "--host", "root@192.0.2.1"], { encoding: "utf8" });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain("restore: --to-time 'last tuesday' is not a timestamp with a zone");
    expect(res.stderr).toContain("--to-time TIMESTAMP");
});
