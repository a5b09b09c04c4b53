// Floor for `dialtone bench mcp`: raw JSON-RPC over one keep-alive connection (Node fetch), no
// SDK. Usage: node mcp_raw_client.mjs URL COUNT WARMUP ; prints one JSON line of per-call ms.
const [url, count, warmup] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
let session;
async function post(body) {
  const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
  if (session) Object.assign(headers, { "mcp-session-id": session, "mcp-protocol-version": "2025-11-25" });
  const response = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
  session = session || response.headers.get("mcp-session-id");
  const text = await response.text();
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${text}`);
  return text;
}
await post({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "bench-raw", version: "1.0.0" } } });
await post({ jsonrpc: "2.0", method: "notifications/initialized" });
const times = [];
for (let i = 0; i < warmup + count; i++) {
  const t0 = performance.now();
  const text = await post({ jsonrpc: "2.0", id: i + 1, method: "tools/call", params: { name: "echo", arguments: { message: "hi" } } });
  if (!text.includes("Echo: hi")) throw new Error(`unexpected reply ${text}`);
  if (i >= warmup) times.push(performance.now() - t0);
}
await fetch(url, { method: "DELETE", headers: { "mcp-session-id": session } });
console.log(JSON.stringify(times));
