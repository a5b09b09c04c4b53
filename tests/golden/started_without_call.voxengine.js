// @no-call
// @custom-data {"callback":"+15550100"}
// A session started without a call (admin API POST .../sessions, console --no-call): Started
// carries the custom data, no CallAlerting comes, and the scenario places its own call (the
// console answers every outbound call with Failed 501), then ends.
VoxEngine.addEventListener(AppEvents.Started, (e) => {
  const data = JSON.parse(VoxEngine.customData());
  Logger.write(`started with ${e.customData}; calling back ${data.callback}`);
  const out = VoxEngine.callPSTN(data.callback, "15550199");
  out.addEventListener(CallEvents.Failed, (f) => {
    Logger.write(`call-back failed: ${f.code}`);
    VoxEngine.terminate();
  });
});
VoxEngine.addEventListener(AppEvents.CallAlerting, () => Logger.write("no call should alert"));
