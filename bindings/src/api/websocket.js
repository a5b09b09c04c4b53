// The WebSocket class (VoxEngine.createWebSocket), WebSocketEvents and its enums. Loaded on
// first use (lazy.js). The socket itself lives in the host; this facade sends commands (ops.media) and
// receives the host's events through the `websocket` entry point.

const WebSocketEvents = Object.freeze({
  OPEN: "WebSocket.Open",
  MESSAGE: "WebSocket.Message",
  CLOSE: "WebSocket.Close",
  ERROR: "WebSocket.Error",
  MEDIA_STARTED: "WebSocket.MediaEventStarted",
  MEDIA_ENDED: "WebSocket.MediaEventEnded",
});

const WebSocketAudioEncoding = Object.freeze({
  PCM8: "PCM8",
  PCM16_8KHZ: "PCM8",
  PCM16: "PCM16",
  PCM16_16KHZ: "PCM16",
  ALAW: "ALAW",
  ULAW: "ULAW",
  OPUS: "OPUS",
});

const WebSocketReadyState = Object.freeze({
  CONNECTING: "connecting",
  OPEN: "open",
  CLOSING: "closing",
  CLOSED: "closed",
});

const WebSocketCloseCode = Object.freeze({
  CLOSE_NORMAL: 1000,
  CLOSE_GOING_AWAY: 1001,
  CLOSE_PROTOCOL_ERROR: 1002,
  CLOSE_UNSUPPORTED: 1003,
  CLOSE_NO_STATUS: 1005,
  CLOSE_ABNORMAL: 1006,
  UNSUPPORTED_DATA: 1007,
  POLICY_VIOLATION: 1008,
  CLOSE_TOO_LARGE: 1009,
  MISSING_EXTENSION: 1010,
  INTERNAL_ERROR: 1011,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  BAD_GATEWAY: 1014,
  CLOSE_TLS_FAIL: 1015,
});

// Handler properties, each run before the addEventListener handlers of its event.
const WS_HANDLER_PROPERTIES = Object.freeze({
  [WebSocketEvents.OPEN]: "onopen",
  [WebSocketEvents.MESSAGE]: "onmessage",
  [WebSocketEvents.CLOSE]: "onclose",
  [WebSocketEvents.ERROR]: "onerror",
  [WebSocketEvents.MEDIA_STARTED]: "onmediastarted",
  [WebSocketEvents.MEDIA_ENDED]: "onmediaended",
});

const webSockets = new Map();
let webSocketCount = 0;
let deliverToWebSocket; // set by WebSocket's static block: entry point for host events

// WebSocketParameters, or the pre-v12 `protocols` string/array, -> the host's spec fields.
function webSocketOptions(params) {
  if (params === undefined || params === null) return { protocols: [], headers: [], format: "voxengine" };
  if (typeof params === "string") return { protocols: [params], headers: [], format: "voxengine" };
  if (Array.isArray(params)) return { protocols: params.map(String), headers: [], format: "voxengine" };
  if (typeof params !== "object") {
    throw codedError(TypeError, "ERR_INVALID_ARGUMENT",
      `VoxEngine.createWebSocket: parameters must be an object, got ${describe(params)}`);
  }
  let protocols = [];
  if (typeof params.protocols === "string") protocols = [params.protocols];
  else if (Array.isArray(params.protocols)) protocols = params.protocols.map(String);
  const headers = [];
  if (Array.isArray(params.headers)) {
    for (const header of params.headers) {
      if (!header || typeof header !== "object" || typeof header.name !== "string") {
        throw codedError(TypeError, "ERR_INVALID_ARGUMENT",
          "VoxEngine.createWebSocket: headers must be an array of {name, value}");
      }
      headers.push([header.name, String(header.value)]);
    }
  } else if (params.headers !== undefined && params.headers !== null) {
    if (typeof params.headers !== "object") {
      throw codedError(TypeError, "ERR_INVALID_ARGUMENT",
        "VoxEngine.createWebSocket: headers must be an array of {name, value}");
    }
    for (const [name, value] of Object.entries(params.headers)) headers.push([name, String(value)]);
  }
  const format = params.format === undefined || params.format === null ? "voxengine" : String(params.format);
  if (format !== "voxengine" && format !== "twilio") {
    throw codedError(TypeError, "ERR_INVALID_ARGUMENT",
      `VoxEngine.createWebSocket: format must be "voxengine" or "twilio", got '${format}'`);
  }
  return { protocols, headers, format };
}

