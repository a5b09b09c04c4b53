// Parts of the global API loaded on first use (WebSocket, Net, the recorder, the sequence
// player, the voice tables): each global is a getter until first read, then the part's own
// value; a scenario may assign over one before it loads, and its value stays.
const kind = (name) => {
  const d = Object.getOwnPropertyDescriptor(globalThis, name);
  return d === undefined ? "absent" : d.get ? "getter" : `value (${typeof d.value})`;
};
Logger.write(`before use: WebSocket ${kind("WebSocket")}, Net ${kind("Net")}, VoiceList ${kind("VoiceList")}, Recorder ${kind("Recorder")}`);
Logger.write(`WebSocketEvents.OPEN=${WebSocketEvents.OPEN}; WebSocket ${kind("WebSocket")}, WebSocketCloseCode ${kind("WebSocketCloseCode")}`);
Logger.write(`${VoiceList.Google.en_US_Wavenet_D} ${Language.US_ENGLISH_FEMALE}; VoiceList ${kind("VoiceList")}`);
Net = { mine: true };
Logger.write(`a scenario's own Net stays: ${JSON.stringify(Net)}; ${kind("Net")}`);
Logger.write(`Object.keys has them: ${["SequencePlayer", "RecorderEvents"].every((k) => Object.keys(globalThis).includes(k))}`);
Logger.write(`SequencePlayerEvents.Started=${SequencePlayerEvents.Started}; RecorderEvents.Stopped=${RecorderEvents.Stopped}`);
try {
  VoxEngine.createSequencePlayer({ segments: [] });
} catch (err) {
  Logger.write(`${err.name} ${err.code}: ${err.message}`);
}
VoxEngine.terminate();
