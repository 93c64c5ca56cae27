import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import type { RecordedResource } from "../../../mocks/runtime";
import { turnCredentials } from "../../../render/coturn";
import { freePort } from "../../helpers/caddy";
import { TurnTlsSession } from "../../helpers/turn-client";
import { need, type Context, type Phase } from "../lib/context";
import type { Plan } from "../lib/plan";
import { waitFor } from "../lib/proc";
import type { Ssh } from "../lib/ssh";
import { fetchCaddyRoot, smokeAgainstVm } from "./smoke";

/**
 * The TURN service beside Janus on the native host (docs/turn.md): what the `-turn-install` step left there (coturn
 * active on the TURN address, the address on the interface, the nftables redirect of TCP 443, the certificate from
 * Caddy's internal CA), then from this machine through that redirect: `npm run smoke`'s turn row, an Allocate with a
 * credential minted from the render's secret, and a forged one refused.
 *
 * The TURN address is the plan's (the mock's documentation-range Floating IP), on the machine's host0: nothing on this
 * machine routes to it. An SSH local forward (`-L 127.0.0.1:<port>:<TURN address>:443`) makes the machine's sshd open
 * the connection, which passes the nftables `output` chain's DNAT to coturn's 5349 — the same rule that serves a
 * caller, at the hook a health check on the server takes (prerouting is the same match on the other hook).
 */

export interface TurnOutput {
    readonly address: string;
    readonly hostname: string;
    readonly urls: readonly string[];
}

export const turnOf = (plan: Plan): TurnOutput | undefined => (plan.outputs as { turn?: TurnOutput }).turn;

/** The TURN port numbers from the outputs' URLs: coturn's plain and TLS ports and the 443 alias. */
export function turnPorts(turn: TurnOutput): { plain: number; tls: number; alias: number } {
    const port = (re: RegExp) => {
        const u = turn.urls.map((x) => x.match(re)).filter((m): m is RegExpMatchArray => m !== null);
        return u.map((m) => Number(m[1]));
    };
    const tls = port(/^turns:[^:]+:(\d+)/);
    const plain = port(/^turn:[^:]+:(\d+)/);
    if (tls.length < 2 || plain.length < 1) throw new Error(`the turn output's urls are not a 443 alias, a TLS port and a plain port: ${turn.urls.join(" ")}`);
    return { alias: tls[0], tls: tls[1], plain: plain[0] };
}

function installStep(plan: Plan): RecordedResource {
    const found = plan.resources.filter((r) => r.type === "command:remote:Command" && r.name.endsWith("-turn-install"));
    if (found.length !== 1) throw new Error(`expected one -turn-install step in the plan, found ${found.length}`);
    return found[0];
}

/** The render's shared secret, from the turnserver.conf the install step sends on stdin (never printed). */
function renderedSecret(step: RecordedResource): { secret: string; conf: string } {
    const conf = String(step.rawInputs.stdin ?? "");
    const m = conf.match(/^static-auth-secret=(.+)$/m);
    if (!m) throw new Error(`${step.name}: its turnserver.conf has no static-auth-secret`);
    return { secret: m[1], conf };
}

/** Whether 127.0.0.1:<port> accepts a connection. */
function accepts(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const s = connect(port, "127.0.0.1");
        s.once("connect", () => {
            s.destroy();
            resolve(true);
        });
        s.once("error", () => resolve(false));
    });
}

