#!/usr/bin/env python3
"""Stand-in for the VisualKit application images in the real-host test (test/host): one stdlib script.

  visualkit-standin serve PORT...         platform-api / vk-agent: every port answers HTTP GET with 200 and a JSON
                                          body naming the service and VERSION; a WebSocket upgrade gets a real
                                          RFC 6455 handshake (the first offered subprotocol is accepted).
  bundle exec rails s -p PORT -b ADDR     Chatwoot rails: the same server on PORT (its health check GETs /api).
  bundle exec sidekiq ...                 Chatwoot sidekiq: stays up (its health check is `pgrep -f sidekiq`).
  bundle exec rails db:chatwoot_prepare   Chatwoot's database preparation: reaches Postgres and logs in to Redis
                                          with the env the program passes, then exits 0.

VERSION (env, default "standin") is in every HTTP body so a test can tell which release answers. A VERSION that
starts with "broken" is a release that never turns healthy: it listens, and answers every request with 503.

On SIGTERM (how Docker stops a container) the servers drain like a well-behaved service: they stop accepting, answer
what is in flight with `Connection: close`, and exit once those requests are done (idle keep-alive connections are
closed after IDLE_SECONDS), well inside the program's 30 s stop grace.
"""
import base64
import hashlib
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = os.environ.get("VERSION", "standin")
SERVICE = os.environ.get("VISUALKIT_SERVICE", "standin")
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
BROKEN = VERSION.startswith("broken")
IDLE_SECONDS = 5
draining = threading.Event()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS

    def do_GET(self):
        key = self.headers.get("Sec-WebSocket-Key")
        if key and self.headers.get("Upgrade", "").lower() == "websocket":
            accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", accept)
            offered = self.headers.get("Sec-WebSocket-Protocol")
            if offered:
                self.send_header("Sec-WebSocket-Protocol", offered.split(",")[0].strip())
            self.end_headers()
            self.close_connection = True
            return
        body = json.dumps({"service": SERVICE, "version": VERSION, "path": self.path}).encode() + b"\n"
        self.send_response(503 if BROKEN else 200)
        if draining.is_set():
            self.send_header("Connection", "close")
            self.close_connection = True
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stdout.write("%s %s\n" % (self.address_string(), fmt % args))
        sys.stdout.flush()


class Server(ThreadingHTTPServer):
    # server_close() waits for the requests in flight (a drained stop), not only for the listener.
    daemon_threads = False
    block_on_close = True


def serve(ports, address="0.0.0.0"):
    servers = [Server((address, int(p)), Handler) for p in ports]
    threads = [threading.Thread(target=s.serve_forever) for s in servers]

    def drain(*_):
        draining.set()
        threading.Thread(target=lambda: [s.shutdown() for s in servers]).start()

    signal.signal(signal.SIGTERM, drain)
    for t in threads:
        t.start()
    print("%s %s listening on %s" % (SERVICE, VERSION, ", ".join(str(p) for p in ports)), flush=True)
    for t in threads:
        t.join()
    for s in servers:
        # Connections the kernel completed after the loop's last accept are served too, not reset by the close.
        s.socket.setblocking(False)
        while True:
            try:
                conn, peer = s.socket.accept()
            except (BlockingIOError, OSError):
                break
            conn.setblocking(True)
            s.process_request(conn, peer)
        s.server_close()
    print("%s %s drained and stopped" % (SERVICE, VERSION), flush=True)


def reach(host, port, what):
    deadline = time.time() + 60
    while True:
        try:
            return socket.create_connection((host, int(port)), timeout=5)
        except OSError as e:
            if time.time() > deadline:
                sys.exit("chatwoot_prepare: %s at %s:%s unreachable: %s" % (what, host, port, e))
            time.sleep(2)


def prepare():
    pg = reach(os.environ["POSTGRES_HOST"], os.environ.get("POSTGRES_PORT", "5432"), "Postgres")
    pg.close()
    url = urllib.parse.urlparse(os.environ["REDIS_URL"])
    redis = reach(url.hostname, url.port or 6379, "Redis")
    password = os.environ.get("REDIS_PASSWORD", "")
    redis.sendall(b"AUTH %s\r\nPING\r\n" % password.encode())
    reply = b""
    while reply.count(b"\r\n") < 2:
        chunk = redis.recv(256)
        if not chunk:
            break
        reply += chunk
    if reply != b"+OK\r\n+PONG\r\n":
        sys.exit("chatwoot_prepare: Redis refused the password: %r" % reply)
    print("chatwoot_prepare: database %s ready (stand-in %s)" % (os.environ.get("POSTGRES_DATABASE"), VERSION), flush=True)


def main(argv):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    name = os.path.basename(argv[0])
    args = argv[1:]
    if name == "bundle" and args[:1] == ["exec"]:
        args = args[1:]
        if args[:2] == ["rails", "db:chatwoot_prepare"]:
            return prepare()
        if args[:2] == ["rails", "s"]:
            port = args[args.index("-p") + 1] if "-p" in args else "3000"
            address = args[args.index("-b") + 1] if "-b" in args else "0.0.0.0"
            return serve([port], address)
        if args[:1] == ["sidekiq"]:
            print("sidekiq stand-in %s up" % VERSION, flush=True)
            while True:
                time.sleep(3600)
        sys.exit("bundle stand-in: unknown command %s" % " ".join(args))
    if args[:1] == ["serve"] and len(args) > 1:
        return serve(args[1:])
    sys.exit("usage: visualkit-standin serve PORT... | bundle exec rails s|db:chatwoot_prepare | bundle exec sidekiq")


if __name__ == "__main__":
    main(sys.argv)
