// Dialtone's side of `dialtone bench mcp` (and, one per session without warm-up, of
// `--concurrency N`): sequential callTool('echo') from a scenario, timed
// from the call to its ToolResult handler; logs the per-call ms as JSON arrays of at most 500
// (log lines have a length limit).
// ENDPOINT, REVISION, COUNT and WARMUP are filled in.
require(Modules.MCP);
VoxEngine.addEventListener(AppEvents.Started, async () => {
  const client = await MCP.createClient({ mcpServerConnectionConfig: { transport: "http", endpoint: ENDPOINT, protocolVersion: REVISION } });
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
    for (let i = 0; i < times.length; i += 500) {
      Logger.write(JSON.stringify(times.slice(i, i + 500).map((t) => Math.round(t * 1000) / 1000)));
    }
    client.close();
    VoxEngine.terminate();
  });
  client.addEventListener(MCP.ServerEvents.MCPError, (e) => {
    Logger.write("error " + JSON.stringify(e.data.payload));
    VoxEngine.terminate();
  });
  client.addEventListener(MCP.ServerEvents.ConnectorInformation, next);
});
