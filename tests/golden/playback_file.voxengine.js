// startPlayback: relative paths resolve against the scenario's directory; length from the WAV file; missing and broken files finish with an error;
// a looping playback runs until stopPlayback (which fires no PlaybackFinished).
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const steps = [
    () => call.startPlayback("media/tone-440hz-500ms.wav"),
    () => call.startPlayback("media/missing.wav"),
    () => call.startPlayback("media/not-audio.wav"),
    () => call.startPlayback("https://example.invalid/prompt.wav"),
    () => {
      call.startPlayback("media/tone-440hz-500ms.wav", { loop: true });
      setTimeout(() => {
        call.stopPlayback();
        call.hangup();
      }, 2000);
    },
  ];
  const next = () => steps.shift()();
  call.addEventListener(CallEvents.Connected, next);
  call.addEventListener(CallEvents.PlaybackStarted, (e) => Logger.write(`started, ${e.duration} ms`));
  call.addEventListener(CallEvents.PlaybackFinished, (e) => {
    Logger.write(`finished${e.error ? ": " + e.error : ""}`);
    next();
  });
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
