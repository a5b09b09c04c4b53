// Peer for `dialtone bench mcp --concurrency N`: the official TypeScript SDK, N clients in one
// Node process, each connecting and making COUNT sequential tools/call echo calls, all at once.
// Usage: node mcp_ts_concurrent.mjs URL N COUNT ; prints one JSON line {calls, seconds, cpuMs}.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, clients, count] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await Promise.all(Array.from({ length: clients }, async (_, i) => {
  const client = new Client({ name: `bench-ts-${i}`, version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  for (let k = 0; k < count; k++) await client.callTool({ name: "echo", arguments: { message: "hi" } });
  await client.close();
}));
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ calls: clients * count, seconds, cpuMs: (cpu.user + cpu.system) / 1000 }));
