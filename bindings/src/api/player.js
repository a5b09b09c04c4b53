// Players: the Player class (createTTSPlayer, createURLPlayer, createToneScriptPlayer) and
// PlayerEvents, with the base SequencePlayer shares. Part of the prelude. A player plays in
// the host from the moment it is created (unless onPause); sendMediaTo routes it to a call.

const PlayerEvents = Object.freeze({
  Created: "Player.Created",
  PlaybackReady: "Player.PlaybackReady",
  Started: "Player.Started",
  Stopped: "Player.Stopped",
  PlaybackFinished: "Player.PlaybackFinished",
  Error: "Player.Error",
  PlaybackMarkerReached: "Player.PlaybackMarkerReached",
  PlaybackBuffering: "Player.Buffering",
});

const PLAYER_TOKEN = Symbol("player");
const players = new Map();
let playerCount = 0;
let deliverToPlayer; // set by PlayerBase's static block

// What Player and SequencePlayer share; `kind` names the events ("Player" ...) and the
// payload key ("player" ...).
class PlayerBase {
  #id;
  #kind;
  #key;
  #stopped = false;
  #listeners = new Listeners();

  constructor(token, kind, key, spec) {
    if (token !== PLAYER_TOKEN) {
      throw new TypeError(`Illegal constructor: use VoxEngine.create${kind === "Player" ? "TTSPlayer" : kind}`);
    }
    this.#kind = kind;
    this.#key = key;
    this.#id = `${key.toLowerCase()}-${++playerCount}`;
    registerMediaUnit(this, this.#id, "player");
    players.set(this.#id, this);
    ops.media(JSON.stringify({ op: "createPlayer", id: this.#id, ...spec }));
  }

  id() { return this.#id; }
  toString() { return `${this.#kind}(${this.#id})`; }

  addEventListener(event, handler) {
    this.#listeners.add(`${this.#kind}.addEventListener`, event, handler);
  }
  removeEventListener(event, handler) {
    this.#listeners.remove(`${this.#kind}.removeEventListener`, event, handler);
  }

  pause() { this.#control({ action: "pause" }); }
  resume() { this.#control({ action: "resume" }); }
  stop() { this.#control({ action: "stop" }); }
  addMarker(offset) {
    const ms = Number(offset);
    if (!Number.isFinite(ms)) {
      throw codedError(TypeError, "ERR_INVALID_ARGUMENT",
        `${this.#kind}.addMarker: offset must be a number of milliseconds, got ${describe(offset)}`);
    }
    this.#control({ action: "addMarker", offset: Math.trunc(ms) });
  }
  sendMediaTo(unit, params) { sendMedia(`${this.#kind}.sendMediaTo`, this, unit, params); }
  stopMediaTo(unit) { stopMedia(`${this.#kind}.stopMediaTo`, this, unit); }

  #control(action) {
    if (this.#stopped) return;
    if (action.action === "stop") this.#stopped = true;
    ops.media(JSON.stringify({ op: "playerControl", id: this.#id, action }));
  }

  static {
    deliverToPlayer = (player, name, fields) => {
      player.#listeners.emit(name, { ...fields, name, [player.#key]: player });
      if (name.endsWith(".Stopped")) {
        player.#listeners.clear();
        players.delete(player.#id);
      }
    };
  }
}

class Player extends PlayerBase {
  constructor(token, spec) {
    super(token, "Player", "player", spec);
  }
}

// createTTSPlayer(text, parameters?) and the legacy (text, Language.X, ttsOptions?).
function createTTSPlayer(text, parameters) {
  if (typeof text !== "string") {
    throw codedError(TypeError, "ERR_INVALID_ARGUMENT", "VoxEngine.createTTSPlayer: text must be a string");
  }
  const voice = voiceOf(parameters);
  const segment = voice === null ? { kind: "tts", text } : { kind: "tts", text, voice };
  const onPause = Boolean(parameters && typeof parameters === "object" && parameters.onPause);
  return new Player(PLAYER_TOKEN, { segments: [segment], onPause });
}

// createURLPlayer(request, parameters?): request is a URL or {url, method?, headers?, body?};
// the legacy forms are (url, loop) and (url, options).
function createURLPlayer(request, parameters) {
  const method = "VoxEngine.createURLPlayer";
  const url = typeof request === "string" ? request : request && request.url;
  if (typeof url !== "string" || url === "") {
    throw codedError(TypeError, "ERR_INVALID_ARGUMENT", `${method}: the request needs a url`);
  }
  if (request && typeof request === "object") {
    const verb = request.method === undefined ? "GET" : String(request.method).toUpperCase();
    if (verb !== "GET" || request.body !== undefined || request.headers !== undefined) {
      throw codedError(Error, "ERR_MEDIA_UNSUPPORTED",
        `${method}: only a plain GET of the url is available in Dialtone yet (no method, headers or body)`);
    }
  }
  const options = typeof parameters === "boolean" ? { loop: parameters } : parameters || {};
  return new Player(PLAYER_TOKEN, {
    segments: [{ kind: "url", url }],
    loop: Boolean(options.loop),
    onPause: Boolean(options.onPause),
  });
}

// createToneScriptPlayer(script, parameters?) and the legacy (script, loop).
function createToneScriptPlayer(script, parameters) {
  if (typeof script !== "string" || script === "") {
    throw codedError(TypeError, "ERR_INVALID_ARGUMENT",
      "VoxEngine.createToneScriptPlayer: script must be a ToneScript string such as '440@-10;1(1/0/1)'");
  }
  const options = typeof parameters === "boolean" ? { loop: parameters } : parameters || {};
  return new Player(PLAYER_TOKEN, {
    segments: [{ kind: "toneScript", script }],
    loop: Boolean(options.loop),
    onPause: Boolean(options.onPause),
  });
}

global.Player = Player;
global.PlayerEvents = PlayerEvents;
