import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { shellQuote, shellWord, shippedFile } from "../../lib/shipped";
import { ROOT } from "../helpers/program";

/** The words sh makes of a command line, each printed NUL-terminated. */
const words = (line: string): string[] => spawnSync("sh", ["-c", `printf '%s\\0' ${line}`], { encoding: "utf8" }).stdout.split("\0").slice(0, -1);

const NASTY = ["it's", `"x" $HOME`, "a b\tc", "'", "''", "`id`", "semi;colon", "back\\slash", "new\nline", "*", "~root", "#hash", ""];

describe("shell quoting", () => {
    test.each(NASTY)("shellQuote(%j) reaches the command as exactly one word, byte for byte", (text) => {
        expect(words(shellQuote(text))).toEqual([text]);
    });

    test.each(NASTY)("shellWord(%j) reaches the command as exactly one word, byte for byte", (text) => {
        expect(words(shellWord(text))).toEqual([text]);
    });

    test("shellWord leaves a word sh reads as itself bare, so plans and rendered commands stay readable", () => {
        for (const plain of ["/usr/local/sbin/visualkit-mount-data", "/dev/disk/by-id/scsi-0HC_Volume_42", "root@203.0.113.10", "a=b,c:d+e%f"]) {
            expect(shellWord(plain)).toBe(plain);
        }
    });

    test("a whole command line of quoted words survives", () => {
        expect(words(NASTY.map(shellQuote).join(" "))).toEqual(NASTY);
    });
});

describe("shipped files", () => {
    test("are read from the project folder, as committed", () => {
        expect(shippedFile("scripts/host/wait-ready.sh")).toBe(readFileSync(join(ROOT, "scripts", "host", "wait-ready.sh"), "utf8"));
    });

    test("a missing one fails naming the path it looked for", () => {
        expect(() => shippedFile("scripts/host/no-such.sh")).toThrow(/shipped file scripts\/host\/no-such\.sh not found under /);
    });
});
