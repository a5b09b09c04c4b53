// IVR timeouts and fixed-length input: the caller types two of the four digits a PIN needs
// and stops; the state's timeout (from the last digit) calls onInputTimeout with what it has.
// Then a noinput state with no prompt completes at once, and IVR.reset() leaves a state
// mid-prompt without calling its handlers. Bad settings throw, naming the state.
// @dtmf ,,12
require(Modules.IVR);
for (const [what, make] of [
  ["type", () => new IVRState("x", { type: "menu" })],
  ["inputLength", () => new IVRState("pin", { type: "inputfixed" })],
  ["terminator", () => new IVRState("acct", { type: "inputunknown" })],
]) {
  try { make(); } catch (e) { Logger.write(`${what}: ${e.name} ${e.code}: ${e.message}`); }
}
let call;
const silent = new IVRState("silent", { type: "noinput" }, () => {
  Logger.write("silent completed at once");
  const never = new IVRState("never", { type: "select", prompt: { say: "This prompt is cut short by a reset." } },
    () => Logger.write("never: input"), () => Logger.write("never: timeout"));
  never.enter(call);
  setTimeout(() => {
    IVR.reset();
    Logger.write("reset");
    setTimeout(() => call.hangup(), 6000);
  }, 500);
});
const pin = new IVRState("pin", { type: "inputfixed", inputLength: 4, timeout: 3000, prompt: { say: "Enter your four digit PIN." } },
  (input) => Logger.write(`pin: ${input}`),
  (input) => {
    Logger.write(`pin timed out with '${input}'`);
    silent.enter(call);
  });
VoxEngine.addEventListener(AppEvents.CallAlerting, (e) => {
  call = e.call;
  call.addEventListener(CallEvents.Connected, () => pin.enter(call));
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
