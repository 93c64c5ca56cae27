import type { ContainerHealth } from "../catalog/types";

/**
 * The Docker health-check command of a catalog container. Pure, so the tests run the exact shell text against a real
 * HTTP server.
 *
 * An `http` check probes the service from inside its own container. Images differ in what they ship (the reference's
 * platform-api has curl, Alpine images only busybox wget, Python slim images neither), so the probe uses the first of
 * curl, wget and python3 that exists; any of them fails on a non-2xx answer.
 */
export function healthcheckTest(health: ContainerHealth, address = "127.0.0.1"): string[] {
    if (health.kind === "command") return [...health.test];
    if (!/^[\w.:-]+$/.test(address)) throw new Error(`health check: address ${address} is not a plain IP address or hostname`);
    if (health.kind === "tcp") return ["CMD-SHELL", tcpProbe(address, health.port, PROBE_TIMEOUT_SECONDS)];
    if (!/^\/[\w./?=&%-]*$/.test(health.path)) throw new Error(`health check: path ${health.path} needs quoting; use a plain path`);
    return ["CMD-SHELL", httpProbe(`http://${address}:${health.port}${health.path}`, PROBE_TIMEOUT_SECONDS)];
}

/** Under the check's own 10 s timeout, so a hanging service reports a failure rather than a killed probe. */
export const PROBE_TIMEOUT_SECONDS = 8;

export function httpProbe(url: string, timeoutSeconds: number): string {
    return [
        `u='${url}'`,
        `if command -v curl >/dev/null 2>&1; then curl -fsS -o /dev/null --max-time ${timeoutSeconds} "$u"`,
        `elif command -v wget >/dev/null 2>&1; then wget -q -O /dev/null -T ${timeoutSeconds} "$u"`,
        `else python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=${timeoutSeconds})' "$u"; fi`,
    ].join("; ");
}

/** Connects and closes: nc (busybox has it), else bash's /dev/tcp, else python3. */
export function tcpProbe(address: string, port: number, timeoutSeconds: number): string {
    return [
        `if command -v nc >/dev/null 2>&1; then nc -z -w ${timeoutSeconds} ${address} ${port}`,
        `elif command -v bash >/dev/null 2>&1; then timeout ${timeoutSeconds} bash -c "exec 3<>/dev/tcp/${address}/${port}"`,
        `else python3 -c 'import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), ${timeoutSeconds}).close()' ${address} ${port}; fi`,
    ].join("; ");
}
