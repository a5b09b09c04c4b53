"""Peer for `dialtone bench mcp`: the official Python SDK client (PyPI mcp), sequential
tools/call echo. Usage: python mcp_py_client.py URL COUNT WARMUP ; prints one JSON line
{times: per-call ms, cpuMs: this process's CPU ms over all its calls}. Runs on mcp 2.x and 1.x."""

import asyncio
import json
import sys
import time

from mcp import ClientSession

try:
    from mcp.client.streamable_http import streamable_http_client as connect
except ImportError:
    from mcp.client.streamable_http import streamablehttp_client as connect


async def main(url, count, warmup):
    times = []
    async with connect(url) as streams:
        async with ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            cpu0 = time.process_time()
            for i in range(warmup + count):
                t0 = time.perf_counter()
                await session.call_tool("echo", {"message": "hi"})
                if i >= warmup:
                    times.append((time.perf_counter() - t0) * 1000)
            cpu_ms = (time.process_time() - cpu0) * 1000
    print(json.dumps({"times": times, "cpuMs": cpu_ms}))


asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