/** `ssh -N -L 127.0.0.1:<free port>:<host>:<port>` through the phase's agent; returns the port and a stop (by PID). */
async function sshForward(ctx: Context, ssh: Ssh, host: string, port: number): Promise<{ port: number; stop: () => void }> {
    const local = await freePort();
    const child = spawn(
        "ssh",
        [
            "-F", "/dev/null",
            "-o", "IdentityFile=none",
            "-o", `IdentityAgent=${ssh.agent.socket}`,
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=no",
            "-o", `UserKnownHostsFile=${join(ctx.dir, "known_hosts")}`,
            "-o", "LogLevel=ERROR",
            "-o", "ExitOnForwardFailure=yes",
            "-N",
            "-L", `127.0.0.1:${local}:${host}:${port}`,
            "-p", String(ssh.port),
            "root@127.0.0.1",
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const stop = () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    };
    try {
        await waitFor(`the SSH forward 127.0.0.1:${local} → ${host}:${port}`, 60_000, async () => {
            if (child.exitCode !== null) throw new Error(`ssh -L exited ${child.exitCode}: ${stderr.trim()}`);
            return (await accepts(local)) ? true : undefined;
        }, 300);
    } catch (e) {
        stop();
        throw e;
    }
    return { port: local, stop };
}

/** Caddy's storage for certificates from its internal CA ("local" issuer). */
const CADDY_CERTS = "/var/lib/caddy/.local/share/caddy/certificates/local";

export const turn: Phase = {
    name: "TURN beside Janus: coturn on the TURN address, 443 redirected, Caddy's certificate, smoke's turn row, a minted credential allocates, a forged one is refused",
    tag: "turn",
    timeoutMs: 6 * 60_000,
    critical: false,
    async run(ctx) {
        const ssh = need(ctx.ssh, "SSH");
        const plan = need(ctx.plan, "the plan");
        const t = turnOf(plan);
        if (!t) throw new Error("the plan has no turn output: the stack's catalog has no TURN service");
        const ports = turnPorts(t);
        const started = Date.now();

        // 1. What the install step left: the units, the address, the redirect, the config the render sent.
        const step = installStep(plan);
        const { secret, conf } = renderedSecret(step);
        const active = (await ssh.exec("systemctl is-active coturn.service visualkit-turn-address.service visualkit-turn-cert-sync.timer")).stdout.trim().replace(/\n/g, " ");
        if (active !== "active active active") throw new Error(`coturn.service, visualkit-turn-address.service, visualkit-turn-cert-sync.timer are "${active}"`);
        const deployed = (await ssh.ok("sha256sum < /etc/turnserver.conf")).split(" ")[0];
        let key = secret;
        if (deployed !== createHash("sha256").update(conf).digest("hex")) {
            // VISUALKIT_HOST_TEST_ATTACH renders again with fresh passwords: the held machine keeps the first run's.
            if (!process.env.VISUALKIT_HOST_TEST_ATTACH) throw new Error("/etc/turnserver.conf is not the turnserver.conf the render sent");
            key = ((await ssh.ok("sed -n 's/^static-auth-secret=//p' /etc/turnserver.conf")).trim());
            ctx.log("attached to a held machine: its turnserver.conf is an earlier render's; minting with its secret");
        }
        const onLink = await ssh.ok(`ip -4 -o addr show | awk '{print $2, $4}' | grep -F ' ${t.address}/32' || true`);
        if (!onLink.trim()) throw new Error(`the TURN address ${t.address} is on no interface of the host: ${await ssh.ok("ip -4 -o addr show")}`);
        const nft = await ssh.ok("nft list table ip visualkit_turn");
        const dnat = `ip daddr ${t.address} tcp dport ${ports.alias} dnat to ${t.address}:${ports.tls}`;
        const chains = nft.split("\n").filter((l) => l.includes(dnat)).length;
        if (chains !== 2) throw new Error(`nftables table visualkit_turn has ${chains} of 2 rules "${dnat}" (prerouting and output):\n${nft}`);
        ctx.log(`coturn, the address unit and the cert-sync timer active; ${t.address}/32 on ${onLink.trim().split(" ")[0]}; TCP ${ports.alias} of it → ${ports.tls} in prerouting and output`);

        // 2. The certificate: the certificate-only Caddy site for turn.<domain> gets one from Caddy's internal CA, and
        //    coturn has that certificate. The install step's own sync ran right after Caddy's reload; if Caddy had not
        //    issued it yet, coturn has none and its TLS listener is closed until the sync timer copies it — the check
        //    says so, and runs the sync as the timer would.
        const caddyCert = `${CADDY_CERTS}/${t.hostname}/${t.hostname}.crt`;
        await waitFor(`Caddy's internal CA to issue ${t.hostname}`, 120_000, async () => ((await ssh.exec(`test -s ${caddyCert}`)).code === 0 ? true : undefined), 1000);
        const same = async () => (await ssh.exec(`cmp -s ${caddyCert} /etc/coturn/tls/turn.crt`)).code === 0;
        if (!(await same())) {
            ctx.log(`after the install step coturn does not have Caddy's certificate for ${t.hostname}: running visualkit-turn-cert-sync as its timer would`);
            await ssh.ok("systemctl start visualkit-turn-cert-sync.service");
            if (!(await same())) throw new Error(`visualkit-turn-cert-sync did not copy ${caddyCert} to /etc/coturn/tls/turn.crt`);
        }
        const issuer = (await ssh.ok("openssl x509 -noout -issuer -enddate -in /etc/coturn/tls/turn.crt")).trim().replace(/\n/g, "; ");
        const keyMode = (await ssh.ok("stat -c '%a %U:%G' /etc/coturn/tls/turn.key")).trim();
        if (keyMode !== "640 root:turnserver") throw new Error(`/etc/coturn/tls/turn.key is ${keyMode}, not 640 root:turnserver`);
        ctx.log(`coturn has Caddy's certificate for ${t.hostname} (${issuer}); key ${keyMode}`);

        // 3. Listeners on the TURN address only: UDP and TCP 3478, TCP 5349 (coturn opens TLS only with a certificate).
        const want = [`udp ${t.address}:${ports.plain}`, `tcp ${t.address}:${ports.plain}`, `tcp ${t.address}:${ports.tls}`];
        const listening = await waitFor("coturn's listeners on the TURN address", 60_000, async () => {
            const ss = await ssh.ok("ss -Hlntu | awk '{print $1, $5}'");
            const lines = ss.trim().split("\n");
            return want.every((w) => lines.includes(w)) ? lines : undefined;
        }, 1000);
        const elsewhere = listening.filter((l) => [ports.plain, ports.tls].some((p) => l.endsWith(`:${p}`)) && !l.includes(t.address));
        if (elsewhere.length) throw new Error(`coturn's ports are open beyond the TURN address: ${elsewhere.join(", ")}`);
        const stun = await ssh.exec(`turnutils_stunclient -p ${ports.plain} ${t.address}`, { timeoutMs: 30_000 });
        if (stun.code !== 0 || !/UDP reflexive addr/i.test(stun.stdout + stun.stderr)) throw new Error(`a STUN Binding over UDP ${t.address}:${ports.plain} got no answer (${stun.code}):\n${stun.stdout}${stun.stderr}`);
        ctx.log(`listening: ${want.join(", ")}; STUN over UDP answers (${(stun.stdout.match(/UDP reflexive addr: *(\S+)/i)?.[1] ?? "mapped")})`);

        // 4. From this machine, through TCP 443 of the TURN address (the redirect): smoke's turn row, then Allocate.
        const forward = await sshForward(ctx, ssh, t.address, ports.alias);
        try {
            const table = await smokeAgainstVm(ctx, { extra: ["--turn-address", `127.0.0.1:${forward.port}`] });
            const row = table.split("\n").find((l) => /^turn\s/.test(l)) ?? "";
            if (!/\sOK\s*$/.test(row)) throw new Error(`smoke's turn row did not pass:\n${table}`);
            ctx.log(`smoke (all rows pass): ${row.replace(/\s+/g, " ").trim()}`);

            const ca = readFileSync(await fetchCaddyRoot(ctx));
            const session = () => TurnTlsSession.connect({ host: "127.0.0.1", port: forward.port, servername: t.hostname, ca });
            const minted = turnCredentials(key, "host-tier", 600);
            const good = await session();
            try {
                const r = await good.allocate(minted.username, minted.credential);
                if (!r.ok) throw new Error(`an Allocate over TLS with a credential minted from the render's secret was refused (${r.code})`);
                if (r.relayed.address !== t.address) throw new Error(`the relayed address is ${r.relayed.address}, not the TURN address ${t.address}`);
                ctx.log(`minted credential: Allocate over ${good.protocol} → relayed ${r.relayed.address}:${r.relayed.port}`);
            } finally {
                good.close();
            }
            const forged = turnCredentials(`${key}x`, "host-tier", 600);
            const bad = await session();
            try {
                const r = await bad.allocate(forged.username, forged.credential);
                if (r.ok || r.code !== 401) throw new Error(`a forged credential was not refused with 401: ${JSON.stringify(r)}`);
                ctx.log("forged credential (another secret): Allocate refused, 401");
            } finally {
                bad.close();
            }
        } finally {
            forward.stop();
        }
        ctx.figure("turn", (Date.now() - started) / 1000);
    },
};
