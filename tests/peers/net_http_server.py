#!/usr/bin/env python3
"""A plain HTTP server for the Net tests (stdlib only): it parses what Dialtone sends with
Python's own HTTP parser and says what it saw.

Usage:
    net_http_server.py

Routes (any method):
    /echo            200 application/json {method, path, query, headers, body, bodyHex};
                     answer headers X-Echo: yes and two Set-Cookie lines
    /status/NNN      NNN text/plain "status NNN"
    /slow?s=N        waits N seconds, then 200 "in flight K": K is how many /slow requests
                     were being answered when this one arrived, itself included
    /big?bytes=N     200 with N bytes of 'x' (Content-Length set)
    /chunked?bytes=N 200 with N bytes of 'x', chunked (no Content-Length)
    /binary          200 application/octet-stream: the bytes 0..255
    /loop            302 to /loop, forever
    /redirect        302 to /echo

Prints 'READY <port>' once listening on 127.0.0.1 (an OS-chosen port) and one line
'REQUEST <METHOD> <path>' on stderr per request. Threaded. Stop it with SIGTERM.
"""

import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


IN_FLIGHT = 0
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "net-test-server/1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body, content_type="text/plain", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        print(f"REQUEST {self.command} {url.path}", file=sys.stderr, flush=True)
        if url.path == "/echo":
            seen = {
                "method": self.command,
                "path": url.path,
                "query": query,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
                "bodyHex": body.hex(),
            }
            self.answer(200, json.dumps(seen, sort_keys=True).encode(), "application/json",
                        [("X-Echo", "yes"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
        elif url.path.startswith("/status/"):
            code = int(url.path.rsplit("/", 1)[1])
            self.answer(code, f"status {code}".encode())
        elif url.path == "/slow":
            global IN_FLIGHT
            with LOCK:
                IN_FLIGHT += 1
                seen = IN_FLIGHT
            try:
                time.sleep(float(query.get("s", "5")))
                self.answer(200, f"in flight {seen}".encode())
            finally:
                with LOCK:
                    IN_FLIGHT -= 1
        elif url.path == "/big":
            self.answer(200, b"x" * int(query["bytes"]))
        elif url.path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            left = int(query["bytes"])
            while left > 0:
                n = min(left, 65536)
                self.wfile.write(f"{n:x}\r\n".encode() + b"x" * n + b"\r\n")
                left -= n
            self.wfile.write(b"0\r\n\r\n")
        elif url.path == "/binary":
            self.answer(200, bytes(range(256)), "application/octet-stream")
        elif url.path == "/loop":
            self.answer(302, b"", extra=[("Location", "/loop")])
        elif url.path == "/redirect":
            self.answer(302, b"", extra=[("Location", "/echo")])
        else:
            self.answer(404, b"no such route")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"READY {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
