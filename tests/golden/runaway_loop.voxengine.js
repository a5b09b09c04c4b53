// A handler that never returns is stopped by the 1 s CPU limit; Terminating still fires.
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.answer();
  for (;;) {}
});
VoxEngine.addEventListener(AppEvents.Terminating, (e) => Logger.write(`terminating: ${e.systemError}`));
VoxEngine.addEventListener(AppEvents.Terminated, () => Logger.write("terminated handler ran"));
