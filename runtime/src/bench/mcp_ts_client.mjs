// Peer for `dialtone bench mcp`: the official TypeScript SDK client, sequential tools/call echo.
// Usage: node mcp_ts_client.mjs URL COUNT WARMUP ; prints one JSON line {times: per-call ms,
// cpuMs: this process's CPU ms over all its calls}.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, count, warmup] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const client = new Client({ name: "bench-ts", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(new URL(url)));
const times = [];
const cpu0 = process.cpuUsage();
for (let i = 0; i < warmup + count; i++) {
  const t0 = performance.now();
  await client.callTool({ name: "echo", arguments: { message: "hi" } });
  if (i >= warmup) times.push(performance.now() - t0);
}
const cpu = process.cpuUsage(cpu0);
await client.close();
console.log(JSON.stringify({ times, cpuMs: (cpu.user + cpu.system) / 1000 }));
