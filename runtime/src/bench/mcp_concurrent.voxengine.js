// Dialtone's side of `dialtone bench mcp --concurrency N`: one of N sessions, each with its own
// MCP client, making COUNT sequential callTool('echo') calls, then closing it. ENDPOINT and COUNT
// are filled in.
require(Modules.MCP);
VoxEngine.addEventListener(AppEvents.Started, async () => {
  const client = await MCP.createClient({ mcpServerConnectionConfig: { transport: "http", endpoint: ENDPOINT } });
  let done = 0;
  const next = () => client.callTool({ name: "echo", arguments: { message: "hi" } });
  client.addEventListener(MCP.ServerEvents.ToolResult, () => {
    if (++done < COUNT) return next();
    Logger.write("done");
    client.close();
    VoxEngine.terminate();
  });
  client.addEventListener(MCP.ServerEvents.MCPError, (e) => {
    Logger.write("error " + JSON.stringify(e.data.payload));
    VoxEngine.terminate();
  });
  client.addEventListener(MCP.ServerEvents.ConnectorInformation, next);
});
