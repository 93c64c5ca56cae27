import { loadavg } from "node:os";
import { BACKUP_PATHS } from "../../../render/backups";
import { need, type Context, type Phase } from "../lib/context";
import { ExtraHost } from "../lib/extra-host";
import type { Ssh } from "../lib/ssh";
import { backupConfig, operator, PG, REPO_PATH, REPO_USER } from "./backups";
import { replayCommands } from "./commands";
import { dockerImages, dockerServices } from "./docker";
import { smokeAgainstVm } from "./smoke";

/**
 * The rebuild drill (issue 25): the server is lost for good; a new one is built from nothing but the stack and the
 * backups, the way the runbook in docs/backups.md says, and the time from "server lost" to smoke green is printed.
 *
 * The new server is a second native host (lib/extra-host.ts) booted from the same server disk with the same committed
 * user-data. On it, as `pulumi up` would: the images, the remote steps of a render with the stack's backup settings
 * (the Backups install included) and the containers from that plan. Then the operators' commands from this machine:
 * `npm run backup -- dev --list`, `npm run restore -- dev --snapshot <newest> --yes`, `npm run smoke`. The restored
 * database (every table's row count and a checksum of the probe table the backups phase wrote) and files (every file
 * and link under the backed-up folders) must be what the first host had.
 *
 * The repository is the backups phase's SFTP account (test stand-in for the backup box). It lives on the first host
 * only because nothing else is reachable here: the new server reaches it as a box elsewhere, by address and port
 * (a forward on its veth's host end to the first host's sshd), with the stack's key and password — no file, database
 * or setting is copied from the first host. The first host is read only to know what the restore must give back.
 * The new server's repository address differs from the first's (127.0.0.1 there) only because of the tier's network.
 */

/** What a restore must bring back, as one comparable text per part. */
interface DataState {
    readonly probe: string;
    readonly tables: string;
    readonly files: string;
}

async function dataState(ssh: Ssh): Promise<DataState> {
    // query_to_xml runs its query only when the table exists: a host without the probe table says so, not an error.
    const probe = await ssh.ok(
        `${PG} -c "SELECT CASE WHEN to_regclass('public.vk_probe') IS NULL THEN 'no vk_probe table' ELSE (xpath('/row/c/text()', query_to_xml('SELECT count(*) || '' '' || md5(string_agg(id || '':'' || note, '','' ORDER BY id)) AS c FROM vk_probe', false, true, '')))[1]::text END"`,
    );
    const tables = await ssh.ok(
        `${PG} -c "SELECT table_name || '=' || (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"`,
    );
    // Every file and link under the paths the host's own backup settings name (what a snapshot holds).
    const files = await ssh.ok(
        `. ${BACKUP_PATHS.conf}; for p in $VISUALKIT_BACKUP_PATHS; do [ -e "$p" ] || echo "missing $p"; done; find $VISUALKIT_BACKUP_PATHS -type f -exec md5sum {} + 2>/dev/null | sort -k2; find $VISUALKIT_BACKUP_PATHS -type l -printf '%p -> %l\\n' 2>/dev/null | sort`,
    );
    return { probe: probe.trim(), tables: tables.trim(), files: files.trim() };
}

/** The lines of `want` missing from `got` and the other way round, for a short message. */
function differences(want: string, got: string): string {
    const a = new Set(want.split("\n").filter(Boolean));
    const b = new Set(got.split("\n").filter(Boolean));
    const lost = [...a].filter((l) => !b.has(l));
    const extra = [...b].filter((l) => !a.has(l));
    return [lost.length ? `missing ${lost.slice(0, 8).join(", ")}${lost.length > 8 ? ` (+${lost.length - 8})` : ""}` : "", extra.length ? `unexpected ${extra.slice(0, 8).join(", ")}${extra.length > 8 ? ` (+${extra.length - 8})` : ""}` : ""].filter(Boolean).join("; ");
}

