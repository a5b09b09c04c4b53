// VoxEngine namespace and AppEvents. Part of the prelude.

const AppEvents = Object.freeze({
  Started: "Application.Started",
  CallAlerting: "Application.CallAlerting",
  HttpRequest: "Application.HttpRequest",
  Terminating: "Application.Terminating",
  Terminated: "Application.Terminated",
  WebSocket: "AppEvents.NewWebSocketConnection",
  NewWebSocketFailed: "Application.OnNewWebSocketFailed",
});

const appListeners = new Listeners();

// A plain object, as in VoxEngine: scenario libraries (easyprocess.js and the like) add their
// helpers to it. Nothing of Dialtone's calls through it, so what a scenario changes there
// changes only its own view.
const VoxEngine = {
  addEventListener(event, handler) {
    appListeners.add("VoxEngine.addEventListener", event, handler);
  },
  removeEventListener(event, handler) {
    appListeners.remove("VoxEngine.removeEventListener", event, handler);
  },
  terminate() {
    ops.terminate();
  },
  customData(data) {
    if (data === undefined) return ops.customData();
    return ops.customData(String(data));
  },
  getSecretValue(name) {
    if (typeof name !== "string" || name === "") return undefined;
    return ops.secret(name);
  },
  createWebSocket(url, params) {
    return new (part("websocket").WebSocket)(url, params);
  },
  createTTSPlayer(text, parameters) {
    return createTTSPlayer(text, parameters);
  },
  createURLPlayer(request, parameters) {
    return createURLPlayer(request, parameters);
  },
  createToneScriptPlayer(script, parameters) {
    return createToneScriptPlayer(script, parameters);
  },
  createSequencePlayer(parameters) {
    return part("sequence_player").createSequencePlayer(parameters);
  },
  createRecorder(parameters) {
    return part("recorder").createRecorder(parameters);
  },
  callSIP(to, parameters, ...rest) {
    return callSip(to, parameters, ...rest);
  },
  callPSTN(number, callerid, parameters) {
    return callPstn(number, callerid, parameters);
  },
  callUser(parameters, ...rest) {
    return callUser(parameters, ...rest);
  },
  callConference(conferenceId, callerid, displayName, headers) {
    return callConference(conferenceId, callerid, displayName, headers);
  },
  easyProcess(inbound, outbound, onEstablished, direct) {
    part("forwarding").easyProcess(inbound, outbound, onEstablished, direct);
  },
  forwardCallToSIP(onEstablished) {
    part("forwarding").forwardCallToSIP(onEstablished);
  },
  forwardCallToPSTN(numberTransform, onEstablished) {
    part("forwarding").forwardCallToPSTN(numberTransform, onEstablished);
  },
  forwardCallToUser(onEstablished) {
    part("forwarding").forwardCallToUser(onEstablished);
  },
  sendMediaBetween(a, b) {
    sendMediaBetween(a, b);
  },
  stopMediaBetween(a, b) {
    stopMediaBetween(a, b);
  },
};

// The answer to an HTTP request to the access URL: a string or a number as text, nothing as
// an empty body, anything else as JSON.
function respondHttp(id, value) {
  if (value === undefined || value === null) ops.httpRespond(id, 200, "", "text/plain; charset=utf-8");
  else if (typeof value === "string" || typeof value === "number") {
    ops.httpRespond(id, 200, String(value), "text/plain; charset=utf-8");
  } else ops.httpRespond(id, 200, JSON.stringify(value), "application/json");
}

// QuickJS raises an InternalError when the heap limit is hit; with the constructor gone, a
// scenario cannot raise one itself and pass for a limit (V8, VoxEngine's engine, has none).
delete global.InternalError;

global.AppEvents = AppEvents;
global.VoxEngine = VoxEngine;
