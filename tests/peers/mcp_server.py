#!/usr/bin/env python3
"""Dialtone's MCP test peer: a small dice/echo server on PyPI `mcp`.

Runs unchanged under mcp 2.x (``mcp.server.mcpserver.MCPServer``) and mcp 1.x
(``mcp.server.fastmcp.FastMCP``); install both with tests/peers/install-mcp-peers.sh.

Usage:
    mcp_server.py TRANSPORT PORT [--token TOKEN] [--seed N]

    TRANSPORT  ``streamable-http`` (endpoint /mcp) or ``sse`` (GET /sse, POST /messages/?session_id=...)
    PORT       TCP port on 127.0.0.1; 0 picks a free port (the script binds the
               socket itself and hands it to uvicorn, so the real port is known).
    --token    require ``Authorization: Bearer TOKEN`` on every MCP request
               (401 + WWW-Authenticate otherwise), via the SDK's token_verifier +
               AuthSettings. /.well-known/oauth-protected-resource is served.
    --seed     seed the dice RNG (reproducible rolls).
    --oauth TTL  be an OAuth 2.1 protected resource *and* its own authorization server,
               with the SDK's routes (metadata, dynamic registration, /authorize, /token,
               PKCE) over an in-memory provider that approves every authorization at
               once (redirect straight back with the code), issues access tokens valid
               TTL seconds and rotates refresh tokens (a used one stops working). Scope
               "mcp". Prints ``TOKEN authorization_code`` / ``TOKEN refresh_token`` /
               ``TOKEN refused <why>`` to stderr for every token request.

Once the socket accepts connections, exactly one line ``READY <port>`` is printed
to stdout (flushed). Nothing else is written to stdout; logs go to stderr.
Always binds 127.0.0.1 only. SIGTERM/SIGINT stop it (graceful timeout 1 s).

Tools: roll(diceRollExpression), echo(message), slow(seconds) (progress every
0.5 s when the request carries a progressToken), hang(), big(megabytes),
fail(message), meta() (answers the request's _meta), tell(message) (sends it as a log notification first). Resource: dice://rules. Prompt: roll-prompt(dice).

Injected faults, in front of the SDK's app (the names are not tools; the SDK never
sees those requests, except garble-stream):
  tools/call "http-500"       that POST is answered 500 text/plain
  tools/call "not-json"       that POST is answered 200 application/json '{oops'
  tools/call "garble-stream"  (sse) runs as echo, and the data of the next `message`
                              event on the SSE stream is replaced by '{oops'
  GET /sse?foreign=1          the endpoint event names http://localhost:PORT/...
                              (another origin than the 127.0.0.1 the client used)
"""

import argparse
import asyncio
import hmac
import json
import random
import re
import socket
import sys

try:  # mcp 2.x
    from mcp.server.mcpserver import Context
    from mcp.server.mcpserver import MCPServer as _Server
    from mcp.server.mcpserver.exceptions import ToolError

    MCP_MAJOR = 2
except ImportError:  # mcp 1.x
    from mcp.server.fastmcp import Context
    from mcp.server.fastmcp import FastMCP as _Server
    from mcp.server.fastmcp.exceptions import ToolError

    MCP_MAJOR = 1

import secrets as _secrets
import time

import uvicorn
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    RefreshToken,
    TokenError,
    construct_redirect_uri,
)
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions
from mcp.shared.auth import OAuthToken

HOST = "127.0.0.1"
MAX_DICE = 1000
MAX_SIDES = 1_000_000
MAX_BIG_MB = 512

DICE_RULES = """Dice expressions (tool `roll`, argument `diceRollExpression`):
  NdM   roll N dice with M sides (N defaults to 1: `d20` = `1d20`)
  K     a constant
Terms are joined with + or -; spaces are ignored. Examples: `2d6 + 1d4`, `d20+5`, `3d6 - 2`.
The text result is `<expression> = <total> (rolls [r1, r2, ...])`;
structuredContent is {"result": <that text>}.
"""

_TERM = re.compile(r"([+-])?(?:(\d*)[dD](\d+)|(\d+))")


class StaticTokenVerifier:
    """Accepts exactly one static bearer token (the SDK's TokenVerifier protocol)."""

    def __init__(self, token: str):
        self._token = token

    async def verify_token(self, token: str):
        if hmac.compare_digest(token.encode(), self._token.encode()):
            return AccessToken(token=token, client_id="dialtone-test", scopes=[], expires_at=None)
        return None


