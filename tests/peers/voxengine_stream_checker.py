#!/usr/bin/env python3
"""Dialtone's VoxEngine media-stream test peer: a WebSocket server that checks the wire format.

Runs in target/peers/venv-media (PyPI websockets), installed by tests/peers/install-media-peers.sh:

    target/peers/venv-media/bin/python tests/peers/voxengine_stream_checker.py [PORT]
        [--echo-tag TAG] [--say-file PATH --say-tag TAG [--say-encoding ENC]] [--tls CERT KEY]

    PORT  TCP port on 127.0.0.1; 0 (the default) picks a free one.

A scenario connects with VoxEngine.createWebSocket("ws://127.0.0.1:PORT/...") (any path) and
streams a call into it with call.sendMediaTo(ws, {encoding, tag, customParameters}). Every text
frame is checked, message by message, against the Voximplant JSON media stream format:

    {"event":"start","sequenceNumber":N,"start":{"mediaFormat":{"encoding":E,"sampleRate":R},
                                                 "tag":T,"customParameters":{...}}}
    {"event":"media","sequenceNumber":N,"media":{"chunk":C,"timestamp":MS,"payload":B64,"tag":T}}
    {"event":"stop","sequenceNumber":N,"stop":{"mediaInfo":{"bytesSent":B,"duration":S},"tag":T}}

Rules: sequenceNumber is an integer, 0 for the first media-stream message on a socket and +1 for
each next one (start, media and stop of every stream on that socket); per tag (absent = "") a
stream is start, media*, stop, and may start again after a stop; chunk is 1, 2, 3, ... per
stream; timestamp (ms since the stream's start) equals (chunk-1)*20; the payload is base64 of
20 ms of audio: PCM8 320 bytes, PCM16 640, ULAW 160, ALAW 160; sampleRate is 8000 for PCM8,
ULAW and ALAW, 16000 for PCM16; stop.mediaInfo.bytesSent is the sum of the decoded payload
sizes of that stream and duration a number; customParameters, when present, is an object of
strings. Any other text frame (not JSON, or JSON without one of those three events) is an
application text message.

Lines on stdout (each flushed; nothing else goes to stdout):
    LISTENING <port>    once the socket accepts connections (exactly once)
    ERROR <text>        one per problem found ("socket N: ..." names the connection, from 1)
    TEXT <text>         per application text message (CR/LF shown as \\r/\\n); the server also
                        answers it on the same socket with the text "echo:<text>"
    STREAM {json}       when a stream stops: {"tag", "encoding", "sampleRate",
                        "customParameters" (null when absent), "chunks" (media messages),
                        "bytesSent" (decoded payload bytes counted here), "stopped": true}
    CLOSED {json}       when a socket closes: {"code", "streams": [the objects above, in start
                        order; "stopped": false when no stop came], "errors": count}
A stream still open when its socket closes is reported with "stopped": false, not as an ERROR.

Options:
    --echo-tag TAG   send every received media payload back as
                     {"event":"media","media":{"payload":<same base64>,"tag":TAG}}, preceded
                     once per received stream by {"event":"start","start":{"tag":TAG,
                     "mediaFormat":<as received>}} (so ws.sendMediaTo(call, {tag: TAG}) plays it).
    --say-file PATH  on the application text "play", send the raw bytes of PATH (already in the
    --say-tag TAG    stream's encoding, e.g. headerless μ-law) as 20 ms media messages tagged TAG
                     (the last one padded with silence), as fast as possible (like a TTS
                     server), after a start message {"event":"start","start":{"tag":TAG,
                     "mediaFormat":{"encoding","sampleRate"}}}. Each "play" sends it again.
    --say-encoding   the encoding of PATH (PCM8, PCM16, ULAW, ALAW); default: the encoding of the
                     socket's most recently started stream, else ULAW.

Binds 127.0.0.1 only; no keepalive pings. SIGTERM/SIGINT close the open sockets (1001, each
reported with CLOSED) and exit with status 0.
"""

import argparse
import asyncio
import base64
import binascii
import json
import signal
import ssl
import sys

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

HOST = "127.0.0.1"
FRAME_MS = 20
# encoding -> (sampleRate, payload bytes per 20 ms)
FORMATS = {"PCM8": (8000, 320), "PCM16": (16000, 640), "ULAW": (8000, 160), "ALAW": (8000, 160)}
SILENCE = {"PCM8": b"\x00", "PCM16": b"\x00", "ULAW": b"\xff", "ALAW": b"\xd5"}  # pads --say-file
EVENTS = ("start", "media", "stop")


def out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class Stream:
    def __init__(self, tag, encoding, sample_rate, media_format, custom):
        self.tag = tag
        self.encoding = encoding
        self.sample_rate = sample_rate
        self.media_format = media_format
        self.custom = custom
        self.chunks = 0
        self.last_chunk = 0
        self.bytes = 0
        self.last_ts = None
        self.stopped = False
        self.echo_started = False

    def report(self) -> dict:
        return {
            "tag": self.tag,
            "encoding": self.encoding,
            "sampleRate": self.sample_rate,
            "customParameters": self.custom,
            "chunks": self.chunks,
            "bytesSent": self.bytes,
            "stopped": self.stopped,
        }


