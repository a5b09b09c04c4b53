// handleTones: digits reach ToneReceived only when enabled; sendDigits; bad digits throw.
// @dtmf 1,23#
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  let heard = "";
  call.addEventListener(CallEvents.Connected, () => {
    setTimeout(() => call.handleTones(true), 1100);
  });
  call.addEventListener(CallEvents.ToneReceived, (e) => {
    heard += e.tone;
    Logger.write(`tone ${e.tone} type ${e.type}, heard so far '${heard}'`);
    if (e.tone === "#") {
      call.sendDigits("*9");
      try {
        call.sendDigits("12x");
      } catch (err) {
        Logger.write(`sendDigits: ${err.code}`);
      }
      call.hangup();
    }
  });
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
