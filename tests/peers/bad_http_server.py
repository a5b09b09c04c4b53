#!/usr/bin/env python3
"""A misbehaving HTTP "MCP server" for Dialtone's client error-path tests (stdlib only).

Usage:
    bad_http_server.py MODE PORT

    MODE  malformed  every POST gets 200, Content-Type application/json and the
                     truncated body '{"jsonrpc": "2.0", "id": ' (GET/DELETE: 405)
          silent     accepts connections, reads nothing back, never answers
          html       every request gets 200 text/html '<html>oops</html>'
    PORT  TCP port on 127.0.0.1 (0 = pick a free one)

Prints exactly one line 'READY <port>' to stdout once listening. Threaded, so
several connections are served at once. Binds 127.0.0.1 only. Stop it with
SIGTERM/SIGINT.
"""

import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"
MALFORMED_BODY = b'{"jsonrpc": "2.0", "id": '
HTML_BODY = b"<html>oops</html>"
MODES = ("malformed", "silent", "html")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mode = "html"
    server_version = "bad-http-server/1"

    def log_message(self, fmt, *args):  # keep stdout/stderr quiet
        pass

    def _drain_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > 0:
            self.rfile.read(length)

    def _send(self, status, ctype, body):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _handle(self):
        if self.mode == "silent":
            threading.Event().wait()  # never answer; the thread is a daemon
            return
        self._drain_body()
        if self.mode == "html":
            self._send(200, "text/html", HTML_BODY)
        elif self.command == "POST":
            self._send(200, "application/json", MALFORMED_BODY)
        else:
            self._send(405, "text/plain", b"method not allowed\n")

    do_GET = do_POST = do_DELETE = do_PUT = do_HEAD = do_OPTIONS = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main(argv):
    if len(argv) != 3 or argv[1] not in MODES:
        print(f"usage: {argv[0]} {{{'|'.join(MODES)}}} PORT", file=sys.stderr)
        return 2
    try:
        port = int(argv[2])
    except ValueError:
        print(f"{argv[0]}: bad port {argv[2]!r}", file=sys.stderr)
        return 2
    handler = type("Handler", (_Handler,), {"mode": argv[1]})
    try:
        httpd = _Server((HOST, port), handler)
    except OSError as e:
        print(f"{argv[0]}: cannot bind {HOST}:{port}: {e}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.stdout.write(f"READY {httpd.server_address[1]}\n")
    sys.stdout.flush()
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
