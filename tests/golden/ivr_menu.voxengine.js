// A two-level IVR menu written the way Voximplant's IVR examples are: states declared leaf
// first, nextStates for a select menu, inputunknown ended by '#', a noinput goodbye. The
// caller presses 9 (no such option: the menu again), then 2, then an account number; a digit
// pressed during a prompt stops it.
// @dtmf ,9,,,,2,1234#
require(Modules.IVR);
let call;
const goodbye = new IVRState("goodbye", { type: "noinput", prompt: { say: "Thank you. Goodbye." } },
  () => call.hangup());
const account = new IVRState("account", {
  type: "inputunknown",
  terminateOn: "#",
  timeout: 4000,
  prompt: { say: "Enter your account number, then press pound.", lang: VoiceList.Default.en_US_Female },
}, (input) => {
  Logger.write(`account entered: ${input} (state.input ${account.input})`);
  goodbye.enter(call);
}, (input) => {
  Logger.write(`account timed out with '${input}'`);
  goodbye.enter(call);
});
const sales = new IVRState("sales", { type: "noinput", prompt: { say: "Sales is closed today." }, nextState: goodbye });
const main = new IVRState("main", {
  type: "select",
  prompt: { say: "Welcome. Press 1 for sales, or 2 for your account." },
  nextStates: { 1: sales, 2: account },
  timeout: 4000,
}, (digit) => {
  Logger.write(`no option ${digit}: the menu again`);
  main.enter(call);
}, () => {
  Logger.write("the menu timed out");
  call.hangup();
});

VoxEngine.addEventListener(AppEvents.CallAlerting, (e) => {
  call = e.call;
  call.addEventListener(CallEvents.Connected, () => main.enter(call));
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
