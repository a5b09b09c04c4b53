// The scenario behind tests/conformance/client: what the official MCP conformance suite asks of
// a client, done the way a call scenario does it. It connects, lists the tools, calls the one
// tool the suite's scenario serves (if any), answers elicitation with an empty form (Dialtone
// fills in the schema's defaults), and ends the call.
require(Modules.MCP);

const TOOL_ARGUMENTS = {
  add_numbers: { a: 5, b: 3 },
  test_client_elicitation_defaults: {},
  test_reconnection: {},
  "test-tool": {},
};

VoxEngine.addEventListener(AppEvents.CallAlerting, async ({ call, headers }) => {
  call.answer();
  const scenario = VoxEngine.getSecretValue("MCP_CONFORMANCE_SCENARIO");
  const config = {
    transport: "http",
    endpoint: headers["X-Mcp-Server"],
    clientName: "dialtone-conformance",
    clientVersion: "1.0.0",
    elicitation: scenario.startsWith("elicitation"),
  };
  const auth = JSON.parse(VoxEngine.getSecretValue("MCP_AUTH") || "{}");
  if (Object.keys(auth).length > 0) config.auth = auth;
  const E = MCP.ServerEvents;
  let client;
  const finish = () => {
    if (client) client.close();
    VoxEngine.terminate();
  };
  try {
    client = await MCP.createClient({
      mcpServerConnectionConfig: config,
      onWebSocketClose: (e) => {
        if (!e.wasClean) Logger.write(`closed: ${e.code} ${e.reason}`);
      },
    });
  } catch (error) {
    Logger.write(`createClient failed: ${error.code}: ${error.message}`);
    VoxEngine.terminate();
    return;
  }
  client.addEventListener(E.ElicitationRequest, (e) => {
    Logger.write(`elicitation: ${e.data.payload.message}`);
    client.respond(e.data.requestId, { action: "accept", content: {} });
  });
  client.addEventListener(E.MCPError, (e) => {
    Logger.write(`MCPError: ${e.data.payload.code}: ${e.data.payload.error}`);
    finish();
  });
  client.addEventListener(E.ToolsList, (e) => {
    const name = e.data.payload.tools.map((t) => t.name).find((n) => n in TOOL_ARGUMENTS);
    if (name === undefined) return finish();
    client.callTool({ name, arguments: TOOL_ARGUMENTS[name] });
  });
  client.addEventListener(E.ToolResult, (e) => {
    Logger.write(`ToolResult: ${JSON.stringify(e.data.payload.content)}`);
    finish();
  });
  client.listTools({});
});