class Connection:
    def __init__(self, ws, number: int, opts):
        self.ws = ws
        self.n = number
        self.opts = opts
        self.seq = 0
        self.errors = 0
        self.streams = []  # every stream in start order
        self.active = {}  # tag -> Stream that started and did not stop yet
        self.last_encoding = None
        self.tasks = set()

    def error(self, text: str) -> None:
        self.errors += 1
        out(f"ERROR socket {self.n}: {text}")

    async def on_frame(self, data) -> None:
        if isinstance(data, bytes):
            self.error(f"binary frame of {len(data)} bytes (only text frames are expected)")
            return
        try:
            msg = json.loads(data)
        except ValueError:
            msg = None
        if isinstance(msg, dict) and msg.get("event") in EVENTS:
            await self.on_stream_message(msg)
        else:
            await self.on_text(data)

    async def on_text(self, text: str) -> None:
        out("TEXT " + text.replace("\r", "\\r").replace("\n", "\\n"))
        await self.ws.send("echo:" + text)
        if text == "play" and self.opts.say_file:
            task = asyncio.create_task(self.say())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def on_stream_message(self, msg: dict) -> None:
        event = msg["event"]
        seq = msg.get("sequenceNumber")
        if not is_int(seq):
            self.error(f"{event}: sequenceNumber {seq!r} is not an integer (expected {self.seq})")
            self.seq += 1
        else:
            if seq != self.seq:
                self.error(f"{event}: sequenceNumber {seq}, expected {self.seq}")
            self.seq = seq + 1
        body = msg.get(event)
        if not isinstance(body, dict):
            self.error(f"{event}: {event!r} is {type(body).__name__}, not an object")
            return
        tag = body.get("tag", "")
        if not isinstance(tag, str):
            self.error(f"{event}: tag {tag!r} is not a string")
            tag = str(tag)
        await getattr(self, "on_" + event)(tag, body)

    async def on_start(self, tag: str, body: dict) -> None:
        if tag in self.active:
            self.error(f"start tag {tag!r}: the stream already started and did not stop")
            del self.active[tag]
        fmt = body.get("mediaFormat")
        encoding = sample_rate = None
        if not isinstance(fmt, dict):
            self.error(f"start tag {tag!r}: mediaFormat {fmt!r} is not an object")
            fmt = {}
        else:
            encoding, sample_rate = fmt.get("encoding"), fmt.get("sampleRate")
            if encoding not in FORMATS:
                self.error(f"start tag {tag!r}: encoding {encoding!r} is not one of {'/'.join(FORMATS)}")
            elif sample_rate != FORMATS[encoding][0] or not is_int(sample_rate):
                self.error(
                    f"start tag {tag!r}: sampleRate {sample_rate!r} for {encoding}, "
                    f"expected {FORMATS[encoding][0]}"
                )
        custom = body.get("customParameters")
        if custom is not None and not (
            isinstance(custom, dict) and all(isinstance(v, str) for v in custom.values())
        ):
            self.error(f"start tag {tag!r}: customParameters {custom!r} is not an object of strings")
        stream = Stream(tag, encoding, sample_rate, fmt, custom)
        self.streams.append(stream)
        self.active[tag] = stream
        if encoding in FORMATS:
            self.last_encoding = encoding

    async def on_media(self, tag: str, body: dict) -> None:
        stream = self.active.get(tag)
        if stream is None:
            self.error(f"media tag {tag!r}: no started stream with this tag")
        chunk, ts, payload = body.get("chunk"), body.get("timestamp"), body.get("payload")
        expected_chunk = stream.last_chunk + 1 if stream else None
        if not is_int(chunk):
            self.error(f"media tag {tag!r}: chunk {chunk!r} is not an integer")
        elif stream and chunk != expected_chunk:
            self.error(f"media tag {tag!r}: chunk {chunk}, expected {expected_chunk}")
        if not is_int(ts):
            self.error(f"media tag {tag!r}: timestamp {ts!r} is not an integer")
        elif stream:
            if stream.last_ts is not None and ts < stream.last_ts:
                self.error(f"media tag {tag!r}: timestamp {ts} went back from {stream.last_ts}")
            if is_int(chunk) and ts != (chunk - 1) * FRAME_MS:
                self.error(
                    f"media tag {tag!r}: timestamp {ts} for chunk {chunk}, expected {(chunk - 1) * FRAME_MS}"
                )
            stream.last_ts = ts
        raw = None
        if not isinstance(payload, str):
            self.error(f"media tag {tag!r}: payload is {type(payload).__name__}, not a base64 string")
        else:
            try:
                raw = base64.b64decode(payload, validate=True)
            except (binascii.Error, ValueError):
                self.error(f"media tag {tag!r}: payload is not valid base64")
        if stream is None:
            return
        stream.chunks += 1
        stream.last_chunk = chunk if is_int(chunk) else stream.last_chunk + 1
        if raw is None:
            return
        stream.bytes += len(raw)
        if stream.encoding in FORMATS and len(raw) != FORMATS[stream.encoding][1]:
            self.error(
                f"media tag {tag!r}: chunk {chunk} payload {len(raw)} bytes, "
                f"expected {FORMATS[stream.encoding][1]} for 20 ms of {stream.encoding}"
            )
        if self.opts.echo_tag is not None:
            if not stream.echo_started:
                stream.echo_started = True
                start = {"tag": self.opts.echo_tag, "mediaFormat": stream.media_format}
                await self.ws.send(json.dumps({"event": "start", "start": start}))
            media = {"payload": payload, "tag": self.opts.echo_tag}
            await self.ws.send(json.dumps({"event": "media", "media": media}))

    async def on_stop(self, tag: str, body: dict) -> None:
        stream = self.active.pop(tag, None)
        if stream is None:
            self.error(f"stop tag {tag!r}: no started stream with this tag")
        info = body.get("mediaInfo")
        if not isinstance(info, dict):
            self.error(f"stop tag {tag!r}: mediaInfo {info!r} is not an object")
            info = {}
        sent, duration = info.get("bytesSent"), info.get("duration")
        if not is_int(sent):
            self.error(f"stop tag {tag!r}: bytesSent {sent!r} is not an integer")
        elif stream and sent != stream.bytes:
            self.error(f"stop tag {tag!r}: bytesSent {sent}, but the payloads held {stream.bytes} bytes")
        if not is_number(duration) or duration < 0:
            self.error(f"stop tag {tag!r}: duration {duration!r} is not a number of seconds")
        if stream:
            stream.stopped = True
            out("STREAM " + json.dumps(stream.report()))

    async def say(self) -> None:
        """Sends --say-file as 20 ms media messages tagged --say-tag, as fast as possible."""
        encoding = self.opts.say_encoding or self.last_encoding or "ULAW"
        rate, size = FORMATS[encoding]
        try:
            with open(self.opts.say_file, "rb") as f:
                audio = f.read()
            audio += SILENCE[encoding] * (-len(audio) % size)  # whole 20 ms frames
            tag = self.opts.say_tag
            start = {"tag": tag, "mediaFormat": {"encoding": encoding, "sampleRate": rate}}
            await self.ws.send(json.dumps({"event": "start", "start": start}))
            for i in range(0, len(audio), size):
                payload = base64.b64encode(audio[i:i + size]).decode("ascii")
                await self.ws.send(json.dumps({"event": "media", "media": {"payload": payload, "tag": tag}}))
        except ConnectionClosed:
            pass
        except OSError as e:
            self.error(f"cannot read --say-file: {e}")

    def closed(self, code) -> None:
        for task in list(self.tasks):
            task.cancel()
        out("CLOSED " + json.dumps(
            {"code": code, "streams": [s.report() for s in self.streams], "errors": self.errors}
        ))


