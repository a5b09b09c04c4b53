// Nobody answers: the engine rejects the call with 480 after 60 s (unanswered-call limit).
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Disconnected, (e) => Logger.write(`dropped: ${e.reason}`));
});
