// reject() ends the call at once; commands on a terminated call are ignored with a warning.
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  try {
    call.reject(200);
  } catch (err) {
    Logger.write(`reject(200): ${err.name} ${err.code}: ${err.message}`);
  }
  call.addEventListener(CallEvents.Disconnected, (e) => {
    Logger.write(`disconnected: ${e.reason}, state=${call.state()}`);
    call.answer();
    VoxEngine.terminate();
  });
  call.reject(486, { "X-Why": "busy" });
});