async def run(opts) -> int:
    counter = 0
    stopping = asyncio.Event()

    async def handler(ws):
        nonlocal counter
        counter += 1
        conn = Connection(ws, counter, opts)
        try:
            async for data in ws:
                await conn.on_frame(data)
        except ConnectionClosed:
            pass
        finally:
            conn.closed(ws.close_code if ws.close_code is not None else 1006)

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    try:
        tls = None
        if opts.tls:
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(opts.tls[0], opts.tls[1])
        server = await serve(handler, HOST, opts.port, ping_interval=None, max_size=None, ssl=tls)
    except OSError as e:
        print(f"voxengine_stream_checker.py: cannot bind {HOST}:{opts.port}: {e}", file=sys.stderr)
        return 2
    port = next(iter(server.sockets)).getsockname()[1]
    out(f"LISTENING {port}")
    await stopping.wait()
    server.close()  # closes open sockets with 1001 (going away)
    await server.wait_closed()
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Dialtone VoxEngine media-stream checker (WebSocket server)")
    ap.add_argument(
        "port", nargs="?", type=int, default=0, help="TCP port on 127.0.0.1 (0 = pick a free one)"
    )
    ap.add_argument("--echo-tag", help="send received media back, tagged TAG")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve wss:// with this certificate")
    ap.add_argument("--say-file", help="raw audio sent as media on the application text 'play'")
    ap.add_argument("--say-tag", default="", help="tag of the --say-file media")
    ap.add_argument("--say-encoding", choices=sorted(FORMATS), help="encoding of --say-file")
    opts = ap.parse_args(argv)
    if not (0 <= opts.port <= 65535):
        ap.error("port must be within 0..65535")
    return asyncio.run(run(opts))


if __name__ == "__main__":
    sys.exit(main())
