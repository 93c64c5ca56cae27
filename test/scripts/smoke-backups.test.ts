import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { backupFreshness } from "../../scripts/smoke/backups";
import { ROOT } from "../helpers/program";

const NOW = new Date("2026-12-01T12:00:00Z");
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000).toISOString();
const verdicts = (status: unknown) => Object.fromEntries(backupFreshness(status, NOW).map((r) => [r.name, r.verdict]));

describe("backup freshness", () => {
    test.each([
        [25, 7 * 24, "ok", "ok"],
        [27, 9 * 24, "warn", "warn"],
        [49, 16 * 24, "fail", "fail"],
    ])("a backup %d h and a drill %d h old: backup %s, drill %s", (backupH, drillH, backup, drill) => {
        expect(verdicts({ backup: { lastSuccess: hoursAgo(backupH) }, drill: { lastSuccess: hoursAgo(drillH) } })).toEqual({ backup, drill });
    });

    test("nothing recorded fails both, saying so", () => {
        const results = backupFreshness({}, NOW);
        expect(results.map((r) => [r.verdict, r.message])).toEqual([
            ["fail", "no successful backup recorded yet"],
            ["fail", "no successful drill recorded yet"],
        ]);
    });

    test("a failure after the last success is shown even while the success is fresh", () => {
        const [backup] = backupFreshness({ backup: { lastSuccess: hoursAgo(5), lastFailure: hoursAgo(1), lastError: "restic backup failed" }, drill: { lastSuccess: hoursAgo(1) } }, NOW);
        expect(backup.verdict).toBe("warn");
        expect(backup.message).toContain("restic backup failed");
    });
});

describe("npm run smoke -- --backup-status", () => {
    let server: Server;
    let dir: string;
    let outputs: string;
    beforeAll(async () => {
        dir = mkdtempSync("/tmp/vk-smoke-backups-");
        server = createServer((_, res) => res.end("ok"));
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
        const { port } = server.address() as { port: number };
        outputs = join(dir, "outputs.json");
        writeFileSync(outputs, JSON.stringify({ healthChecks: [{ name: "api", url: `http://127.0.0.1:${port}/`, kind: "http", expectStatus: 200 }] }));
    });
    afterAll(async () => {
        await new Promise((r) => server.close(r));
        rmSync(dir, { recursive: true, force: true });
    });

    const smoke = (args: string[]) =>
        new Promise<{ status: number | null; stdout: string }>((resolve) => {
            const child = spawn(process.execPath, [join(ROOT, "scripts", "run-ts.js"), join(ROOT, "scripts", "smoke.ts"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
            let stdout = "";
            child.stdout.on("data", (d) => (stdout += String(d)));
            child.on("close", (status) => resolve({ status, stdout }));
        });

    test("prints the ages next to the health checks and fails on a stale backup, while plain smoke ignores backups", async () => {
        const now = Date.now();
        const status = join(dir, "status.json");
        writeFileSync(status, JSON.stringify({ backup: { lastSuccess: new Date(now - 50 * 3_600_000).toISOString() }, drill: { lastSuccess: new Date(now - 3_600_000).toISOString() } }));
        const stale = await smoke([outputs, "--backup-status", status]);
        expect(stale.status).toBe(1);
        expect(stale.stdout).toMatch(/^backup\s+\S+\s+2\.1 days\s+FAIL last successful backup 2\.1 days ago \(over 2\.0 days\)$/m);
        expect(stale.stdout).toMatch(/^drill\s+\S+\s+1\.0 h\s+OK$/m);
        const plain = await smoke([outputs]);
        expect(plain.status).toBe(0);
        expect(plain.stdout).not.toContain("BACKUPS");
    });
});
