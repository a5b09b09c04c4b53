// hello.voxengine.js: answer, greet the caller by voice, hang up.
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call, callerid }) => {
  call.addEventListener(CallEvents.Connected, () => {
    Logger.write(`connected to ${callerid}`);
    call.say(`Hello ${callerid}, welcome to Dialtone.`);
  });
  call.addEventListener(CallEvents.PlaybackFinished, () => call.hangup());
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
