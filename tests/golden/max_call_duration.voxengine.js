// @limit max_call_duration_s=30
// A connected call is hung up when it reaches the maximum call duration (per application,
// or [limits] max_call_duration_s), with a warning line; the scenario sees Disconnected.
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Disconnected, (e) => {
    Logger.write(`disconnected after ${e.duration} s: ${e.reason}`);
    VoxEngine.terminate();
  });
  call.answer();
});
