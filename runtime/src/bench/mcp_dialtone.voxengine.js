// Dialtone's side of `dialtone bench mcp`: sequential callTool('echo') from a scenario, timed
// from the call to its ToolResult handler. ENDPOINT, COUNT and WARMUP are filled in.
require(Modules.MCP);
VoxEngine.addEventListener(AppEvents.Started, async () => {
  const client = await MCP.createClient({ mcpServerConnectionConfig: { transport: "http", endpoint: ENDPOINT } });
  const times = [];
  let done = 0;
  let t0 = 0;
  const next = () => {
    t0 = performance.now();
    client.callTool({ name: "echo", arguments: { message: "hi" } });
  };
  client.addEventListener(MCP.ServerEvents.ToolResult, () => {
    if (done++ >= WARMUP) times.push(performance.now() - t0);
    if (done < WARMUP + COUNT) return next();
    times.sort((a, b) => a - b);
    const pick = (q) => times[Math.round((times.length - 1) * q)];
    Logger.write(JSON.stringify({ median_ms: pick(0.5), p99_ms: pick(0.99) }));
    client.close();
    VoxEngine.terminate();
  });
  client.addEventListener(MCP.ServerEvents.MCPError, (e) => {
    Logger.write("error " + JSON.stringify(e.data.payload));
    VoxEngine.terminate();
  });
  client.addEventListener(MCP.ServerEvents.ConnectorInformation, next);
});