export const rebuild: Phase = {
    name: "rebuild drill: a new host from the render and the backups, restored by npm run restore, smoke passes",
    tag: "rebuild",
    timeoutMs: 30 * 60_000,
    critical: false,
    async run(ctx) {
        const first = need(ctx.ssh, "SSH");
        // The first host's address on its veth (host0's /30; the TURN address is on host0 too), from itself: also right
        // when attached to a held host.
        const firstAddress = (await first.ok("ip -4 -o addr show dev host0 | awk '$4 ~ /\\/30$/ {print $4}' | cut -d/ -f1")).trim();
        if (!/^\d+\.\d+\.\d+\.\d+$/.test(firstAddress)) throw new Error(`the first host's host0 address is "${firstAddress}"`);
        // What the first host had when it was "lost" is its last snapshot: the backups phase wrote rows after its own
        // backup (its point-in-time restore), so the night's backup runs first (`npm run backup`, as the timer would).
        await operator(ctx, "backup", []);
        const had = await dataState(first);
        if (had.probe.startsWith("no ")) throw new Error("the first host has no vk_probe table: the backups phase did not run, the drill would prove nothing");
        ctx.log(`the first host had: vk_probe ${had.probe}; ${had.tables.split("\n").length} tables; ${had.files.split("\n").length} files and links under the backed-up paths`);

        const lost = Date.now();
        const steps: [string, number][] = [];
        const step = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
            const t0 = Date.now();
            const result = await f();
            const s = (Date.now() - t0) / 1000;
            steps.push([what, s]);
            ctx.log(`${what}: ${s.toFixed(0)} s`);
            return result;
        };
        let extra: ExtraHost | undefined;
        let passed = false;
        try {
            extra = await step("new server: boot → cloud-init done", () => ExtraHost.boot(ctx, "rebuild"));
            const box = await extra.reach(firstAddress, 22);
            const config = backupConfig(ctx, `sftp://${REPO_USER}@${box.address}:${box.port}/${REPO_PATH}`);
            const plan = await step("render (the stack with its backup settings)", () => ctx.render(config.extra, config.secrets));
            // The tier's own phases against the new machine; their figures are this drill's steps, not the first host's.
            const host: Context = { ...extra.ctx, plan, figure: () => undefined };
            await step("images imported ∥ remote steps (Backups install included)", () => Promise.all([dockerImages.run(host), replayCommands.run(host)]));
            await step("containers from the plan, healthy", () => dockerServices.run(host));
            const listed = await step("npm run backup -- dev --list", () => operator(host, "backup", ["--list"]));
            const newest = [...listed.matchAll(/^([0-9a-f]{8})\s/gm)].pop()?.[1];
            if (!newest) throw new Error(`npm run backup -- --list shows no snapshot:\n${listed}`);
            const restored = await step(`npm run restore -- dev --snapshot ${newest} --yes`, () => operator(host, "restore", ["--snapshot", newest, "--yes"]));
            if (!restored.includes("done")) throw new Error(`npm run restore did not report done:\n${restored}`);
            await step("npm run smoke", () => smokeAgainstVm(host));
            const total = (Date.now() - lost) / 1000;
            ctx.figure("rebuild: server lost → smoke green", total);
            ctx.log(`recovery time ${total.toFixed(0)} s (${(total / 60).toFixed(1)} min), server lost → smoke green:`);
            for (const [what, s] of steps) ctx.log(`  ${s.toFixed(0).padStart(5)} s  ${what}`);
            ctx.log(`the new machine uses ${extra.memoryMiB()} MiB (PSS of its processes); load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);

            const got = await dataState(need(host.ssh, "SSH"));
            const problems: string[] = [];
            if (got.probe !== had.probe) problems.push(`vk_probe is "${got.probe}" on the new host, "${had.probe}" on the first`);
            if (got.tables !== had.tables) problems.push(`row counts differ: ${differences(had.tables, got.tables)}`);
            if (got.files !== had.files) problems.push(`files differ: ${differences(had.files, got.files)}`);
            if (problems.length > 0) throw new Error(`the new host's data is not the first host's: ${problems.join("; ")}`);
            ctx.log(`restored data matches the first host: vk_probe ${got.probe}, ${got.tables.split("\n").length} tables' row counts, ${got.files.split("\n").length} files and links`);

            // The runbook's last step (after the recovery time): the new host's own first backup, the drill, and smoke
            // with --backups reading the new host's backup status.
            const t0 = Date.now();
            await operator(host, "backup", []);
            const drill = await operator(host, "restore", ["--drill"]);
            if (!drill.includes("drill passed")) throw new Error(`the drill on the new host did not pass:\n${drill}`);
            const fresh = await smokeAgainstVm(host, {
                plan,
                extra: ["--backups", "--host", "root@127.0.0.1", "--port", String(need(host.ssh, "SSH").port), "--known-hosts", `${host.dir}/known_hosts`],
                env: { ...process.env, SSH_AUTH_SOCK: need(ctx.agents, "the agents").main.socket },
            });
            for (const line of fresh.trimEnd().split("\n").filter((l) => /backup|drill/i.test(l))) ctx.log(line);
            ctx.log(`after recovery: the new host's first backup, the drill and smoke --backups in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
            passed = true;
        } finally {
            if (extra) {
                const t0 = Date.now();
                await extra.stop();
                const left = await extra.leftovers();
                // Thrown only after a pass: a failure's own error says more (and is not replaced by this one).
                if (left.length > 0 && passed) throw new Error(`the new machine left behind: ${left.join(", ")}`);
                if (left.length > 0) ctx.log(`✘ the new machine left behind: ${left.join(", ")}`);
                else ctx.log(`new machine stopped and removed in ${((Date.now() - t0) / 1000).toFixed(0)} s: no loop device, mount, veth or folder left`);
            }
        }
    },
};
