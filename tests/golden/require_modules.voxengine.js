// Modules and require(): MCP is undefined until required; unsupported and unknown modules
// throw with a code. createClient with a bad config rejects with ERR_MCP_CONFIG; a field that is
// not an option (here a misspelled endpoint) is named in a warning line first.
Logger.write(`Modules.MCP=${Modules.MCP} Modules.SmartQueue=${Modules.SmartQueue}; typeof MCP before: ${typeof MCP}`);
require(Modules.MCP);
require(Modules.MCP);
Logger.write(`typeof MCP after: ${typeof MCP}; ToolResult=${MCP.ServerEvents.ToolResult}`);
// Modules has no WebSocket member; published scenarios still write require(Modules.WebSocket),
// which VoxEngine ignores, and so do we.
require(Modules.WebSocket);
Logger.write(`require(undefined) is a no-op; typeof WebSocket: ${typeof WebSocket}`);
for (const name of [Modules.SmartQueue, "nope", 42]) {
  try {
    require(name);
  } catch (err) {
    Logger.write(`${err.name} ${err.code}: ${err.message}`);
  }
}
VoxEngine.addEventListener(AppEvents.Started, async () => {
  try {
    await MCP.createClient({ mcpServerConnectionConfig: { transport: "websocket", endpoint: "ws://127.0.0.1:1/mcp" } });
  } catch (err) {
    Logger.write(`createClient: ${err.code}: ${err.message}`);
  }
  try {
    await MCP.createClient({ mcpServerConnectionConfig: { transport: "http", endpint: "http://127.0.0.1:1/mcp" } });
  } catch (err) {
    Logger.write(`createClient: ${err.code}: ${err.message}`);
  }
  VoxEngine.terminate();
});
