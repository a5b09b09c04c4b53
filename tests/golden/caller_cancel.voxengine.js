// The caller gives up before the scenario answers; with no call left the session ends after
// the no-call timeout.
// @hangup-after 5s
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Disconnected, (e) => Logger.write(`cancelled: ${e.reason}`));
  setTimeout(() => call.answer(), 10000);
});
