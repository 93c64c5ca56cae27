import { spawnSync } from "node:child_process";
import { checkCalendar } from "../../config/calendar";

/*
 * The backup timers' OnCalendar grammar (config/calendar.ts) against the real parser: every expression the subset
 * accepts is one `systemd-analyze calendar` accepts and whose next elapses are at least an hour apart; every one it
 * refuses is one systemd refuses, or one that fires more often than hourly (shown by systemd's own next elapses),
 * or one listed as outside the subset on purpose.
 */

/** systemd's verdict: undefined when it refuses, else the seconds between its first `n` elapses. */
function systemd(expr: string, n = 6): number[] | undefined {
    const res = spawnSync("systemd-analyze", ["calendar", "--iterations", String(n), expr], { encoding: "utf8", env: { ...process.env, TZ: "UTC", LC_ALL: "C" } });
    if (res.status !== 0) return undefined;
    const times = [...res.stdout.matchAll(/(?:Next elapse|Iter\. #\d+):\s+\w+ (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) UTC/g)].map((m) => Date.parse(`${m[1]}Z`) / 1000);
    return times.slice(1).map((t, i) => t - times[i]);
}

const ACCEPTED = [
    "*-*-* 03:30:00",
    "Sun *-*-* 05:00:00",
    "03:30",
    "*-*-* 3:30",
    "Mon..Fri *-*-* 02,14:05:00",
    "Mon,Wed,Fri 04:00",
    "*-*-01 00:15:00",
    "*-01,07-01 06:00:00",
    "2027-*-* 01:02:03",
    "*-*-* *:30:00",
    "*:30",
    "*-*-* 0/6:45:00",
    "*-*-1..7 04:00",
    "*-*-* 03:30:00 UTC",
    "hourly",
    "daily",
    "weekly",
    "monthly",
    "quarterly",
    "semiannually",
    "yearly",
    "annually",
];

const REFUSED_BY_SYSTEMD = ["*-*-* 25:00:00", "*-*-* 03:60", "Sunday at five", "daily;reboot", "*-13-01 00:00", "Mon..Funday 03:00", "", "03:30:00:00", "*-*-* 03:30 Europe/Nowhere"];
const TOO_OFTEN = ["*-*-* *:*:00", "*:0/5", "*-*-* 03:*", "*-*-* 03:00,30", "*-*-* 03:00:*", "*-*-* 03:00:0/10", "minutely", "*:00..59"];
/** Valid for systemd and at most hourly, but outside the subset (so refused with a message naming the rule). */
const OUTSIDE_SUBSET = ["Monday *-*-* 03:00", "*-*-* 03:30:00.5", "*-*~01 03:00", "@1700000000"];

describe("accepted: systemd parses each, and its elapses are an hour or more apart", () => {
    test.each(ACCEPTED)("%s", (expr) => {
        expect(checkCalendar(expr)).toBeUndefined();
        const gaps = systemd(expr);
        expect(gaps).toBeDefined();
        expect(Math.min(...gaps!)).toBeGreaterThanOrEqual(3600);
    });
});

describe("refused: systemd cannot parse it", () => {
    test.each(REFUSED_BY_SYSTEMD)("%s", (expr) => {
        expect(systemd(expr)).toBeUndefined();
        expect(checkCalendar(expr)).toEqual(expect.any(String));
    });
});

describe("refused: systemd parses it, and it fires more than once an hour", () => {
    test.each(TOO_OFTEN)("%s", (expr) => {
        const gaps = systemd(expr);
        expect(gaps).toBeDefined();
        expect(Math.min(...gaps!)).toBeLessThan(3600);
        expect(checkCalendar(expr)).toMatch(/more than once an hour|every minute/);
    });
});

describe("refused: valid for systemd but outside the subset", () => {
    test.each(OUTSIDE_SUBSET)("%s", (expr) => {
        expect(systemd(expr)).toBeDefined();
        expect(checkCalendar(expr)).toEqual(expect.any(String));
    });
});
