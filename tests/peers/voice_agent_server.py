#!/usr/bin/env python3
"""A small voice-AI server for Dialtone's voice-agent test (scenarios/voice-agent.voxengine.js).

Runs in target/peers/venv-media (PyPI websockets), with espeak-ng and sox on PATH:

    target/peers/venv-media/bin/python tests/peers/voice_agent_server.py
        --tool NAME --arguments JSON --spoken WAV [PORT]

It speaks VoxEngine's media stream format: the caller's audio arrives as a stream tagged
"caller" (μ-law); when the scenario forwards a key press ({"type": "dtmf", "digit": D}) it asks
for the tool ({"type": "tool_call", "id": "t1", "name": NAME, "arguments": JSON}); when the
result comes back ({"type": "tool_result", "id": "t1", "result": {"content": [{"text": T}]}})
it speaks T with espeak-ng, writes what it says to WAV (8 kHz 16-bit, for the test's
cross-correlation) and streams it as μ-law media tagged "agent", faster than real time, as a
TTS server does.

Lines on stdout (flushed):
    LISTENING <port>
    DTMF <digit>
    TOOL_CALL <name>
    SPOKE <text>
    CALLER <frames>      when the caller's stream stops: 20 ms frames of caller audio received
    ERROR <text>         anything unexpected
"""
import argparse
import asyncio
import base64
import json
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

HOST = "127.0.0.1"


def out(line: str) -> None:
    print(line, flush=True)


def speak(text: str, wav: Path) -> bytes:
    """espeak-ng -> 8 kHz 16-bit WAV at `wav` and the same audio as raw μ-law bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        spoken = Path(tmp) / "spoken.wav"
        ulaw = Path(tmp) / "spoken.ulaw"
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(spoken), text], check=True)
        subprocess.run(["sox", str(spoken), "-r", "8000", "-c", "1", "-b", "16",
                        "-e", "signed-integer", str(wav)], check=True)
        subprocess.run(["sox", str(wav), "-e", "mu-law", "-t", "raw", str(ulaw)], check=True)
        return ulaw.read_bytes()


async def handler(ws, opts):
    caller_frames = 0
    calls = 0
    try:
        async for data in ws:
            if not isinstance(data, str):
                out("ERROR binary frame")
                continue
            message = json.loads(data)
            event = message.get("event")
            if event == "media" and message["media"].get("tag") == "caller":
                caller_frames += 1
            elif event == "stop" and message["stop"].get("tag") == "caller":
                out(f"CALLER {caller_frames}")
            elif event in ("start", "media", "stop"):
                pass
            elif message.get("type") == "dtmf":
                out(f"DTMF {message['digit']}")
                calls += 1
                await ws.send(json.dumps({
                    "type": "tool_call", "id": f"t{calls}", "name": opts.tool,
                    "arguments": json.loads(opts.arguments),
                }))
                out(f"TOOL_CALL {opts.tool}")
            elif message.get("type") == "tool_result":
                text = message["result"]["content"][0]["text"]
                audio = await asyncio.to_thread(speak, text, Path(opts.spoken))
                await ws.send(json.dumps({"event": "start", "start": {
                    "tag": "agent", "mediaFormat": {"encoding": "ULAW", "sampleRate": 8000}}}))
                for i in range(0, len(audio), 160):
                    chunk = base64.b64encode(audio[i:i + 160]).decode("ascii")
                    await ws.send(json.dumps({"event": "media", "media": {"payload": chunk, "tag": "agent"}}))
                out(f"SPOKE {text}")
            else:
                out(f"ERROR unexpected message {data[:200]}")
    except ConnectionClosed:
        pass


async def run(opts) -> int:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    server = await serve(lambda ws: handler(ws, opts), HOST, opts.port, ping_interval=None)
    out(f"LISTENING {next(iter(server.sockets)).getsockname()[1]}")
    await stopping.wait()
    server.close()
    await server.wait_closed()
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description="Dialtone's voice-agent test server")
    ap.add_argument("port", nargs="?", type=int, default=0)
    ap.add_argument("--tool", required=True)
    ap.add_argument("--arguments", default="{}")
    ap.add_argument("--spoken", required=True, help="WAV file: what the agent said")
    return asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
