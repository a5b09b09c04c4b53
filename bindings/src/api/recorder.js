// The Recorder class (VoxEngine.createRecorder) and RecorderEvents. Loaded on first use
// (lazy.js); require(Modules.Recorder) loads nothing. A recorder mixes every unit linked to it
// (call.sendMediaTo(recorder)) into a WAV file under the data directory's recordings/.

const RecorderEvents = Object.freeze({
  RecorderError: "Recorder.Error",
  Started: "Recorder.Started",
  Stopped: "Recorder.Stopped",
});

const RECORDER_TOKEN = Symbol("recorder");
const recorders = new Map();
let recorderCount = 0;
let deliverToRecorder; // set by Recorder's static block

class Recorder {
  #id;
  #stopped = false;
  #listeners = new Listeners();

  constructor(token, name) {
    if (token !== RECORDER_TOKEN) throw new TypeError("Illegal constructor: use VoxEngine.createRecorder");
    this.#id = `recorder-${++recorderCount}`;
    registerMediaUnit(this, this.#id, "recorder");
    recorders.set(this.#id, this);
    ops.media(JSON.stringify({ op: "createRecorder", id: this.#id, name }));
  }

  id() { return this.#id; }
  toString() { return `Recorder(${this.#id})`; }

  addEventListener(event, handler) {
    this.#listeners.add("Recorder.addEventListener", event, handler);
  }
  removeEventListener(event, handler) {
    this.#listeners.remove("Recorder.removeEventListener", event, handler);
  }

  mute(doMute) { this.#control({ action: "mute", mute: Boolean(doMute) }); }
  stop() {
    if (this.#stopped) return;
    this.#control({ action: "stop" });
    this.#stopped = true;
  }

  #control(action) {
    if (this.#stopped) return;
    ops.media(JSON.stringify({ op: "recorderControl", id: this.#id, action }));
  }

  static {
    deliverToRecorder = (recorder, name, fields) => {
      recorder.#listeners.emit(name, { ...fields, name, recorder });
      if (name === RecorderEvents.Stopped || name === RecorderEvents.RecorderError) {
        recorder.#listeners.clear();
        recorders.delete(recorder.#id);
      }
    };
  }
}

// createRecorder(parameters?) and the legacy (name, secure?).
function createRecorder(parameters) {
  const name = typeof parameters === "string" ? parameters : (parameters && parameters.name) || "";
  return new Recorder(RECORDER_TOKEN, String(name));
}

registerUnitsById("recorder", recorders, (recorder, name, fields) => deliverToRecorder(recorder, name, fields));

global.Recorder = Recorder;
global.RecorderEvents = RecorderEvents;

// What the prelude takes from this part.
return { Recorder, RecorderEvents, createRecorder };
