// voice-agent.voxengine.js: a voice agent whose tools live on an MCP server.
//
// The caller's voice streams to a voice-AI server over a WebSocket (VoxEngine's media stream
// format, 8 kHz μ-law), and what the server says streams back to the caller. The server asks
// for tools with JSON text messages; the scenario calls them on the MCP server and sends the
// results back. Keys the caller presses are forwarded too.
//
// Secrets of the application: AGENT_URL (ws:// or wss://), MCP_SERVER_URL, and optionally
// MCP_SERVER_TOKEN (sent as a bearer token).
//
// Messages, server -> scenario:
//   {"type": "tool_call", "id": "t1", "name": "echo", "arguments": {...}}
//   {"type": "clear"}                    barge-in: drop the agent's audio not played yet
// scenario -> server:
//   {"type": "dtmf", "digit": "5"}
//   {"type": "tool_result", "id": "t1", "result": {content: [...], isError?}}
//   {"type": "tool_error", "id": "t1", "error": "...", "code": ...}
require(Modules.MCP);

VoxEngine.addEventListener(AppEvents.CallAlerting, async ({ call }) => {
  const agentUrl = VoxEngine.getSecretValue("AGENT_URL");
  const mcpUrl = VoxEngine.getSecretValue("MCP_SERVER_URL");
  const token = VoxEngine.getSecretValue("MCP_SERVER_TOKEN");
  let agent;
  let mcp;
  const pending = new Map(); // MCP request id -> the agent's tool call id
  const finish = () => {
    if (agent) agent.close();
    if (mcp) mcp.close();
    VoxEngine.terminate();
  };

  call.addEventListener(CallEvents.Disconnected, finish);
  call.addEventListener(CallEvents.ToneReceived, ({ tone }) => {
    if (agent && agent.readyState === WebSocketReadyState.OPEN) {
      agent.send(JSON.stringify({ type: "dtmf", digit: tone }));
    }
  });
  call.addEventListener(CallEvents.Connected, async () => {
    call.handleTones(true);
    try {
      mcp = await MCP.createClient({
        mcpServerConnectionConfig: {
          transport: "http",
          endpoint: mcpUrl,
          headers: token ? { Authorization: `Bearer ${token}` } : {},
          clientName: "dialtone-voice-agent",
        },
        onWebSocketClose: (e) => Logger.write(`MCP connection closed: ${e.code} ${e.reason}`),
      });
    } catch (e) {
      Logger.write(`cannot reach the MCP server: ${e.message}`);
      call.say("Sorry, the assistant is not available.");
      call.addEventListener(CallEvents.PlaybackFinished, () => call.hangup());
      return;
    }
    mcp.addEventListener(MCP.ServerEvents.ToolResult, (e) => {
      const id = pending.get(e.data.requestId);
      pending.delete(e.data.requestId);
      agent.send(JSON.stringify({ type: "tool_result", id, result: e.data.payload }));
    });
    mcp.addEventListener(MCP.ServerEvents.MCPError, (e) => {
      const id = pending.get(e.data.requestId);
      pending.delete(e.data.requestId);
      const { error, code } = e.data.payload;
      agent.send(JSON.stringify({ type: "tool_error", id, error, code }));
    });

    agent = VoxEngine.createWebSocket(agentUrl);
    agent.addEventListener(WebSocketEvents.OPEN, () => {
      const encoding = WebSocketAudioEncoding.ULAW;
      call.sendMediaTo(agent, { tag: "caller", encoding, customParameters: { callId: call.id() } });
      agent.sendMediaTo(call, { tag: "agent", encoding });
    });
    agent.addEventListener(WebSocketEvents.MESSAGE, ({ text }) => {
      let message;
      try {
        message = JSON.parse(text);
      } catch (e) {
        Logger.write(`agent sent text that is not JSON: ${text.slice(0, 100)}`);
        return;
      }
      if (message.type === "tool_call") {
        Logger.write(`agent calls tool ${message.name}`);
        const requestId = mcp.callTool({ name: message.name, arguments: message.arguments || {} });
        pending.set(requestId, message.id);
      } else if (message.type === "clear") {
        agent.clearMediaBuffer({ tag: "agent" });
      }
    });
    agent.addEventListener(WebSocketEvents.CLOSE, ({ code, reason }) => {
      Logger.write(`agent connection closed: ${code} ${reason}`);
      call.hangup();
    });
  });
  call.answer();
});
