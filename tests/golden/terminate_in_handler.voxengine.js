// terminate() does not stop the current block; afterwards only Terminating/Terminated fire,
// pending timers never run and the live call is hung up by the engine.
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Connected, () => {
    setTimeout(() => Logger.write("timer after terminate ran"), 10);
    VoxEngine.terminate();
    Logger.write("still running the current block");
    call.say("dropped: the session is ending");
  });
  call.addEventListener(CallEvents.Disconnected, () => Logger.write("Disconnected after terminate ran"));
  call.answer();
});
VoxEngine.addEventListener(AppEvents.Terminating, (e) => Logger.write(`terminating, systemError=${e.systemError}`));
VoxEngine.addEventListener(AppEvents.Terminated, () => Logger.write("terminated"));