class AutoApproveProvider:
    """An in-memory OAuth authorization server (the SDK's provider protocol) that approves at
    once, issues short-lived access tokens and rotates refresh tokens."""

    def __init__(self, ttl: int):
        self.ttl = ttl
        self.clients, self.codes, self.refresh, self.access = {}, {}, {}, {}

    async def get_client(self, client_id):
        return self.clients.get(client_id)

    async def register_client(self, client_info):
        self.clients[client_info.client_id] = client_info

    async def authorize(self, client, params):
        code = _secrets.token_urlsafe(16)
        self.codes[code] = AuthorizationCode(
            code=code, scopes=params.scopes or ["mcp"], expires_at=time.time() + 300,
            client_id=client.client_id, code_challenge=params.code_challenge,
            redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            resource=params.resource,
        )
        return construct_redirect_uri(str(params.redirect_uri), code=code, state=params.state)

    async def load_authorization_code(self, client, code):
        return self.codes.get(code)

    def _issue(self, client_id, scopes, resource):
        access, refresh = _secrets.token_urlsafe(16), _secrets.token_urlsafe(16)
        self.access[access] = AccessToken(token=access, client_id=client_id, scopes=scopes,
                                          expires_at=int(time.time()) + self.ttl, resource=resource)
        self.refresh[refresh] = RefreshToken(token=refresh, client_id=client_id, scopes=scopes,
                                             resource=resource)
        return OAuthToken(access_token=access, token_type="Bearer", expires_in=self.ttl,
                          refresh_token=refresh, scope=" ".join(scopes))

    async def exchange_authorization_code(self, client, authorization_code):
        self.codes.pop(authorization_code.code, None)
        print("TOKEN authorization_code", file=sys.stderr, flush=True)
        return self._issue(client.client_id, authorization_code.scopes, authorization_code.resource)

    async def load_refresh_token(self, client, refresh_token):
        token = self.refresh.get(refresh_token)
        if token is None:
            print("TOKEN refused unknown or used refresh token", file=sys.stderr, flush=True)
        return token

    async def exchange_refresh_token(self, client, refresh_token, scopes):
        if self.refresh.pop(refresh_token.token, None) is None:
            print("TOKEN refused used refresh token", file=sys.stderr, flush=True)
            raise TokenError("invalid_grant", "refresh token already used")
        print("TOKEN refresh_token", file=sys.stderr, flush=True)
        return self._issue(client.client_id, scopes or refresh_token.scopes, refresh_token.resource)

    async def load_access_token(self, token):
        access = self.access.get(token)
        if access is None or (access.expires_at or 0) < time.time():
            return None
        return access

    async def revoke_token(self, token):
        self.access.pop(getattr(token, "token", ""), None)
        self.refresh.pop(getattr(token, "token", ""), None)


def roll_expression(expression: str, rng: random.Random) -> str:
    """Evaluates a dice expression; raises ToolError when it is not one."""
    text = "".join(expression.split())
    if not text:
        raise ToolError("empty dice expression")
    pos, total, rolls, terms = 0, 0, [], 0
    while pos < len(text):
        m = _TERM.match(text, pos)
        if m is None or m.end() == pos or (terms > 0 and m.group(1) is None):
            raise ToolError(f"invalid dice expression: {expression!r}")
        sign = -1 if m.group(1) == "-" else 1
        if m.group(3) is not None:
            count = int(m.group(2)) if m.group(2) else 1
            sides = int(m.group(3))
            if not (1 <= count <= MAX_DICE) or not (1 <= sides <= MAX_SIDES):
                raise ToolError(f"invalid dice expression: {expression!r} (1..{MAX_DICE} dice of 1..{MAX_SIDES} sides)")
            these = [rng.randint(1, sides) for _ in range(count)]
            rolls.extend(these)
            total += sign * sum(these)
        else:
            total += sign * int(m.group(4))
        pos = m.end()
        terms += 1
    return f"{expression.strip()} = {total} (rolls [{', '.join(map(str, rolls))}])"


