// dtmf-echo.voxengine.js: the default scenario of `dialtone serve`.
// Answers, greets the caller, says back every key the caller presses, and hangs up after '#'
// or 30 seconds.
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call, callerid }) => {
  let ending = false;
  const goodbye = () => {
    if (ending) return;
    ending = true;
    call.say("Goodbye.");
    call.addEventListener(CallEvents.PlaybackFinished, () => call.hangup());
  };

  call.addEventListener(CallEvents.Connected, () => {
    Logger.write(`connected to ${callerid}`);
    call.handleTones(true);
    call.say("Welcome to Dialtone. Press any keys and I will say them back. Press hash to hang up.");
    setTimeout(goodbye, 30000);
  });
  call.addEventListener(CallEvents.ToneReceived, ({ tone }) => {
    Logger.write(`caller pressed ${tone}`);
    if (tone === "#") {
      goodbye();
    } else if (!ending) {
      const spoken = tone === "*" ? "star" : tone;
      call.say(`You pressed ${spoken}.`);
    }
  });
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
