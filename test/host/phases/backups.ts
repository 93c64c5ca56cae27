import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BACKUP_PATHS, BACKUP_TIMERS, PITR_TIMER } from "../../../render/backups";
import { CHATWOOT_DATABASE, DATA_FOLDERS } from "../../../catalog/defaults";
import { need, type Context, type Phase } from "../lib/context";
import { run, runOk } from "../lib/proc";
import { replayCommand } from "../lib/remote";
import { waitHealthy } from "./docker";
import { smokeAgainstVm } from "./smoke";

/**
 * Backups on the real host: the day-2 install step of a render with backups on, the timers it enables, one run of
 * the timer's own service, then the operator commands from this machine over SSH (as a user runs them): a backup, the
 * restore drill, and a restore after rows and a file were deleted, proven by a checksum over the probe table.
 *
 * The repository is an SFTP account on the host itself, reached by restic the way a Storage Box is (its own key, its own
 * user, port 22), since nothing outside the host is reachable from it but Debian's archive.
 */

export const REPO_USER = "vkrepo";
/** The repository's folder in the account's home: the same repository whichever address reaches it (phases/rebuild.ts). */
export const REPO_PATH = "restic-visualkit-dev";
const REPOSITORY = `sftp://${REPO_USER}@127.0.0.1:22/${REPO_PATH}`;
const PROBE_ROWS = 500;
export const PG = `docker exec -i chatwoot-postgres psql -v ON_ERROR_STOP=1 -qAt -U ${CHATWOOT_DATABASE.user} -d ${CHATWOOT_DATABASE.name}`;
const STORAGE = `/mnt/data/${DATA_FOLDERS.chatwootStorage}`;

/** The account's key, made by the backups phase: the stack's `backupSftpPrivateKey`. */
const repositoryKey = (ctx: Context) => join(ctx.dir, "backup-repository-key");

/** The config a render with backups on gets: the stack's repository settings and secrets (a rebuilt host gets the same). */
export function backupConfig(ctx: Context, repository = REPOSITORY): { extra: Record<string, unknown>; secrets: string[] } {
    return {
        extra: { backupsEnabled: true, backupRepository: repository, backupPassword: "host-tier repository password", backupSftpPrivateKey: readFileSync(repositoryKey(ctx), "utf8") },
        secrets: ["backupPassword", "backupSftpPrivateKey"],
    };
}

/** One operator command (`npm run backup|restore -- dev …`) from this machine, through the run's agent. */
export async function operator(ctx: Context, script: "backup" | "restore", args: readonly string[]): Promise<string> {
    const ssh = need(ctx.ssh, "SSH");
    const agents = need(ctx.agents, "the agents");
    const target = ["--host", "root@127.0.0.1", "--port", String(ssh.port), "--known-hosts", join(ctx.dir, "known_hosts")];
    const r = await run("npm", ["run", "-s", script, "--", ctx.stack, ...args, ...target], {
        cwd: ctx.root,
        env: { ...process.env, SSH_AUTH_SOCK: agents.main.socket },
        timeoutMs: 20 * 60_000,
    });
    const out = `${r.stdout}${r.stderr}`.trim();
    if (r.code !== 0) throw new Error(`npm run ${script} -- ${args.join(" ")} exited ${r.code}:\n${out}`);
    ctx.log(`npm run ${script} -- ${[ctx.stack, ...args].join(" ")}: ${out.split("\n").slice(-3).join(" | ")}`);
    return out;
}

const checksum = (ctx: Context) => need(ctx.ssh, "SSH").ok(`${PG} -c "SELECT count(*) || ' ' || md5(string_agg(id || ':' || note, ',' ORDER BY id)) FROM vk_probe"`).then((s) => s.trim());

