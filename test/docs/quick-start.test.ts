import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../helpers/program";

/*
 * The README's quick start ends with a local smoke: Debian's Caddy serving the committed rendered/dev/Caddyfile on
 * 127.0.0.1, the real-host tier's stand-in in place of every service, and `npm run smoke` on the rendered outputs.
 * This runs the block as written, in the private network namespace it asks for (the services' fixed ports and
 * 172.18.0.1 exist only there, so nothing else on the machine is touched), and checks the result the README promises.
 */

const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const block = readme.match(/```sh\n(unshare -rn bash\n[\s\S]*?)```/)?.[1];
const promised = readme.match(/It ends `(\d+ checks: [^`]+)`/)?.[1];

test("the README has the local smoke block and says what it prints", () => {
    expect(block).toBeDefined();
    expect(promised).toBeDefined();
});

test("the local smoke runs as written and ends as the README says", () => {
    // The first line opens the namespace; the rest runs inside it. A namespace of its own PIDs as well, so whatever the
    // block starts in the background dies with it even if the block does not get to its `kill`.
    const script = block!.split("\n").slice(1).join("\n");
    const run = spawnSync("unshare", ["--user", "--map-root-user", "--net", "--pid", "--fork", "--kill-child", "bash", "-c", script], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 90_000,
    });
    const output = `${run.stdout}\n${run.stderr}`;
    expect({ status: run.status, output }).toEqual({ status: 0, output: expect.stringContaining(promised!) });
    // Every service row went through Caddy to its stand-in, the WebSockets included.
    for (const name of ["api", "ws", "agent", "janus", "janusApi", "support", "cdn"]) {
        expect(output).toMatch(new RegExp(`^${name} .* OK$`, "m"));
    }
}, 120_000);
