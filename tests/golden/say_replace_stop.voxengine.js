// say(): a second say replaces the first (which never finishes); stopPlayback ends one silently.
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Connected, () => {
    call.say("This first sentence is long and will be replaced before it ends.", { voice: "en-US" });
    setTimeout(() => call.say("Second."), 500);
  });
  let finished = 0;
  call.addEventListener(CallEvents.PlaybackStarted, (e) => Logger.write(`playback started, ${e.duration} ms`));
  call.addEventListener(CallEvents.PlaybackFinished, () => {
    finished += 1;
    Logger.write(`playback finished (${finished})`);
    call.say("This one is stopped.");
    setTimeout(() => {
      call.stopPlayback();
      setTimeout(() => call.hangup(), 5000);
    }, 300);
  });
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
