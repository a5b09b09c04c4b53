// record(): RecordStarted now, RecordStopped when the call ends.
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Connected, () => {
    call.record({ stereo: true });
    setTimeout(() => call.hangup(), 3000);
  });
  call.addEventListener(CallEvents.RecordStarted, (e) => Logger.write(`recording to ${e.url}`));
  call.addEventListener(CallEvents.RecordStopped, (e) => Logger.write(`recorded ${e.duration} s to ${e.url}`));
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
