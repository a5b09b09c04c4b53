// SequencePlayer (VoxEngine.createSequencePlayer) and SequencePlayerEvents. Loaded on first
// use (lazy.js): it plays its TTS and URL segments one after another, as one player.

const SequencePlayerEvents = Object.freeze({
  Created: "SequencePlayer.Created",
  PlaybackReady: "SequencePlayer.PlaybackReady",
  Started: "SequencePlayer.Started",
  Stopped: "SequencePlayer.Stopped",
  PlaybackFinished: "SequencePlayer.PlaybackFinished",
  Error: "SequencePlayer.Error",
  PlaybackMarkerReached: "SequencePlayer.PlaybackMarkerReached",
});

class SequencePlayer extends PlayerBase {
  constructor(token, spec) {
    super(token, "SequencePlayer", "sequencePlayer", spec);
  }
}

function createSequencePlayer(parameters) {
  const method = "VoxEngine.createSequencePlayer";
  const segments = parameters && parameters.segments;
  if (!Array.isArray(segments) || segments.length === 0 || segments.length > 50) {
    throw codedError(TypeError, "ERR_INVALID_ARGUMENT", `${method}: segments must be an array of 1 to 50 segments`);
  }
  const parsed = segments.map((segment, index) => {
    if (segment && typeof segment.text === "string") {
      const voice = voiceOf(segment.parameters);
      return voice === null ? { kind: "tts", text: segment.text } : { kind: "tts", text: segment.text, voice };
    }
    const request = segment && segment.url;
    if (request && typeof request === "object") {
      const verb = request.method === undefined ? "GET" : String(request.method).toUpperCase();
      if (verb !== "GET" || request.body !== undefined || request.headers !== undefined) {
        throw codedError(Error, "ERR_MEDIA_UNSUPPORTED",
          `${method}: segment ${index + 1}: only a plain GET of the url is available in Dialtone yet (no method, headers or body)`);
      }
    }
    const url = typeof request === "string" ? request : request && request.url;
    if (typeof url === "string" && url !== "") return { kind: "url", url };
    throw codedError(TypeError, "ERR_INVALID_ARGUMENT",
      `${method}: segment ${index + 1} needs a text or a url`);
  });
  return new SequencePlayer(PLAYER_TOKEN, { segments: parsed, sequence: true });
}

global.SequencePlayer = SequencePlayer;
global.SequencePlayerEvents = SequencePlayerEvents;

// What the prelude takes from this part.
return { SequencePlayer, SequencePlayerEvents, createSequencePlayer };
