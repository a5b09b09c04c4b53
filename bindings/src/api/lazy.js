// Modules loaded on require, and parts of the global API loaded on first use: their code is
// compiled apart (prelude.rs) and runs in this realm only when a scenario requires or first
// touches them, so a session that never does carries none of it. Part of the prelude; the
// object of what they use from it is assembled in prelude.rs.

// Modules.X values of the modules loaded on require.
const lazyModuleNames = new Set(["acd", "applicationstorage", "asr", "conference", "ivr", "mcp"]);

// kind -> { deliver(...), clear() }: how dispatch reaches the units of a module once loaded.
const lazyUnits = new Map();

// Registers a module's units kept by id in `units`: dispatch's events for them reach
// `deliver(unit, name, payload)`, and teardown forgets them.
function registerUnitsById(kind, units, deliver) {
  lazyUnits.set(kind, {
    deliver(id, name, payloadJson) {
      const unit = units.get(id);
      if (unit) deliver(unit, name, JSON.parse(payloadJson));
    },
    clear() {
      units.clear();
    },
  });
}

// Runs module `name`'s code, which registers its installer.
function loadLazyModule(name) {
  ops.loadModule(name)(ops, global, preludeForModules);
}

// Parts loaded on first use: name -> what the prelude takes from it (the part's return value).
const loadedParts = new Map();

function part(name) {
  let exports = loadedParts.get(name);
  if (exports === undefined) {
    exports = ops.loadModule(`part:${name}`)(ops, global, preludeForModules);
    loadedParts.set(name, exports);
  }
  return exports;
}

// The globals each part defines. Until the part is loaded each is a getter that loads it; the
// part's own `global.X = X` (or a scenario's assignment) then replaces the getter with the value.
for (const [name, globals] of [
  ["net", ["Net"]],
  ["recorder", ["Recorder", "RecorderEvents"]],
  ["sequence_player", ["SequencePlayer", "SequencePlayerEvents"]],
  ["voices", ["Language", "VoiceList"]],
  ["websocket", ["WebSocket", "WebSocketEvents", "WebSocketAudioEncoding", "WebSocketReadyState", "WebSocketCloseCode"]],
]) {
  for (const key of globals) {
    Object.defineProperty(global, key, {
      configurable: true,
      enumerable: true,
      get() { return part(name)[key]; },
      set(value) {
        Object.defineProperty(global, key, { value, writable: true, enumerable: true, configurable: true });
      },
    });
  }
}

// require(Modules.Recorder) loads nothing: VoxEngine.createRecorder is always there.
moduleInstallers.set("recorder", () => {});

// The voice of say()/createTTSPlayer's options (voices.js); no options: the default voice,
// without loading the voice tables.
function voiceOf(options) {
  return options === undefined || options === null ? null : part("voices").voiceFromOptions(options);
}
