// MCP module placeholder: require(Modules.MCP) defines the MCP namespace. The client itself
// arrives with the MCP issue; until then createClient rejects with ERR_NOT_IMPLEMENTED.
// Part of the prelude.

moduleInstallers.set(Modules.MCP, () => {
  global.MCP = Object.freeze({
    Events: Object.freeze({
      WebSocketMediaStarted: "MCP.Events.WebSocketMediaStarted",
      WebSocketMediaEnded: "MCP.Events.WebSocketMediaEnded",
    }),
    ServerEvents: Object.freeze({
      ConnectorInformation: "MCP.ServerEvents.ConnectorInformation",
      ToolsList: "MCP.ServerEvents.ToolsList",
      ToolResult: "MCP.ServerEvents.ToolResult",
      MCPError: "MCP.ServerEvents.MCPError",
      Unknown: "MCP.ServerEvents.Unknown",
    }),
    createClient() {
      return Promise.reject(codedError(Error, "ERR_NOT_IMPLEMENTED",
        "MCP.createClient: the MCP client is not implemented in this build"));
    },
  });
});
