// The MCP namespace, defined by require(Modules.MCP). Loaded on require (see lazy.js).

function createMcpClient(parameters) {
  try {
    const params = requireObject("MCP.createClient", parameters, false);
    const config = params.mcpServerConnectionConfig;
    if (config === null || typeof config !== "object" || Array.isArray(config)) {
      throw codedError(TypeError, "ERR_MCP_CONFIG", "MCP.createClient: mcpServerConnectionConfig must be an object");
    }
    const onClose = params.onWebSocketClose;
    if (onClose !== undefined && typeof onClose !== "function") {
      throw codedError(TypeError, "ERR_INVALID_HANDLER", `MCP.createClient: onWebSocketClose must be a function, got ${describe(onClose)}`);
    }
    const headers = {};
    for (const [name, value] of Object.entries(config.headers || {})) headers[name] = String(value);
    const id = ops.mcpCreate(JSON.stringify({ ...config, headers }));
    return new Promise((resolve, reject) => {
      const client = new MCPClient(MCP_CLIENT_TOKEN, id, onClose);
      mcpClients.set(id, { client, resolve, reject });
    });
  } catch (error) {
    return Promise.reject(error);
  }
}

moduleInstallers.set(Modules.MCP, () => {
  global.MCP = Object.freeze({
    Events: Object.freeze({
      WebSocketMediaStarted: "MCP.Events.WebSocketMediaStarted",
      WebSocketMediaEnded: "MCP.Events.WebSocketMediaEnded",
    }),
    ServerEvents: MCP_SERVER_EVENTS,
    Client: MCPClient,
    createClient: createMcpClient,
  });
});

lazyUnits.set("mcp", {
  deliver: deliverMcp,
  clear() {
    mcpClients.clear();
  },
});