def build_server(transport: str, port: int, token, rng: random.Random, oauth_ttl=None):
    kwargs = {"name": "dialtone-dice", "log_level": "WARNING"}
    if MCP_MAJOR == 1:
        # 1.x takes host/port in the constructor (host 127.0.0.1 turns on its
        # DNS-rebinding protection); 2.x takes them when building the app.
        kwargs.update(host=HOST, port=port)
    if token is not None:
        kwargs["token_verifier"] = StaticTokenVerifier(token)
        kwargs["auth"] = AuthSettings(
            issuer_url=f"http://{HOST}:{port}",  # dummy: no authorization server exists
            resource_server_url=f"http://{HOST}:{port}",
            required_scopes=[],
            validate_token_resource=False,
        )
    if oauth_ttl is not None:
        kwargs["auth_server_provider"] = AutoApproveProvider(oauth_ttl)
        kwargs["auth"] = AuthSettings(
            issuer_url=f"http://{HOST}:{port}",
            resource_server_url=f"http://{HOST}:{port}/mcp",
            client_registration_options=ClientRegistrationOptions(
                enabled=True, valid_scopes=["mcp"], default_scopes=["mcp"]),
            required_scopes=["mcp"],
            validate_token_resource=True,
        )
    mcp = _Server(**kwargs)

    @mcp.tool(description="Roll dice, e.g. '2d6 + 1d4'. Returns the total and every roll.")
    def roll(diceRollExpression: str) -> str:  # noqa: N803 (wire name)
        return roll_expression(diceRollExpression, rng)

    @mcp.tool(description="Return the message unchanged.")
    def echo(message: str) -> str:
        print(f"ECHO {message}", file=sys.stderr, flush=True)
        return message

    @mcp.tool(description="Sleep for the given seconds, reporting progress every 0.5 s.")
    async def slow(seconds: float, ctx: Context) -> str:
        loop = asyncio.get_running_loop()
        start = loop.time()
        seconds = max(0.0, seconds)
        step = 0
        while step * 0.5 < seconds:
            step += 1
            done = min(step * 0.5, seconds)
            await asyncio.sleep(max(0.0, start + done - loop.time()))
            await ctx.report_progress(done, seconds, f"slept {done:g} of {seconds:g} s")
        return f"slept {seconds:g}"

    @mcp.tool(description="Never returns (until cancelled).")
    async def hang() -> str:
        # Tests wait for this line before they kill or restart the server mid-request.
        print("STARTED hang", file=sys.stderr, flush=True)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            # Tests read this to see that the client cancelled the request on the server.
            print("CANCELLED hang", file=sys.stderr, flush=True)
            raise
        return "unreachable"

    @mcp.tool(description="Return a text of the given size in MiB.", structured_output=False)
    def big(megabytes: float) -> str:
        if not (0 <= megabytes <= MAX_BIG_MB):
            raise ToolError(f"megabytes must be within 0..{MAX_BIG_MB}")
        size = int(megabytes * 1024 * 1024)
        line = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_=+()[]{}<>;:,.!?@#$%^&*~/\n"
        return (line * (size // len(line) + 1))[:size]

    @mcp.tool(description="Always fails with the given message (tool result isError=true).")
    def fail(message: str) -> str:
        raise ToolError(message)

    @mcp.tool()
    def meta(ctx: Context) -> str:
        """Answers the request's `_meta` as JSON: what the client sent beside the arguments."""
        sent = ctx.request_context.meta
        if hasattr(sent, "model_dump"):
            sent = sent.model_dump(exclude_none=True)
        return json.dumps(sent or {}, sort_keys=True, default=str)

    @mcp.tool()
    async def tell(message: str, ctx: Context) -> str:
        """Sends `message` as a log notification (on this request's stream), then answers."""
        await ctx.info(message)
        return "told"

    @mcp.resource("dice://rules", name="dice-rules", description="How dice expressions work.", mime_type="text/plain")
    def dice_rules() -> str:
        return DICE_RULES

    @mcp.prompt(name="roll-prompt", description="Ask the model to roll the given dice.")
    def roll_prompt(dice: str) -> str:
        return f"Please roll {dice} using the roll tool and tell me the total."

    if transport == "sse":
        return mcp.sse_app() if MCP_MAJOR == 1 else mcp.sse_app(host=HOST)
    return mcp.streamable_http_app() if MCP_MAJOR == 1 else mcp.streamable_http_app(host=HOST)


class _ReadyServer(uvicorn.Server):
    """Prints READY once the listening socket is being served."""

    def __init__(self, config, port: int):
        super().__init__(config)
        self._ready_port = port

    async def startup(self, sockets=None):
        await super().startup(sockets=sockets)
        if not self.should_exit:
            sys.stdout.write(f"READY {self._ready_port}\n")
            sys.stdout.flush()


def log_requests(app):
    """Writes `HTTP <METHOD> <path>` to stderr for every request, and `HTTP DONE <METHOD>
    <path> <status>` once its answer is sent (tests read them)."""

    async def logged(scope, receive, send):
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        print(f"HTTP {scope['method']} {scope['path']}", file=sys.stderr, flush=True)
        status = {}

        async def noted(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        await app(scope, receive, noted)
        print(f"HTTP DONE {scope['method']} {scope['path']} {status.get('code')}", file=sys.stderr, flush=True)

    return logged


def inject_faults(app):
    """The faults listed in the module docstring, for the client's error-path tests."""
    garble_next = {"on": False}

    async def respond(send, status, content_type, body):
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def faulty(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        if scope["method"] == "POST":
            body, more = b"", True
            while more:
                message = await receive()
                body += message.get("body", b"")
                more = message.get("more_body", False)
            compact = body.replace(b" ", b"")
            if b'"name":"http-500"' in compact:
                return await respond(send, 500, b"text/plain", b"injected fault: internal error")
            if b'"name":"not-json"' in compact:
                return await respond(send, 200, b"application/json", b"{oops")
            if b'"name":"garble-stream"' in compact:
                garble_next["on"] = True
                body = compact.replace(b'"name":"garble-stream"', b'"name":"echo"').replace(
                    b'"arguments":{}', b'"arguments":{"message":"garbled"}')
            replayed = {"done": False}

            async def replay():
                if replayed["done"]:
                    return await receive()
                replayed["done"] = True
                return {"type": "http.request", "body": body, "more_body": False}

            return await app(scope, replay, send)
        if scope["method"] == "GET" and scope["path"] == "/sse":
            foreign = b"foreign=1" in scope.get("query_string", b"")

            async def rewriting(message):
                if message["type"] == "http.response.body":
                    chunk = message.get("body", b"")
                    if foreign and b"event: endpoint" in chunk:
                        port = str(scope["server"][1]).encode()
                        chunk = chunk.replace(b"data: /", b"data: http://localhost:" + port + b"/")
                    if garble_next["on"] and b"event: message" in chunk:
                        garble_next["on"] = False
                        head = chunk.split(b"data: ", 1)[0]
                        chunk = head + b"data: {oops\r\n\r\n"
                    message = dict(message, body=chunk)
                await send(message)

            return await app(scope, receive, rewriting)
        return await app(scope, receive, send)

    return faulty


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Dialtone MCP test peer (mcp 1.x and 2.x)")
    ap.add_argument("transport", choices=["sse", "streamable-http"])
    ap.add_argument("port", type=int, help="TCP port on 127.0.0.1 (0 = pick a free one)")
    ap.add_argument("--token", help="require Authorization: Bearer TOKEN")
    ap.add_argument("--seed", type=int, help="seed for the dice RNG")
    ap.add_argument("--oauth", type=int, metavar="TTL", help="be an OAuth server too; access tokens live TTL s")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS with this PEM pair")
    args = ap.parse_args(argv)
    if not (0 <= args.port <= 65535):
        ap.error("port must be within 0..65535")

    # Bind first so port 0 works and the resource URL (auth) carries the real port.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, args.port))
    except OSError as e:
        print(f"mcp_server.py: cannot bind {HOST}:{args.port}: {e}", file=sys.stderr)
        return 2
    sock.listen(2048)
    sock.set_inheritable(True)
    port = sock.getsockname()[1]

    rng = random.Random(args.seed)
    app = log_requests(inject_faults(build_server(args.transport, port, args.token, rng, args.oauth)))
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=1,
        backlog=2048,
        ssl_certfile=args.tls[0] if args.tls else None,
        ssl_keyfile=args.tls[1] if args.tls else None,
    )
    server = _ReadyServer(config, port)
    asyncio.run(server.serve(sockets=[sock]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
