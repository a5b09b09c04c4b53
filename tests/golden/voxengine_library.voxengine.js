// A scenario library in the style of Voximplant's easyprocess.js adds its helper to VoxEngine,
// and the scenario uses it; VoxEngine's own methods keep working.
VoxEngine.answerAndSay = function (call, text) {
  call.addEventListener(CallEvents.Connected, () => call.say(text));
  call.answer();
};

VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  Logger.write(`extensible: ${Object.isExtensible(VoxEngine)}; helper: ${typeof VoxEngine.answerAndSay}`);
  call.addEventListener(CallEvents.PlaybackFinished, () => VoxEngine.terminate());
  VoxEngine.answerAndSay(call, "Hello from a library helper.");
});