export const backups: Phase = {
    name: "backups: timers installed, a backup, the drill, and a restore after deleting data",
    tag: "backups",
    timeoutMs: 40 * 60_000,
    critical: false,
    async run(ctx) {
        const ssh = need(ctx.ssh, "SSH");
        const started = Date.now();

        // The repository's account, with its own key (a Storage Box sub-account in production).
        const key = repositoryKey(ctx);
        await runOk("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "visualkit-host-test-repository", "-f", key]);
        await ssh.ok(
            [
                "set -e",
                `id ${REPO_USER} >/dev/null 2>&1 || useradd --create-home --shell /bin/sh ${REPO_USER}`,
                `install -d -m 0700 -o ${REPO_USER} -g ${REPO_USER} /home/${REPO_USER}/.ssh`,
                `cat > /home/${REPO_USER}/.ssh/authorized_keys`,
                `chown ${REPO_USER}: /home/${REPO_USER}/.ssh/authorized_keys`,
                `chmod 0600 /home/${REPO_USER}/.ssh/authorized_keys`,
            ].join("\n"),
            { stdin: readFileSync(`${key}.pub`) },
        );

        // The day-2 step of a render with backups on.
        const config = backupConfig(ctx);
        const plan = await ctx.render(config.extra, config.secrets);
        const install = plan.resources.find((r) => r.type === "command:remote:Command" && r.name.endsWith("-backups-install"));
        if (!install) throw new Error("the render with backupsEnabled has no -backups-install step");
        const installed = await replayCommand(ssh, install);
        ctx.log(`${install.name} ok in ${(installed.ms / 1000).toFixed(0)} s: ${installed.stdout.trim().split("\n").pop()}`);

        const problems: string[] = [];
        const enabled = (await ssh.exec(`systemctl is-enabled ${BACKUP_TIMERS.join(" ")}; systemctl is-active ${BACKUP_TIMERS.join(" ")}`)).stdout.trim().split("\n");
        if (enabled.join(",") !== "enabled,enabled,active,active") problems.push(`timers are ${enabled.join(", ")}, not enabled and active`);
        const mode = (await ssh.ok(`stat -c '%a %U' ${BACKUP_PATHS.env} ${BACKUP_PATHS.sftpKey}`)).trim().split("\n");
        if (mode.some((m) => m !== "600 root")) problems.push(`secret files are ${mode.join(", ")}, not 600 root`);
        const verify = await ssh.exec(`systemd-analyze verify ${BACKUP_PATHS.units}/visualkit-backup*.service ${BACKUP_PATHS.units}/visualkit-backup*.timer`);
        if (verify.code !== 0) problems.push(`systemd-analyze verify: ${(verify.stderr + verify.stdout).trim()}`);
        ctx.log(`timers ${enabled.join(" ")}; secret files ${mode.join(", ")}; units verified`);

        // The timer's own service, once.
        const unit = await ssh.exec("systemctl start visualkit-backup.service", { timeoutMs: 20 * 60_000 });
        const status = (await ssh.exec(`systemctl show -p Result --value visualkit-backup.service; jq -r .backup.lastSuccess ${BACKUP_PATHS.status}`)).stdout.trim().split("\n");
        if (unit.code !== 0 || status[0] !== "success" || !/^\d{4}-/.test(status[1] ?? "")) {
            const journal = await ssh.exec("journalctl -u visualkit-backup.service -n 30 --no-pager");
            throw new Error(`visualkit-backup.service did not succeed (${status.join(", ")}):\n${journal.stdout}`);
        }
        ctx.log(`visualkit-backup.service: ${status[0]}, last success ${status[1]}`);

        // Data only a restore can bring back: rows with a checksum, and an uploaded file.
        await ssh.ok(`${PG} -c "DROP TABLE IF EXISTS vk_probe; CREATE TABLE vk_probe (id integer PRIMARY KEY, note text NOT NULL); INSERT INTO vk_probe SELECT g, md5(g::text) FROM generate_series(1, ${PROBE_ROWS}) g"`);
        await ssh.ok(`install -d ${STORAGE}/probe && echo "uploaded before the backup" > ${STORAGE}/probe/attachment.txt`);
        const before = await checksum(ctx);

        const backupOut = await operator(ctx, "backup", []);
        const snapshot = /snapshot ([0-9a-f]{8,64})/.exec(backupOut)?.[1];
        if (!snapshot) throw new Error(`npm run backup printed no snapshot id:\n${backupOut}`);
        const listed = await operator(ctx, "backup", ["--list"]);
        if (!listed.includes(snapshot.slice(0, 8))) problems.push(`--list does not show snapshot ${snapshot}`);

        const drill = await operator(ctx, "restore", ["--drill"]);
        if (!drill.includes("drill passed")) problems.push(`the drill did not pass:\n${drill}`);
        const drillStatus = (await ssh.ok(`jq -r .drill.lastSuccess ${BACKUP_PATHS.status}`)).trim();
        if (!/^\d{4}-/.test(drillStatus)) problems.push(`the drill's success is not recorded (${drillStatus})`);

        // Lose data, then restore the snapshot into the running platform.
        await ssh.ok(`${PG} -c "DELETE FROM vk_probe WHERE id > 100; UPDATE vk_probe SET note = 'changed'; " && rm -rf ${STORAGE}/probe`);
        if ((await checksum(ctx)) === before) throw new Error("deleting rows did not change the checksum; the check would prove nothing");
        const restored = await operator(ctx, "restore", ["--snapshot", snapshot, "--yes"]);
        if (!restored.includes("done")) problems.push(`restore did not report done:\n${restored}`);
        const after = await checksum(ctx);
        ctx.log(`probe table ${before} before the backup, ${after} after the restore`);
        if (after !== before) problems.push(`the probe table after the restore (${after}) is not what was backed up (${before})`);
        const file = await ssh.exec(`cat ${STORAGE}/probe/attachment.txt`);
        if (!file.stdout.includes("uploaded before the backup")) problems.push("the uploaded file is not back after the restore");
        // Kept under a timestamped name (never dropped by a restore): one per restore so far.
        const kept = (await ssh.ok(`${PG} -c "SELECT count(*) FROM pg_database WHERE starts_with(datname, '${CHATWOOT_DATABASE.name}_before_')"`)).trim();
        if (kept !== "1") problems.push(`the previous database is not kept as ${CHATWOOT_DATABASE.name}_before_<stamp> (found ${kept})`);
        for (const writer of ["chatwoot-rails", "chatwoot-sidekiq"]) await waitHealthy(ssh, writer, 600).catch((e: Error) => problems.push(e.message.split("\n")[0]));

        // Point-in-time recovery in the real containers (PGDATA at the host's path, the spool and socket mounts, pgBackRest
        // on the host): a row at t1, a moment, a row at t3 → `npm run restore -- <stack> --to-time <moment>` brings back
        // t1 and not t3. The push timer runs meanwhile, as on a server.
        const pushTimer = (await ssh.exec(`systemctl is-enabled ${PITR_TIMER}; systemctl is-active ${PITR_TIMER}`)).stdout.trim().split("\n");
        if (pushTimer.join(",") !== "enabled,active") problems.push(`${PITR_TIMER} is ${pushTimer.join(", ")}, not enabled and active`);
        await ssh.ok(`${PG} -c "INSERT INTO vk_probe VALUES (${PROBE_ROWS + 1}, 'pitr t1')"`);
        await new Promise((r) => setTimeout(r, 2000));
        const moment = (await ssh.ok("date -u +%Y-%m-%dT%H:%M:%S.%3NZ")).trim();
        await new Promise((r) => setTimeout(r, 2000));
        await ssh.ok(`${PG} -c "INSERT INTO vk_probe VALUES (${PROBE_ROWS + 2}, 'pitr t3')"`);
        const pitrStarted = Date.now();
        const recovered = await operator(ctx, "restore", ["--to-time", moment, "--yes"]).catch((e: Error) => (problems.push(e.message), ""));
        const rows = (await ssh.ok(`${PG} -c "SELECT string_agg(note, ',' ORDER BY id) FROM vk_probe WHERE id > ${PROBE_ROWS}"`)).trim();
        ctx.log(`restore --to-time ${moment}: ${(Date.now() - pitrStarted) / 1000} s, rows after t0: ${rows}`);
        if (recovered && rows !== "pitr t1") problems.push(`the restore to ${moment} left the rows '${rows}', not 'pitr t1'`);
        for (const writer of ["chatwoot-rails", "chatwoot-sidekiq"]) await waitHealthy(ssh, writer, 600).catch((e: Error) => problems.push(e.message.split("\n")[0]));

        // The freshness check, as the scheduled smoke runs it.
        const fresh = await smokeAgainstVm(ctx, {
            plan,
            extra: ["--backups", "--host", "root@127.0.0.1", "--port", String(ssh.port), "--known-hosts", join(ctx.dir, "known_hosts")],
            env: { ...process.env, SSH_AUTH_SOCK: need(ctx.agents, "the agents").main.socket },
        }).catch((e: Error) => (problems.push(e.message), ""));
        for (const line of fresh.trimEnd().split("\n").filter((l) => /backup|drill/i.test(l))) ctx.log(line);
        ctx.figure("backups", (Date.now() - started) / 1000);
        if (problems.length > 0) throw new Error(problems.join("; "));
    },
};