class WebSocket {
  #id;
  #url;
  #readyState = WebSocketReadyState.CONNECTING;
  #listeners = new Listeners();

  constructor(url, params) {
    if (typeof url !== "string" || !/^wss?:\/\/[^/]/i.test(url)) {
      throw codedError(TypeError, "ERR_INVALID_ARGUMENT",
        `VoxEngine.createWebSocket: url must be a ws:// or wss:// URL, got ${typeof url === "string" ? `'${url}'` : describe(url)}`);
    }
    const options = webSocketOptions(params);
    this.#id = `websocket-${++webSocketCount}`;
    this.#url = url;
    this.onopen = null;
    this.onmessage = null;
    this.onclose = null;
    this.onerror = null;
    this.onmediastarted = null;
    this.onmediaended = null;
    registerMediaUnit(this, this.#id, "websocket");
    webSockets.set(this.#id, this);
    ops.media(JSON.stringify({ op: "createWebSocket", id: this.#id, url, ...options }));
  }

  id() { return this.#id; }
  get url() { return this.#url; }
  get readyState() { return this.#readyState; }
  toString() { return `WebSocket(${this.#id})`; }

  addEventListener(event, handler) {
    this.#listeners.add("WebSocket.addEventListener", event, handler);
  }
  removeEventListener(event, handler) {
    this.#listeners.remove("WebSocket.removeEventListener", event, handler);
  }

  send(data) {
    if (typeof data !== "string") {
      throw codedError(TypeError, "ERR_INVALID_ARGUMENT",
        `WebSocket.send: only text can be sent, got ${describe(data)}`);
    }
    if (this.#readyState !== WebSocketReadyState.OPEN) {
      ops.log("warn", `WebSocket.send(): ignored, the socket is ${this.#readyState}`);
      return;
    }
    ops.media(JSON.stringify({ op: "webSocketSend", id: this.#id, text: data }));
  }

  close() {
    if (this.#readyState === WebSocketReadyState.CLOSED || this.#readyState === WebSocketReadyState.CLOSING) return;
    this.#readyState = WebSocketReadyState.CLOSING;
    ops.media(JSON.stringify({ op: "webSocketClose", id: this.#id }));
  }

  clearMediaBuffer(params) {
    const tag = params && params.tag !== undefined && params.tag !== null ? String(params.tag) : undefined;
    ops.media(JSON.stringify({ op: "clearMediaBuffer", id: this.#id, tag }));
  }

  sendMediaTo(unit, params) { sendMedia("WebSocket.sendMediaTo", this, unit, params); }
  stopMediaTo(unit) { stopMedia("WebSocket.stopMediaTo", this, unit); }

  static {
    deliverToWebSocket = (ws, name, fields) => {
      if (ws.#readyState === WebSocketReadyState.CLOSED) return;
      if (name === WebSocketEvents.OPEN && ws.#readyState === WebSocketReadyState.CONNECTING) {
        ws.#readyState = WebSocketReadyState.OPEN;
      }
      if (name === WebSocketEvents.CLOSE) {
        ws.#readyState = WebSocketReadyState.CLOSED;
        webSockets.delete(ws.#id);
      }
      const event = { ...fields, name, websocket: ws };
      const property = ws[WS_HANDLER_PROPERTIES[name]];
      if (typeof property === "function") property.call(ws, event);
      ws.#listeners.emit(name, event);
      if (name === WebSocketEvents.CLOSE) ws.#listeners.clear();
    };
  }
}

registerUnitsById("websocket", webSockets, (ws, name, fields) => deliverToWebSocket(ws, name, fields));

global.WebSocket = WebSocket;
global.WebSocketEvents = WebSocketEvents;
global.WebSocketAudioEncoding = WebSocketAudioEncoding;
global.WebSocketReadyState = WebSocketReadyState;
global.WebSocketCloseCode = WebSocketCloseCode;

// What the prelude takes from this part.
return { WebSocket, WebSocketEvents, WebSocketAudioEncoding, WebSocketReadyState, WebSocketCloseCode };
