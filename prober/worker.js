// VisualKit outside prober: a Cloudflare Worker run by a cron trigger (components/prober.ts). It checks every public
// route of the stack from Cloudflare's network, not from the server, so it still speaks when the server, its
// Prometheus or its Alertmanager is down. Module syntax, no dependencies; tested in the real workerd runtime
// (test/prober/worker.test.ts) against stand-in routes: up, down, slow, expired certificate.
//
// Bindings (set by the component):
//   CHECKS             JSON list of the stack's health checks ({name, url, kind, expectStatus, subprotocol?})
//   STACK              the stack's name, for the message
//   TIMEOUT_MS         a route slower than this counts as down (default 10000)
//   ALERT_WEBHOOK_URL  secret: where failures are POSTed (Slack-style JSON with a `text` field, plus details)
//
// There is no fetch handler on purpose: nobody on the internet can make it probe or post.

/** One check: the status it answered with, or why it did not. */
async function probe(check, timeoutMs) {
    // fetch() speaks https only; a WebSocket check is an https request asking for the upgrade.
    const url = check.url.replace(/^wss:/, "https:").replace(/^ws:/, "http:");
    const headers = { "User-Agent": "visualkit-prober" };
    if (check.kind === "websocket") {
        headers.Upgrade = "websocket";
        if (check.subprotocol) headers["Sec-WebSocket-Protocol"] = check.subprotocol;
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    const started = Date.now();
    try {
        const res = await fetch(url, { headers, signal: abort.signal, redirect: "manual" });
        const ms = Date.now() - started;
        if (res.webSocket) {
            res.webSocket.accept();
            res.webSocket.close(1000, "probe done");
        } else if (res.body) {
            await res.body.cancel();
        }
        if (res.status !== check.expectStatus) return { name: check.name, url: check.url, ok: false, reason: `status ${res.status}, expected ${check.expectStatus}`, ms };
        return { name: check.name, url: check.url, ok: true, ms };
    } catch (err) {
        const reason = abort.signal.aborted ? `timeout after ${timeoutMs} ms` : `TLS/network error: ${err && err.message ? err.message : String(err)}`;
        return { name: check.name, url: check.url, ok: false, reason };
    } finally {
        clearTimeout(timer);
    }
}

/** Probes every check at once; posts one message when any fails. Returns what it found (for tests and logs). */
export async function run(env) {
    const checks = JSON.parse(env.CHECKS);
    const timeoutMs = Number(env.TIMEOUT_MS || 10000);
    const results = await Promise.all(checks.map((c) => probe(c, timeoutMs)));
    const failing = results.filter((r) => !r.ok);
    console.log(JSON.stringify({ stack: env.STACK, checked: results.length, failing: failing.map((f) => `${f.name}: ${f.reason}`) }));
    if (failing.length === 0) return { results, posted: false };
    const all = failing.length === results.length ? " (all of them: the server or its network is down)" : "";
    const text = `[${env.STACK}] ${failing.length} of ${results.length} public routes failing${all}: ${failing.map((f) => `${f.name} (${f.reason})`).join("; ")}`;
    const body = JSON.stringify({ source: "visualkit-prober", stack: env.STACK, status: "firing", text, failing, checked: results.length, at: new Date().toISOString() });
    const res = await fetch(env.ALERT_WEBHOOK_URL, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    // A webhook that refuses is the run's failure: Cloudflare lists failed cron runs in the Worker's logs.
    if (!res.ok) throw new Error(`alert webhook answered ${res.status}`);
    return { results, posted: true };
}

export default {
    async scheduled(controller, env) {
        // Awaited rather than waitUntil: the run's outcome (a refused webhook) is the cron event's outcome.
        await run(env);
    },
};
