// Peer for `dialtone bench mcp`: the floor as ../shared/reference/peers.md measured it, JSON-RPC
// written by hand over Node's keep-alive `fetch`, no SDK. Sequential tools/call echo.
// Usage: node mcp_fetch_client.mjs URL COUNT WARMUP [REVISION] ; prints one JSON line {times: per-call ms,
// cpuMs: this process's CPU ms over all its calls}.
const [url, count, warmup] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const protocolVersion = process.argv[5] ?? "2025-11-25";
const base = { "content-type": "application/json", accept: "application/json, text/event-stream" };

async function post(headers, message) {
  const response = await fetch(url, { method: "POST", headers, body: JSON.stringify(message) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${message.method}: HTTP ${response.status} ${text}`);
  return { response, text };
}

const { response } = await post(base, {
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: { protocolVersion, capabilities: {}, clientInfo: { name: "bench-fetch", version: "1.0.0" } },
});
const session = response.headers.get("mcp-session-id");
if (!session) throw new Error("initialize: the server sent no mcp-session-id");
const headers = { ...base, "mcp-session-id": session, "mcp-protocol-version": protocolVersion };
await post(headers, { jsonrpc: "2.0", method: "notifications/initialized" });

const times = [];
const cpu0 = process.cpuUsage();
for (let i = 0; i < warmup + count; i++) {
  const t0 = performance.now();
  const { text } = await post(headers, {
    jsonrpc: "2.0",
    id: i + 1,
    method: "tools/call",
    params: { name: "echo", arguments: { message: "hi" } },
  });
  if (i >= warmup) times.push(performance.now() - t0);
  // Every answer is checked, as a client would read it (the SDKs parse theirs).
  if (!text.includes("Echo: hi")) throw new Error(`tools/call: unexpected answer ${text}`);
}
const cpu = process.cpuUsage(cpu0);
await (await fetch(url, { method: "DELETE", headers })).text();
console.log(JSON.stringify({ times, cpuMs: (cpu.user + cpu.system) / 1000 }));
