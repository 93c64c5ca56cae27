/**
 * The systemd OnCalendar expressions the backup timers accept: a well-defined subset of systemd's grammar
 * (systemd.time(7)), checked here so a schedule systemd cannot parse is refused before it reaches the host, and one
 * that fires more than once an hour (a backup and `forget --prune` every minute never finishes) is refused too.
 * test/config/calendar.test.ts runs every example of both lists through `systemd-analyze calendar`.
 *
 *   spec     = keyword | [weekdays " "] [date " "] time [" UTC"]
 *   keyword  = hourly | daily | weekly | monthly | quarterly | semiannually | yearly | annually
 *   weekdays = day [".." day] {"," day [".." day]}          day = Mon | Tue | Wed | Thu | Fri | Sat | Sun
 *   date     = (year | "*") "-" (list(1-12) | "*") "-" (list(1-31) | "*")          year = 1970..2199
 *   time     = (list(0-23) | "*" | n "/" step) ":" minute [":" second]   minute, second = one number 0-59
 *   list(r)  = n [".." n] {"," n [".." n]}, every n in r, one or two digits
 */

const KEYWORDS = ["hourly", "daily", "weekly", "monthly", "quarterly", "semiannually", "yearly", "annually"];
const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

function list(text: string, min: number, max: number): boolean {
    return text.split(",").every((item) => {
        const m = item.match(/^(\d{1,2})(?:\.\.(\d{1,2}))?$/);
        if (!m) return false;
        const a = Number(m[1]);
        const b = m[2] === undefined ? a : Number(m[2]);
        return a >= min && b <= max && a <= b;
    });
}

function weekdays(text: string): boolean {
    return text.split(",").every((item) => {
        const [a, b, ...rest] = item.split("..");
        return rest.length === 0 && DAYS.includes(a) && (b === undefined || (DAYS.includes(b) && DAYS.indexOf(a) <= DAYS.indexOf(b)));
    });
}

function date(text: string): boolean {
    const parts = text.split("-");
    if (parts.length !== 3) return false;
    const [y, m, d] = parts;
    const year = y === "*" || (/^\d{4}$/.test(y) && Number(y) >= 1970 && Number(y) <= 2199);
    return year && (m === "*" || list(m, 1, 12)) && (d === "*" || list(d, 1, 31));
}

/** Why `text` is not an expression of the subset above, or undefined when it is. Never throws. */
export function checkCalendar(text: string): string | undefined {
    if (typeof text !== "string" || text.trim() === "") return "is empty";
    if (text.length > 200 || !/^[A-Za-z0-9*,.:/ -]+$/.test(text)) return "is not a systemd calendar expression (letters, digits and * , . : / - only)";
    const words = text.trim().split(/ +/);
    if (words.length === 1 && /^[a-z]+$/.test(words[0])) {
        if (words[0] === "minutely") return "fires every minute; a backup and its prune must not run more than once an hour";
        return KEYWORDS.includes(words[0]) ? undefined : `"${words[0]}" is not a systemd calendar keyword (${KEYWORDS.join(", ")})`;
    }
    if (words[words.length - 1] === "UTC") words.pop();
    const timeText = words.pop();
    if (timeText === undefined) return "has no time of day such as 03:30:00";
    if (words.length > 0 && words[words.length - 1].includes("-") && !date(words[words.length - 1])) return `has a date "${words[words.length - 1]}" that is not year-month-day (each a number, a list or *)`;
    if (words.length > 0 && date(words[words.length - 1])) words.pop();
    if (words.length > 1 || (words.length === 1 && !weekdays(words[0]))) return `has "${words.join(" ")}" where only weekdays (Mon..Fri, Sun) may stand before the date`;
    const t = timeText.split(":");
    if (t.length < 2 || t.length > 3) return `has "${timeText}" where a time of day such as 03:30:00 belongs`;
    const [h, m, s] = t;
    const hourOk = h === "*" || list(h, 0, 23) || /^(\d{1,2})\/(\d{1,2})$/.test(h) && Number(h.split("/")[0]) <= 23 && Number(h.split("/")[1]) >= 1 && Number(h.split("/")[1]) <= 23;
    if (!hourOk) return `has the hour "${h}", which is not a number 0-23, a list of them, * or start/step`;
    const one = (x: string) => /^\d{1,2}$/.test(x) && Number(x) <= 59;
    if (!one(m) || (s !== undefined && !one(s))) {
        return /^[\d,./*]+$/.test(m + (s ?? "")) && (m.includes("*") || m.includes(",") || m.includes("/") || m.includes("..") || (s ?? "").match(/[*,/]|\.\./))
            ? `fires more than once an hour ("${timeText}"): a backup and its prune must not run more often; give one minute, e.g. ${h}:30:00`
            : `has "${timeText}", whose minute and second must each be one number 0-59`;
    }
    return undefined;
}
