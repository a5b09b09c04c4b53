// The caller hangs up: Disconnected with the duration; the session goes on until terminate.
// @hangup-after 3s
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Disconnected, (e) => {
    Logger.write(`caller left after ${e.duration} s: ${e.reason}`);
    setTimeout(() => {
      Logger.write("cleanup done");
      VoxEngine.terminate();
    }, 1000);
  });
  call.answer();
});
