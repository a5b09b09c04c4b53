// Players as media units: a TTS player routed to the call with markers, a ToneScript player
// paused and resumed then stopped, a sequence player, a URL player whose file is missing, and
// the errors the factories throw. Voices in every VoxEngine shape.
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const log = (e) => Logger.write(`${e.name}${e.duration !== undefined ? ` ${e.duration} ms` : ""}${e.offset !== undefined ? ` at ${e.offset}` : ""}${e.error ? `: ${e.error}` : ""}`);
  call.addEventListener(CallEvents.Connected, () => {
    const greeting = VoxEngine.createTTSPlayer("Welcome to the players test.", { voice: VoiceList.Amazon.en_US_Joanna });
    for (const name of Object.values(PlayerEvents)) greeting.addEventListener(name, log);
    greeting.addMarker(500);
    greeting.addMarker(-300);
    greeting.sendMediaTo(call);
    greeting.addEventListener(PlayerEvents.PlaybackFinished, () => {
      const tones = VoxEngine.createToneScriptPlayer("440@-10;*(1/1/1)", true);
      for (const name of Object.values(PlayerEvents)) tones.addEventListener(name, log);
      tones.sendMediaTo(call);
      setTimeout(() => tones.pause(), 1000);
      setTimeout(() => tones.resume(), 3000);
      setTimeout(() => tones.stop(), 4000);
      tones.addEventListener(PlayerEvents.Stopped, () => {
        const sequence = VoxEngine.createSequencePlayer({ segments: [
          { text: "One.", parameters: { language: Language.EUR_GERMAN_MALE } },
          { url: "media/tone-440hz-500ms.wav" },
          { text: "Two.", parameters: { voice: VoiceList.Default.fr_FR_Female } },
        ] });
        for (const name of Object.values(SequencePlayerEvents)) sequence.addEventListener(name, log);
        sequence.addEventListener(SequencePlayerEvents.PlaybackFinished, (e) => {
          Logger.write(`payload key: ${e.sequencePlayer === sequence}`);
          const missing = VoxEngine.createURLPlayer("media/missing.wav");
          missing.addEventListener(PlayerEvents.PlaybackFinished, (f) => {
            log(f);
            call.hangup();
          });
        });
      });
    });
  });
  for (const [label, f] of [
    ["tts without text", () => VoxEngine.createTTSPlayer()],
    ["url POST", () => VoxEngine.createURLPlayer({ url: "http://127.0.0.1/a.wav", method: "POST" })],
    ["empty sequence", () => VoxEngine.createSequencePlayer({ segments: [] })],
    ["marker", () => VoxEngine.createToneScriptPlayer("440@-10;1(1/0/1)", { onPause: true }).addMarker("soon")],
    ["player as a target", () => call.sendMediaTo(VoxEngine.createToneScriptPlayer("440@-10;1(1/0/1)", { onPause: true }))],
  ]) {
    try { f(); Logger.write(`${label}: no error`); }
    catch (e) { Logger.write(`${label}: ${e.name} ${e.code} ${e.message}`); }
  }
  Logger.write(`voices: ${VoiceList.Amazon.en_US_Joanna} ${VoiceList.Amazon.en_US_Joanna.language} ${VoiceList.Microsoft.Neural.de_DE_KatjaNeural.provider} ${Language.US_ENGLISH_FEMALE}`);
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
