"""Refuses to let a deployment replace Janus while calls are in progress (they would drop).

Run on the host before the Janus container is replaced:
`python3 janus-calls-guard.py <admin-url> [--container=NAME] [--force]`, with
the admin secret on stdin (never on the command line, where `ps` would show it). Counts the handles whose
PeerConnection is up ("ready" in the admin API's handle_info): idle sessions, such as vk-agent's standing WebSocket
session, are not calls. Exit 0: nothing to interrupt (or --force); exit 1: calls in progress, or Janus answers but
refuses or does not answer the admin request (so the count is unknown). Nothing listening at all (a new server, a
stopped Janus) is nothing to interrupt.
"""
import json
import subprocess
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 5


def admin(url, secret, request, **ids):
    path = url.rstrip("/") + "".join(f"/{ids[k]}" for k in ("session_id", "handle_id") if k in ids)
    body = json.dumps({"janus": request, "transaction": f"guard-{request}", "admin_secret": secret}).encode()
    req = urllib.request.Request(path, data=body, headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as response:
        reply = json.loads(response.read().decode())
    if reply.get("janus") != "success":
        reason = (reply.get("error") or {}).get("reason", json.dumps(reply))
        raise PermissionError(f"Janus refused {request}: {reason}")
    return reply


def active_calls(url, secret):
    calls = []
    for session in admin(url, secret, "list_sessions").get("sessions", []):
        for handle in admin(url, secret, "list_handles", session_id=session).get("handles", []):
            info = admin(url, secret, "handle_info", session_id=session, handle_id=handle).get("info", {})
            if info.get("flags", {}).get("ready"):
                calls.append(f"session {session} handle {handle} ({info.get('plugin', 'unknown plugin')})")
    return calls


def janus_running(container):
    """Whether Docker runs the Janus container. Before it exists (a new server) its bridge address is not on the host,
    and a request to it leaves by the default route: a timeout, or whatever answers out there (the real-host tier got
    an HTTP 404), neither of which says anything about calls."""
    out = subprocess.run(
        ["docker", "ps", "--quiet", "--filter", f"name=^{container}$", "--filter", "status=running"],
        check=True, capture_output=True, text=True,
    ).stdout
    return out.strip() != ""


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        print("usage: janus-calls-guard.py <admin-url> [--container NAME] [--force]  (admin secret on stdin)", file=sys.stderr)
        return 2
    url, force = args[0], "--force" in argv[2:]
    container = next((a.split("=", 1)[1] for a in argv if a.startswith("--container=")), None)
    secret = sys.stdin.read().strip()
    if container is not None and not janus_running(container):
        print(f"janus-calls-guard: no running {container} container: no call to interrupt")
        return 0
    try:
        calls = active_calls(url, secret)
    except urllib.error.HTTPError as e:
        return refuse(force, f"Janus's admin API at {url} answered HTTP {e.code}; the number of calls is unknown")
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        if isinstance(reason, ConnectionRefusedError):
            print(f"janus-calls-guard: nothing listens at {url}: no Janus runs, no call to interrupt")
            return 0
        # A Janus that does not answer in time may still carry calls: unknown is not "none".
        return refuse(force, f"Janus's admin API at {url} did not answer ({reason}); the number of calls is unknown")
    except PermissionError as e:
        return refuse(force, f"{e}; the number of calls is unknown (is the admin secret in janus.jcfg the generated one?)")
    if not calls:
        print(f"janus-calls-guard: no call in progress on {url}: Janus may be replaced")
        return 0
    return refuse(force, f"{len(calls)} call(s) in progress on Janus, which this deployment would drop: " + "; ".join(calls))


def refuse(force, problem):
    if force:
        print(f"janus-calls-guard: {problem}. Going ahead anyway: visualkit:janusForceRestart is true.")
        return 0
    print(
        f"janus-calls-guard: {problem}.\n"
        "Deploy again once the calls have ended, or replace Janus now and drop them:\n"
        "  pulumi config set visualkit:janusForceRestart true && pulumi up   (then set it back to false)\n"
        "  (deploy workflow: run it with force_janus_restart checked)",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
