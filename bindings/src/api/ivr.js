// IVR: VoxEngine's menu states, on the call API (say/startPlayback, handleTones, ToneReceived,
// PlaybackFinished). Loaded by require(Modules.IVR). Loaded on require (see lazy.js).
//
// A state plays its prompt and collects digits; a digit pressed during the prompt stops it
// and counts. The timeout (ms, default 5000) runs from the prompt's end and again from each
// digit. One state is active per call: entering another leaves the first.
//   select        one digit: nextStates[digit] is entered, else onInputComplete(digit)
//   inputfixed    inputLength digits, then onInputComplete(input)
//   inputunknown  until inputValidator(input) is true or the terminateOn digit arrives
//                 (the input then ends with it, as VoxEngine's does)
//   noinput       the prompt, then nextState is entered, else onInputComplete("")
// No complete input in time: onInputTimeout(input so far).

const IVR_TYPES = ["select", "inputfixed", "inputunknown", "noinput"];
const IVR_DEFAULT_TIMEOUT_MS = 5000;
const ivrActive = new Map(); // call -> the running entry of its active state

function ivrFail(message) {
  throw codedError(TypeError, "ERR_INVALID_ARGUMENT", message);
}

class IVRState {
  #name;
  #settings;
  #onInputComplete;
  #onInputTimeout;
  input = "";

  constructor(name, settings, onInputComplete, onInputTimeout) {
    if (typeof name !== "string" || name === "") ivrFail("new IVRState: the name must be a non-empty string");
    if (!settings || typeof settings !== "object") ivrFail(`new IVRState('${name}'): settings must be an object`);
    if (!IVR_TYPES.includes(settings.type)) {
      ivrFail(`new IVRState('${name}'): type must be one of ${IVR_TYPES.join(", ")}, got ${JSON.stringify(settings.type)}`);
    }
    if (settings.type === "inputfixed" && !(Number.isInteger(settings.inputLength) && settings.inputLength > 0)) {
      ivrFail(`new IVRState('${name}'): an inputfixed state needs inputLength, a positive whole number`);
    }
    if (settings.type === "inputunknown" && settings.terminateOn === undefined && typeof settings.inputValidator !== "function") {
      ivrFail(`new IVRState('${name}'): an inputunknown state needs terminateOn or inputValidator`);
    }
    for (const [what, fn] of [["onInputComplete", onInputComplete], ["onInputTimeout", onInputTimeout]]) {
      if (fn !== undefined && fn !== null && typeof fn !== "function") ivrFail(`new IVRState('${name}'): ${what} must be a function`);
    }
    this.#name = name;
    this.#settings = settings;
    this.#onInputComplete = onInputComplete;
    this.#onInputTimeout = onInputTimeout;
  }

  get name() { return this.#name; }
  get settings() { return this.#settings; }
  toString() { return `IVRState(${this.#name})`; }

  // Plays the prompt to call and starts collecting its digits.
  enter(call) {
    if (!(call instanceof Call)) ivrFail(`IVRState('${this.#name}').enter: expected a Call, got ${describe(call)}`);
    ivrLeave(call);
    this.input = "";
    const settings = this.#settings;
    const timeoutMs = Number.isFinite(settings.timeout) && settings.timeout > 0 ? settings.timeout : IVR_DEFAULT_TIMEOUT_MS;
    const entry = { state: this, call, timer: null, prompting: false, done: false };
    const finish = (then) => {
      if (entry.done) return;
      ivrLeave(call);
      then();
    };
    const complete = () => finish(() => {
      const next = settings.type === "select" ? (settings.nextStates || {})[this.input]
        : settings.type === "noinput" ? settings.nextState : undefined;
      if (next instanceof IVRState) next.enter(call);
      else if (this.#onInputComplete) this.#onInputComplete(this.input);
    });
    const armTimeout = () => {
      clearTimeout(entry.timer);
      entry.timer = setTimeout(() => finish(() => { if (this.#onInputTimeout) this.#onInputTimeout(this.input); }), timeoutMs);
    };
    entry.onTone = (e) => {
      if (settings.type === "noinput") return;
      if (entry.prompting) {
        entry.prompting = false;
        call.stopPlayback();
      }
      this.input += e.tone;
      const ended = settings.type === "select"
        || (settings.type === "inputfixed" && this.input.length >= settings.inputLength)
        || (settings.type === "inputunknown" && (
          (settings.terminateOn !== undefined && e.tone === String(settings.terminateOn))
          || (typeof settings.inputValidator === "function" && settings.inputValidator(this.input))));
      if (ended) complete();
      else armTimeout();
    };
    entry.onPromptEnd = () => {
      if (!entry.prompting) return;
      entry.prompting = false;
      if (settings.type === "noinput") complete();
      else armTimeout();
    };
    entry.onGone = () => ivrLeave(call);
    ivrActive.set(call, entry);
    call.handleTones(true);
    call.addEventListener(CallEvents.ToneReceived, entry.onTone);
    call.addEventListener(CallEvents.PlaybackFinished, entry.onPromptEnd);
    call.addEventListener(CallEvents.Disconnected, entry.onGone);
    const prompt = settings.prompt;
    if (prompt && typeof prompt.play === "string") {
      entry.prompting = true;
      call.startPlayback(prompt.play);
    } else if (prompt && typeof prompt.say === "string") {
      entry.prompting = true;
      call.say(prompt.say, prompt.lang);
    } else if (settings.type === "noinput") {
      complete();
    } else {
      armTimeout();
    }
  }
}

// Stops the state active on call, if any, without calling its handlers.
function ivrLeave(call) {
  const entry = ivrActive.get(call);
  if (!entry) return;
  ivrActive.delete(call);
  entry.done = true;
  clearTimeout(entry.timer);
  call.removeEventListener(CallEvents.ToneReceived, entry.onTone);
  call.removeEventListener(CallEvents.PlaybackFinished, entry.onPromptEnd);
  call.removeEventListener(CallEvents.Disconnected, entry.onGone);
  if (entry.prompting) call.stopPlayback();
}

const IVR = {
  ttsOptions: undefined,
  // Leaves every active state (states hold nothing else: they can be entered again).
  reset() {
    for (const call of [...ivrActive.keys()]) ivrLeave(call);
  },
};

moduleInstallers.set(Modules.IVR, () => {
  global.IVR = IVR;
  global.IVRState = IVRState;
});
