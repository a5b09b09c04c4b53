// Engine entry points, returned to Rust at the end of the prelude.

return {
  // An application event. `call` is the alerting call's info for CallAlerting.
  app(name, payloadJson, callInfoJson) {
    const fields = payloadJson ? JSON.parse(payloadJson) : {};
    const event = { ...fields, name };
    if (callInfoJson) event.call = newCall(JSON.parse(callInfoJson));
    appListeners.emit(name, event);
  },
  // An HTTP request to the session's access URL: the first value a handler returns (a
  // promise is awaited) is the answer; no handler: 404; a rejected promise: 500.
  httpRequest(id, payloadJson) {
    const event = { ...JSON.parse(payloadJson), name: AppEvents.HttpRequest };
    if (!appListeners.has(AppEvents.HttpRequest)) {
      ops.httpRespond(id, 404, "no AppEvents.HttpRequest handler in this session", "text/plain");
      return;
    }
    const answer = appListeners.emitCollect(AppEvents.HttpRequest, event).find((r) => r !== undefined);
    Promise.resolve(answer).then(
      (value) => respondHttp(id, value),
      (error) => {
        ops.httpRespond(id, 500, "the AppEvents.HttpRequest handler failed", "text/plain");
        throw error;
      },
    );
  },
  // An event on a known call.
  call(callId, name, payloadJson) {
    const call = calls.get(callId);
    if (call) deliverToCall(call, name, JSON.parse(payloadJson));
  },
  // An event on a WebSocket the session created.
  websocket(id, name, payloadJson) {
    lazyUnits.get("websocket")?.deliver(id, name, payloadJson);
  },
  // An event on a player or a sequence player.
  player(id, name, payloadJson) {
    const player = players.get(id);
    if (player) deliverToPlayer(player, name, JSON.parse(payloadJson));
  },
  sequencePlayer(id, name, payloadJson) {
    const player = players.get(id);
    if (player) deliverToPlayer(player, name, JSON.parse(payloadJson));
  },
  // Units of modules loaded on require or on first use (none exist before the load).
  acd(id, name, payloadJson) {
    lazyUnits.get("acd")?.deliver(id, name, payloadJson);
  },
  asr(id, name, payloadJson) {
    lazyUnits.get("asr")?.deliver(id, name, payloadJson);
  },
  recorder(id, name, payloadJson) {
    lazyUnits.get("recorder")?.deliver(id, name, payloadJson);
  },
  timer(id, done) {
    fireTimer(id, done);
  },
  // An MCP client event: kind is connected, failed, result, notification or closed.
  mcp(kind, id, name, payloadJson) {
    lazyUnits.get("mcp")?.deliver(kind, id, name, payloadJson);
  },
  // An async op (Net, ApplicationStorage) finished: ok resolves, else rejects with its code.
  settle(id, ok, payloadJson) {
    settleOp(id, ok, payloadJson);
  },
  // Drops every listener and callback (teardown).
  clear() {
    appListeners.clear();
    timers.clear();
    calls.clear();
    players.clear();
    for (const units of lazyUnits.values()) units.clear();
    pendingOps.clear();
  },
};
