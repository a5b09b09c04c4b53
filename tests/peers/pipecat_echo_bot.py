#!/usr/bin/env python3
"""Dialtone's Pipecat test peer: an echo bot behind Pipecat's TwilioFrameSerializer.

Runs in target/peers/venv-media (PyPI pipecat-ai[websocket], uvicorn, fastapi), installed by
tests/peers/install-media-peers.sh:

    target/peers/venv-media/bin/python tests/peers/pipecat_echo_bot.py [PORT]

    PORT  TCP port on 127.0.0.1; 0 (the default) picks a free one. The script binds the
          socket itself and hands it to uvicorn, so the real port is known.

Serves a WebSocket endpoint ``/media`` that speaks the Twilio Media Streams dialect, the way
a Pipecat telephony bot does. Per connection it reads the ``connected`` and ``start``
messages itself, then builds ``TwilioFrameSerializer(stream_sid=start.streamSid,
params=InputParams(auto_hang_up=False))`` (no Twilio REST call, no credentials) and runs the
pipeline transport.input() -> Echo -> transport.output() at 8000 Hz in and out. Echo turns
every InputAudioRawFrame into an OutputAudioRawFrame, so the caller's audio comes back as
Twilio ``media`` messages (μ-law 8 kHz, paced by Pipecat's output transport). No cloud
service is used.

Lines on stdout (each flushed; nothing else goes to stdout, Pipecat's logs go to stderr):
    LISTENING <port>              once the socket accepts connections (exactly once)
    START <streamSid> <callSid>   when a connection's ``start`` arrives (callSid "-" if absent)
    DTMF <digit>                  for every InputDTMFFrame (a Twilio ``dtmf`` message)
    CLOSED                        when the client disconnects (once per connection)

Binds 127.0.0.1 only. SIGTERM/SIGINT stop it (open sockets are closed, graceful timeout 1 s).
PIPECAT_ECHO_LOG_LEVEL (default WARNING) sets the level of Pipecat's stderr log.
"""

import asyncio
import json
import os
import signal
import socket
import sys

import uvicorn
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from loguru import logger
from pipecat.frames.frames import Frame, InputAudioRawFrame, InputDTMFFrame, OutputAudioRawFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.serializers.twilio import TwilioFrameSerializer
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams, FastAPIWebsocketTransport

try:  # pipecat >= 1.3: PipelineWorker / WorkerRunner (PipelineTask / PipelineRunner are aliases)
    from pipecat.pipeline.worker import PipelineParams, PipelineWorker
    from pipecat.workers.runner import WorkerRunner
except ImportError:  # older pipecat
    from pipecat.pipeline.runner import PipelineRunner as WorkerRunner
    from pipecat.pipeline.task import PipelineParams
    from pipecat.pipeline.task import PipelineTask as PipelineWorker

HOST = "127.0.0.1"
SAMPLE_RATE = 8000

logger.remove()
logger.add(sys.stderr, level=os.environ.get("PIPECAT_ECHO_LOG_LEVEL", "WARNING"))


def out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def dtmf_digit(frame: InputDTMFFrame) -> str:
    """The key of a DTMF frame: ``button`` (a KeypadEntry str enum) in 1.x."""
    key = getattr(frame, "button", None)
    if key is None:
        key = getattr(frame, "digit", "?")
    return str(getattr(key, "value", key))


class Echo(FrameProcessor):
    """Plays the caller's audio back (input frames are not played, so convert them)."""

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame):
            await self.push_frame(
                OutputAudioRawFrame(
                    audio=frame.audio, sample_rate=frame.sample_rate, num_channels=frame.num_channels
                )
            )
        else:
            if isinstance(frame, InputDTMFFrame):
                out(f"DTMF {dtmf_digit(frame)}")
            await self.push_frame(frame, direction)


app = FastAPI()


@app.websocket("/media")
async def media(ws: WebSocket):
    await ws.accept()
    try:
        await ws.receive_text()  # "connected"
        start = json.loads(await ws.receive_text())  # "start"
        info = start.get("start") or {}
        stream_sid = info.get("streamSid") or start.get("streamSid") or ""
        out(f"START {stream_sid or '-'} {info.get('callSid') or '-'}")
    except (WebSocketDisconnect, RuntimeError, ValueError, AttributeError):
        out("CLOSED")
        return

    serializer = TwilioFrameSerializer(
        stream_sid=stream_sid, params=TwilioFrameSerializer.InputParams(auto_hang_up=False)
    )
    transport = FastAPIWebsocketTransport(
        ws,
        FastAPIWebsocketParams(
            audio_in_enabled=True,
            audio_out_enabled=True,
            add_wav_header=False,
            serializer=serializer,
            allowed_origins=[],  # accept any Origin, whatever PIPECAT_ALLOWED_ORIGINS says
        ),
    )
    worker = PipelineWorker(
        Pipeline([transport.input(), Echo(), transport.output()]),
        params=PipelineParams(audio_in_sample_rate=SAMPLE_RATE, audio_out_sample_rate=SAMPLE_RATE),
        enable_rtvi=False,
        idle_timeout_secs=None,
    )
    closed = False

    @transport.event_handler("on_client_disconnected")
    async def _gone(_transport, _client):
        nonlocal closed
        if not closed:
            closed = True
            out("CLOSED")
        await worker.cancel()

    runner = WorkerRunner(handle_sigint=False)
    try:
        if hasattr(runner, "add_workers"):
            await runner.add_workers(worker)
            await runner.run()
        else:
            await runner.run(worker)
    finally:
        if not closed:
            closed = True
            out("CLOSED")


class _ListeningServer(uvicorn.Server):
    """Prints LISTENING once the listening socket is being served."""

    def __init__(self, config, port: int):
        super().__init__(config)
        self._listening_port = port

    async def startup(self, sockets=None):
        await super().startup(sockets=sockets)
        if not self.should_exit:
            out(f"LISTENING {self._listening_port}")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) > 1 or (argv and not argv[0].isdigit()) or (argv and int(argv[0]) > 65535):
        print("usage: pipecat_echo_bot.py [PORT]", file=sys.stderr)
        return 2
    port = int(argv[0]) if argv else 0
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as e:
        print(f"pipecat_echo_bot.py: cannot bind {HOST}:{port}: {e}", file=sys.stderr)
        return 2
    sock.listen(128)
    sock.set_inheritable(True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=1)
    server = _ListeningServer(config, sock.getsockname()[1])
    # uvicorn catches SIGTERM/SIGINT, shuts down, then re-raises the signal to the handler that
    # was installed before it; a no-op one there makes that a clean exit with status 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    asyncio.run(server.serve(sockets=[sock]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
