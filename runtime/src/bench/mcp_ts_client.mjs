// Peer for `dialtone bench mcp`: the official TypeScript SDK client, sequential tools/call echo.
// Usage: node mcp_ts_client.mjs URL COUNT WARMUP ; prints one JSON line of per-call ms.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, count, warmup] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const client = new Client({ name: "bench-ts", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(new URL(url)));
const times = [];
for (let i = 0; i < warmup + count; i++) {
  const t0 = performance.now();
  await client.callTool({ name: "echo", arguments: { message: "hi" } });
  if (i >= warmup) times.push(performance.now() - t0);
}
await client.close();
console.log(JSON.stringify(times));
