// MCP.Client: an event-driven MCP client. Results arrive only as events, one per request, in
// request order; methods return the request id (also in every result event's data). Loaded
// on require(Modules.MCP) with mcp.js (see lazy.js).

const MCP_SERVER_EVENTS = Object.freeze({
  ConnectorInformation: "MCP.ServerEvents.ConnectorInformation",
  ToolsList: "MCP.ServerEvents.ToolsList",
  ToolResult: "MCP.ServerEvents.ToolResult",
  MCPError: "MCP.ServerEvents.MCPError",
  Unknown: "MCP.ServerEvents.Unknown",
  ResourcesList: "MCP.ServerEvents.ResourcesList",
  ResourceContent: "MCP.ServerEvents.ResourceContent",
  PromptsList: "MCP.ServerEvents.PromptsList",
  PromptResult: "MCP.ServerEvents.PromptResult",
  ToolsListChanged: "MCP.ServerEvents.ToolsListChanged",
  ResourcesListChanged: "MCP.ServerEvents.ResourcesListChanged",
  PromptsListChanged: "MCP.ServerEvents.PromptsListChanged",
  ResourceUpdated: "MCP.ServerEvents.ResourceUpdated",
  Progress: "MCP.ServerEvents.Progress",
  LoggingMessage: "MCP.ServerEvents.LoggingMessage",
  ElicitationRequest: "MCP.ServerEvents.ElicitationRequest",
  SamplingRequest: "MCP.ServerEvents.SamplingRequest",
});

// What a server request gets when no handler listens for it.
const UNHEARD_SERVER_REQUEST = Object.freeze({
  ElicitationRequest: { action: "decline" },
  SamplingRequest: { error: "sampling is not supported by this scenario" },
});

const MCP_CLIENT_TOKEN = Symbol("mcp client");
// id -> { client, resolve, reject } while connecting, then { client }.
const mcpClients = new Map();
let deliverToMcpClient; // set by MCPClient's static block

function requireObject(method, params, allowMissing) {
  if (params === undefined || params === null) {
    if (allowMissing) return {};
  } else if (typeof params === "object" && !Array.isArray(params)) {
    return params;
  }
  throw codedError(TypeError, "ERR_INVALID_ARGUMENT", `${method}: parameters must be an object`);
}

function requireString(method, params, field) {
  if (typeof params[field] !== "string" || params[field] === "") {
    throw codedError(TypeError, "ERR_INVALID_ARGUMENT", `${method}: '${field}' must be a non-empty string`);
  }
}

class MCPClient {
  #id;
  #clientId = ops.uuid();
  #webSocketId = ops.uuid();
  #listeners = new Listeners();
  #onClose;
  #closed = false;

  constructor(token, id, onClose) {
    if (token !== MCP_CLIENT_TOKEN) throw new TypeError("Illegal constructor: use MCP.createClient");
    this.#id = id;
    this.#onClose = onClose;
  }

  id() { return this.#clientId; }
  webSocketId() { return this.#webSocketId; }
  toString() { return `MCP.Client(${this.#clientId})`; }

  addEventListener(event, handler) {
    this.#listeners.add("MCP.Client.addEventListener", event, handler);
  }
  removeEventListener(event, handler) {
    this.#listeners.remove("MCP.Client.removeEventListener", event, handler);
  }

  listTools(params) {
    return this.#request("listTools", requireObject("listTools", params, true));
  }
  callTool(params) {
    const p = requireObject("callTool", params, false);
    requireString("callTool", p, "name");
    return this.#request("callTool", p);
  }
  listResources(params) {
    return this.#request("listResources", requireObject("listResources", params, true));
  }
  readResource(params) {
    const p = requireObject("readResource", params, false);
    requireString("readResource", p, "uri");
    return this.#request("readResource", p);
  }
  listPrompts(params) {
    return this.#request("listPrompts", requireObject("listPrompts", params, true));
  }
  getPrompt(params) {
    const p = requireObject("getPrompt", params, false);
    requireString("getPrompt", p, "name");
    return this.#request("getPrompt", p);
  }

  // The answer to an ElicitationRequest or SamplingRequest event.
  respond(requestId, answer) {
    if (this.#closed) {
      ops.log("warn", "MCP.Client.respond(): ignored, the client is closed");
      return;
    }
    if (typeof requestId !== "number") {
      throw codedError(TypeError, "ERR_INVALID_ARGUMENT", "respond: requestId must be the requestId of the event");
    }
    if (answer === null || typeof answer !== "object" || Array.isArray(answer)) {
      throw codedError(TypeError, "ERR_INVALID_ARGUMENT", "respond: the answer must be an object");
    }
    ops.mcpRespond(this.#id, requestId, JSON.stringify(answer));
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    ops.mcpClose(this.#id);
    mcpClients.delete(this.#id);
    Promise.resolve().then(() => this.#fireClose({ websocket: null, code: 1000, reason: "closed by the scenario", wasClean: true }));
  }

  #request(kind, params) {
    if (this.#closed) {
      ops.log("warn", `MCP.Client.${kind}(): ignored, the client is closed`);
      return undefined;
    }
    const requestId = ops.mcpRequest(this.#id, kind, JSON.stringify(params));
    if (requestId === null) {
      // The transport died and its close event is queued behind this turn.
      ops.log("warn", `MCP.Client.${kind}(): ignored, the connection to the MCP server is gone`);
      return undefined;
    }
    return requestId;
  }

  // VoxEngine's close event names its WebSocket to the connector; there is none here: null.
  #fireClose(event) {
    const onClose = this.#onClose;
    this.#onClose = undefined;
    this.#listeners.clear();
    if (onClose) onClose(event);
  }

  static {
    deliverToMcpClient = (client, kind, name, payload) => {
      if (kind === "closed") {
        if (client.#closed) return;
        client.#closed = true;
        mcpClients.delete(client.#id);
        client.#fireClose({ websocket: null, code: payload.code, reason: payload.reason, wasClean: false });
        return;
      }
      if (client.#closed) return;
      if (kind === "request" && !client.#listeners.has(MCP_SERVER_EVENTS[name])) {
        ops.mcpRespond(client.#id, payload.requestId, JSON.stringify(UNHEARD_SERVER_REQUEST[name]));
        return;
      }
      // Results and server requests come as {requestId, payload}; notifications as the payload.
      const data = kind === "result" || kind === "request"
        ? { customEvent: name, payload: payload.payload, requestId: payload.requestId }
        : { customEvent: name, payload };
      client.#listeners.emit(MCP_SERVER_EVENTS[name] || MCP_SERVER_EVENTS.Unknown, {
        name: MCP_SERVER_EVENTS[name] || MCP_SERVER_EVENTS.Unknown,
        client,
        data,
      });
    };
  }
}

// Engine entry point for MCP events.
function deliverMcp(kind, id, name, payloadJson) {
  const entry = mcpClients.get(id);
  if (!entry) return;
  const payload = payloadJson ? JSON.parse(payloadJson) : {};
  if (kind === "connected") {
    const { client, resolve } = entry;
    mcpClients.set(id, { client });
    resolve(client);
  } else if (kind === "failed") {
    mcpClients.delete(id);
    entry.reject(codedError(Error, payload.code, payload.message));
  } else {
    deliverToMcpClient(entry.client, kind, name, payload);
  }
}
