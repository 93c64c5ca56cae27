/**
 * Every metric an alert rule reads is one that something on the host really emits: Debian's node-exporter, Postgres
 * and Redis exporters and Alertmanager (run here on loopback ports and scraped), Caddy 2.6 (its metrics handler after
 * one request), and visualkit-metrics (the names its script writes; test/scripts/visualkit-metrics.test.ts runs it).
 * A rule on a misspelt or renamed metric would otherwise never fire, and its promtool unit test would not notice.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { alertRules } from "../../render/alert-rules";
import { freePort, waitFor } from "../helpers/caddy";
import { ROOT } from "../helpers/program";

let dir: string;
const procs: ChildProcess[] = [];
beforeAll(() => {
    dir = mkdtempSync("/tmp/vk-exporters-");
});
afterAll(async () => {
    // Stopped by their own PIDs, and waited for, so no process outlives the test.
    await Promise.all(procs.map((p) => new Promise((done) => (p.exitCode !== null ? done(null) : (p.once("exit", done), p.kill())))));
    rmSync(dir, { recursive: true, force: true });
});

/** Starts a binary and returns the metric names on its /metrics once it answers. */
async function scrape(cmd: string, args: (port: number) => string[], path = "/metrics", env: NodeJS.ProcessEnv = process.env, prime?: (port: number) => Promise<unknown>) {
    const port = await freePort();
    const proc = spawn(cmd, args(port), { stdio: "ignore", env });
    procs.push(proc);
    return waitFor(`${cmd} to answer`, async () => {
        if (prime) await prime(port);
        const text = await fetch(`http://127.0.0.1:${port}${path}`).then((r) => (r.ok ? r.text() : undefined), () => undefined);
        return text ? new Set([...text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{| )/gm)].map((m) => m[1])) : undefined;
    });
}

test("every metric the alert rules read is emitted by the exporter that feeds it", async () => {
    const emitted = new Set<string>(["up"]); // Prometheus's own, per scrape target.
    const add = (names: Set<string>) => names.forEach((n) => emitted.add(n));
    add(await scrape("prometheus-node-exporter", (p) => [`--web.listen-address=127.0.0.1:${p}`, `--collector.textfile.directory=${dir}`]));
    // Nothing to connect to: they still report pg_up / redis_up 0, which is what the rules read.
    add(await scrape("prometheus-postgres-exporter", (p) => [`--web.listen-address=127.0.0.1:${p}`], "/metrics", { ...process.env, DATA_SOURCE_NAME: "host=127.0.0.1 port=1 user=x dbname=x sslmode=disable connect_timeout=1" }));
    add(await scrape("prometheus-redis-exporter", (p) => [`-web.listen-address=127.0.0.1:${p}`, "-redis.addr=redis://127.0.0.1:1"]));
    add(
        await scrape("prometheus-alertmanager", (p) => [
            `--web.listen-address=127.0.0.1:${p}`,
            "--cluster.listen-address=",
            `--storage.path=${join(dir, "am")}`,
            `--config.file=${writeConfig("am.yml", "route: {receiver: r}\nreceivers: [{name: r}]\n")}`,
        ]),
    );
    // Caddy counts requests per server once one has been served.
    const site = await freePort();
    add(
        await scrape(
            "caddy",
            (p) => ["run", "--adapter", "caddyfile", "--config", writeConfig("Caddyfile", `{\n\tadmin off\n\tservers {\n\t\tmetrics\n\t}\n}\nhttp://127.0.0.1:${p} {\n\tmetrics\n}\nhttp://127.0.0.1:${site} {\n\trespond 502\n}\n`)],
            "/metrics",
            { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, "data"), XDG_CONFIG_HOME: join(dir, "config") },
            () => fetch(`http://127.0.0.1:${site}/`).catch(() => undefined),
        ),
    );
    const script = readFileSync(join(ROOT, "scripts/host/visualkit-metrics.sh"), "utf8");
    for (const m of script.matchAll(/\bmetric (visualkit_[a-z0-9_]+) /g)) emitted.add(m[1]);

    const read = new Set(
        Object.values(alertRules("/mnt/data"))
            .flat()
            .flatMap((r) => [...r.expr.replace(/"[^"]*"/g, "").matchAll(/\b(up|(?:node|pg|redis|caddy|alertmanager|visualkit)_[a-zA-Z0-9_]+)\b/g)].map((m) => m[1])),
    );
    expect(read.size).toBeGreaterThan(15);
    expect([...read].filter((m) => !emitted.has(m)).sort()).toEqual([]);
}, 90_000);

function writeConfig(name: string, text: string): string {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
}
