import { spawnSync } from "node:child_process";
import { resolveTarget, TARGET_USAGE } from "./backup/remote";
import { targetNames } from "./deploy/targets";
import { buildCommand, remoteLine, splitArgs, type Operation } from "./operate/commands";

/**
 * `npm run ssh -- <stack> [service] [-- command…]`, `npm run exec -- <stack> <service> [command…]`,
 * `npm run console -- <stack>`: one SSH session to the host the service runs on (its address from the stack outputs,
 * as npm run backup finds it), through the ssh-agent and the same ssh options, the remote command quoted word by word
 * (scripts/operate/commands.ts). Exit status: the remote command's; 255 when SSH itself failed; 2 on bad usage.
 */
const USAGES: Record<Operation, string> = {
    ssh: `usage: npm run ssh -- <stack> [service] [-- command …] ${TARGET_USAGE}`,
    exec: `usage: npm run exec -- <stack> <service> [command …] ${TARGET_USAGE}\n  service: ${targetNames().join(", ")}; command defaults to sh`,
    console: `usage: npm run console -- <stack> ${TARGET_USAGE}  (Chatwoot's bundle exec rails c)`,
};

function main(): number {
    const op = process.argv[2] as Operation;
    const argv = process.argv.slice(3);
    if (!(op in USAGES)) {
        console.error("usage: node scripts/operate.ts ssh|exec|console …");
        return 2;
    }
    if (argv[0] === "--help" || argv[0] === "-h") {
        console.log(USAGES[op]);
        return 0;
    }
    let sshArgs: string[];
    try {
        const { target, stack, name, command } = splitArgs(op, argv);
        if (!stack && !target.host) throw new Error("which stack? give its name (dev, prod)");
        target.stack = stack;
        const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
        const remote = buildCommand(op, name, command, tty);
        // The same resolution as npm run backup (address, ssh options, host key), for the service's host.
        const ssh = resolveTarget(target, undefined, remote.host);
        sshArgs = [...ssh.args, ...(remote.interactive && tty ? ["-t"] : []), "--", ssh.destination, ...(remote.words.length ? [remoteLine(remote.words)] : [])];
    } catch (e) {
        console.error(`${op}: ${(e as Error).message}\n${USAGES[op]}`);
        return 2;
    }
    const res = spawnSync("ssh", sshArgs, { stdio: "inherit" });
    if (res.error) throw res.error;
    if (res.status === 255) console.error(`${op}: ssh failed (exit 255); is the host up, your address in visualkit:sshAllowedCidrs and your key in the agent?`);
    return res.status ?? 1;
}

process.exitCode = main();
