#!/usr/bin/env python3
"""A minimal MCP server over stdio, written without an SDK, for what the SDK servers do not do
on demand: it pages tools/list (3 tools a page, 7 tools, or PAGED_TOOLS + 1), and the `notify` tool sends
notifications/tools/list_changed, a notifications/message (logging) and a notification no
specification defines (notifications/dialtone/weather) before its result.

Speaks the initialize handshake with whatever protocol version the client offers, or answers
ANSWER_REVISION from the environment when it is set (a server of another revision).
Reads newline-delimited JSON-RPC from stdin, writes to stdout; logs to stderr.
"""

import json
import os
import sys

# PAGED_TOOLS in the environment: how many numbered tools (default 6), to test long lists.
COUNT = int(os.environ.get("PAGED_TOOLS", "6"))
TOOLS = [{"name": f"tool-{i}", "description": f"tool number {i}", "inputSchema": {"type": "object"}} for i in range(1, COUNT + 1)]
TOOLS.append({"name": "notify", "description": "sends notifications, then returns", "inputSchema": {"type": "object"}})
PAGE = 3


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def result(request_id, value):
    send({"jsonrpc": "2.0", "id": request_id, "result": value})


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        message = json.loads(line)
        method = message.get("method")
        request_id = message.get("id")
        params = message.get("params") or {}
        if request_id is None:
            print(f"NOTIFICATION {method}", file=sys.stderr, flush=True)
            continue
        if method == "initialize":
            result(request_id, {
                "protocolVersion": os.environ.get("ANSWER_REVISION") or params.get("protocolVersion", "2025-06-18"),
                "capabilities": {"tools": {"listChanged": True}, "logging": {}},
                "serverInfo": {"name": "paged-stdio", "version": "1.0.0"},
            })
        elif method == "tools/list":
            start = int(params.get("cursor") or 0)
            page = {"tools": TOOLS[start:start + PAGE]}
            if start + PAGE < len(TOOLS):
                page["nextCursor"] = str(start + PAGE)
            result(request_id, page)
        elif method == "tools/call":
            name = params.get("name")
            if name == "notify":
                send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
                send({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "logger": "paged", "data": "hello from the server"}})
                send({"jsonrpc": "2.0", "method": "notifications/dialtone/weather", "params": {"sky": "clear"}})
            if name == "environ":
                # The names of the variables this process was started with.
                text = ",".join(sorted(os.environ))
            else:
                text = f"called {name}"
            result(request_id, {"content": [{"type": "text", "text": text}], "isError": False})
        elif method == "ping":
            result(request_id, {})
        else:
            send({"jsonrpc": "2.0", "id": request_id, "error": {"code": -32601, "message": f"unknown method {method}"}})


if __name__ == "__main__":
    main()
