// The Call class and CallEvents. Part of the prelude.

const CallEvents = Object.freeze({
  AudioStarted: "Call.AudioStarted",
  Connected: "Call.Connected",
  Disconnected: "Call.Disconnected",
  Failed: "Call.Failed",
  FirstAudioPacketReceived: "Call.FirstAudioPacketReceived",
  InfoReceived: "Call.InfoReceived",
  MessageReceived: "Call.MessageReceived",
  PlaybackFinished: "Call.PlaybackFinished",
  PlaybackReady: "Call.PlaybackReady",
  PlaybackStarted: "Call.PlaybackStarted",
  RecordError: "Call.RecordError",
  RecordStarted: "Call.RecordStarted",
  RecordStopped: "Call.RecordStopped",
  Ringing: "Call.Ringing",
  StateChanged: "Call.StateChanged",
  ToneReceived: "Call.ToneReceived",
});

// Ringback tones by country (ToneScript; a '*' section repeats until stopped).
const PROGRESS_TONES = Object.freeze({
  US: "440@-19,480@-19;*(2/4/1+2)",
  RU: "425@-10;*(.8/3.2/1)",
  GB: "400@-19,450@-19;*(.4/.2/1+2,.4/2/1+2)",
  DE: "425@-10;*(1/4/1)",
});

const CALL_TOKEN = Symbol("call");
const calls = new Map();
let deliverToCall; // set by Call's static block: engine entry point for host events

function headerMap(method, headers) {
  if (headers === undefined || headers === null) return {};
  if (typeof headers !== "object" || Array.isArray(headers)) {
    throw codedError(TypeError, "ERR_INVALID_ARGUMENT",
      `${method}: extra headers must be an object of name -> string value`);
  }
  const out = {};
  for (const [name, value] of Object.entries(headers)) out[name] = String(value);
  return out;
}

class Call {
  #info;
  #state = "ALERTING";
  #customData = "";
  #listeners = new Listeners();
  #progressTone = null;
  // An outgoing call plays and records through units linked to it (its leg has no
  // playback of its own): the current player and recorder.
  #legPlayer = null;
  #legRecorder = null;

  constructor(token, info) {
    if (token !== CALL_TOKEN) throw new TypeError("Illegal constructor: calls come from CallAlerting or VoxEngine.callSIP");
    this.#info = info;
    if (info.outgoing) this.#state = "PROGRESSING";
    registerMediaUnit(this, info.id, "call");
  }

  id() { return this.#info.id; }
  callerid() { return this.#info.callerid; }
  displayName() { return this.#info.displayName; }
  number() { return this.#info.destination; }
  incoming() { return !this.#info.outgoing; }
  state() { return this.#state; }
  clientType() { return this.#info.scheme === "sip" ? "sip" : this.#info.scheme; }
  toString() { return `Call(${this.#info.id})`; }

  customData(data) {
    if (data !== undefined) this.#customData = String(data);
    return this.#customData;
  }

  addEventListener(event, handler) {
    this.#listeners.add("Call.addEventListener", event, handler);
  }
  removeEventListener(event, handler) {
    this.#listeners.remove("Call.removeEventListener", event, handler);
  }

  ring(extraHeaders) {
    this.#command("ring", { headers: headerMap("call.ring", extraHeaders) });
  }
  startEarlyMedia(extraHeaders) {
    this.#command("startEarlyMedia", { headers: headerMap("call.startEarlyMedia", extraHeaders) });
  }
  // Ringback generated here (a ToneScript player linked to the call); on an unanswered call
  // the caller hears it after startEarlyMedia().
  playProgressTone(country) {
    const script = PROGRESS_TONES[String(country).toUpperCase()];
    if (!script) {
      throw codedError(TypeError, "ERR_INVALID_ARGUMENT",
        `call.playProgressTone: no progress tone for '${country}' (use ${Object.keys(PROGRESS_TONES).join(", ")})`);
    }
    this.#stopProgressTone();
    this.#progressTone = createToneScriptPlayer(script);
    this.#progressTone.sendMediaTo(this);
  }
  #stopProgressTone() {
    if (this.#progressTone) this.#progressTone.stop();
    this.#progressTone = null;
  }
  answer(extraHeaders) {
    this.#command("answer", { headers: headerMap("call.answer", extraHeaders) });
  }
  reject(code, extraHeaders) {
    const status = code === undefined ? 603 : Number(code);
    if (!Number.isInteger(status) || status < 400 || status > 699) {
      throw codedError(RangeError, "ERR_INVALID_ARGUMENT",
        `call.reject: code must be a SIP final status 400-699, got ${code}`);
    }
    this.#command("reject", { code: status, headers: headerMap("call.reject", extraHeaders) });
  }
  decline(code, extraHeaders) { this.reject(code === undefined ? 603 : code, extraHeaders); }
  hangup(extraHeaders) {
    this.#command("hangup", { headers: headerMap("call.hangup", extraHeaders) });
  }
  startPlayback(url, options) {
    if (typeof url !== "string" || url === "") {
      throw codedError(TypeError, "ERR_INVALID_ARGUMENT", "call.startPlayback: url must be a non-empty string");
    }
    if (this.#viaUnits()) {
      this.#playOnLeg(createURLPlayer(url, { loop: Boolean(options && options.loop) }));
      return;
    }
    this.#command("startPlayback", { url, loop: Boolean(options && options.loop) });
  }
  stopPlayback() {
    this.#stopProgressTone();
    if (this.#viaUnits()) {
      this.#stopLegPlayer();
      return;
    }
    this.#command("stopPlayback", {});
  }
  say(text, options) {
    if (typeof text !== "string") {
      throw codedError(TypeError, "ERR_INVALID_ARGUMENT", "call.say: text must be a string");
    }
    if (this.#viaUnits()) {
      this.#playOnLeg(createTTSPlayer(text, options));
      return;
    }
    this.#command("say", { text, voice: voiceOf(options) });
  }
  // Outgoing calls and calls from another session (callConference) have no playback or
  // recording of their own: units linked to them do it.
  #viaUnits() { return this.#info.outgoing || this.#info.scheme === "conference"; }
  // Plays `player` to this outgoing call: its events become the call's PlaybackReady,
  // PlaybackStarted and PlaybackFinished; a new one replaces it without PlaybackFinished.
  #playOnLeg(player) {
    if (this.#state === "TERMINATED") {
      player.stop();
      ops.log("warn", `call playback ignored, call ${this.#info.id} is already TERMINATED`);
      return;
    }
    this.#stopLegPlayer();
    this.#legPlayer = player;
    const relay = (name, fields) => {
      if (this.#legPlayer !== player) return;
      ops.event(name, JSON.stringify({ ...fields, call: this.#info.id }));
      this.#emit(name, fields);
    };
    player.addEventListener(PlayerEvents.PlaybackReady, () => relay(CallEvents.PlaybackReady, {}));
    player.addEventListener(PlayerEvents.Started, (e) => relay(CallEvents.PlaybackStarted, { duration: e.duration }));
    player.addEventListener(PlayerEvents.PlaybackFinished, (e) => {
      relay(CallEvents.PlaybackFinished, e.error === undefined ? {} : { error: e.error });
      if (this.#legPlayer === player) this.#legPlayer = null;
    });
    player.sendMediaTo(this);
  }
  #stopLegPlayer() {
    const player = this.#legPlayer;
    this.#legPlayer = null;
    if (player) player.stop();
  }
  // Records this outgoing call's far end with a recorder linked from it.
  #recordLeg() {
    if (this.#legRecorder) return;
    const { createRecorder, RecorderEvents } = part("recorder");
    const recorder = createRecorder({ name: this.#info.id });
    this.#legRecorder = recorder;
    let url = "";
    recorder.addEventListener(RecorderEvents.Started, (e) => {
      url = e.url;
      ops.event(CallEvents.RecordStarted, JSON.stringify({ url, call: this.#info.id }));
      this.#emit(CallEvents.RecordStarted, { url });
    });
    recorder.addEventListener(RecorderEvents.Stopped, (e) => {
      ops.event(CallEvents.RecordStopped, JSON.stringify({ url, duration: e.duration, call: this.#info.id }));
      this.#emit(CallEvents.RecordStopped, { url, duration: e.duration });
    });
    this.sendMediaTo(recorder);
  }
  handleTones(enabled) { this.#command("handleTones", { enabled: Boolean(enabled) }); }
  sendDigits(digits) {
    const text = String(digits);
    if (!/^[0-9A-D*#]*$/i.test(text)) {
      throw codedError(TypeError, "ERR_INVALID_ARGUMENT",
        `call.sendDigits: digits may only contain 0-9, *, #, A-D; got '${text}'`);
    }
    this.#command("sendDigits", { digits: text.toUpperCase() });
  }
  sendMediaTo(unit, params) { sendMedia("Call.sendMediaTo", this, unit, params); }
  stopMediaTo(unit) { stopMedia("Call.stopMediaTo", this, unit); }
  record(params) {
    if (this.#viaUnits()) {
      if (this.#state !== "TERMINATED") this.#recordLeg();
      return;
    }
    this.#command("record", { stereo: Boolean(params && params.stereo) });
  }

  #command(op, args) {
    if (this.#state === "TERMINATED") {
      ops.log("warn", `call.${op}(): ignored, call ${this.#info.id} is already TERMINATED`);
      return;
    }
    ops.callCommand(this.#info.id, JSON.stringify({ op, ...args }));
    if (op === "answer" && this.#state === "ALERTING") this.#emitStateChanged(this.#setState("PROGRESSING"));
  }

  // Moves to `next`; returns the StateChanged fields to emit (after the event that caused it).
  #setState(next) {
    const previous = this.#state;
    if (previous === next) return null;
    this.#state = next;
    return { oldState: previous, newState: next };
  }

  #emitStateChanged(change) {
    if (!change) return;
    ops.event(CallEvents.StateChanged, JSON.stringify({ ...change, call: this.#info.id }));
    this.#emit(CallEvents.StateChanged, change);
  }

  #emit(name, fields) {
    this.#listeners.emit(name, { ...fields, name, call: this, id: this.#info.id });
  }

  static {
    deliverToCall = (call, name, fields) => {
      if (call.#state === "TERMINATED") return;
      const ends = name === CallEvents.Disconnected || name === CallEvents.Failed;
      let change = null;
      if (name === CallEvents.Connected) change = call.#setState("CONNECTED");
      if (ends) change = call.#setState("TERMINATED");
      call.#emit(name, fields);
      call.#emitStateChanged(change);
      if (ends) {
        call.#stopProgressTone();
        call.#stopLegPlayer();
        if (call.#legRecorder) call.#legRecorder.stop();
        call.#listeners.clear();
        calls.delete(call.#info.id);
      }
    };
  }
}

function newCall(info) {
  const call = new Call(CALL_TOKEN, info);
  calls.set(info.id, call);
  return call;
}

// VoxEngine.callSIP(to, parameters) or VoxEngine's older positional form (to, callerid,
// displayName, password, authUser, extraHeaders, video, outProxy).
function callSip(to, parameters, ...rest) {
  if (typeof to !== "string") {
    throw codedError(TypeError, "ERR_INVALID_ARGUMENT", `VoxEngine.callSIP: the address must be a string, got ${describe(to)}`);
  }
  let params = parameters;
  if (params !== undefined && params !== null && (typeof params !== "object" || Array.isArray(params))) {
    params = { callerid: params, displayName: rest[0], password: rest[1], authUser: rest[2], headers: rest[3], outProxy: rest[5] };
  }
  return dial("sip", "VoxEngine.callSIP", to, params);
}

// VoxEngine.callPSTN(number, callerid?, parameters?): through the application's SIP trunk.
function callPstn(number, callerid, parameters) {
  if (typeof number !== "string" && typeof number !== "number") {
    throw codedError(TypeError, "ERR_INVALID_ARGUMENT", `VoxEngine.callPSTN: the number must be a string, got ${describe(number)}`);
  }
  const params = parameters !== null && typeof parameters === "object" ? parameters : {};
  return dial("pstn", "VoxEngine.callPSTN", String(number), { headers: params.headers ?? params.extraHeaders, callerid });
}

// VoxEngine.callUser({username, callerid, displayName, extraHeaders}) or the positional
// (username, callerid, displayName, extraHeaders) of older scenarios.
function callUser(parameters, ...rest) {
  let params = parameters;
  if (typeof params === "string") {
    params = { username: params, callerid: rest[0], displayName: rest[1], extraHeaders: rest[2] };
  }
  if (params === null || typeof params !== "object" || typeof params.username !== "string") {
    throw codedError(TypeError, "ERR_INVALID_ARGUMENT", `VoxEngine.callUser: parameters must be {username, callerid?, displayName?, extraHeaders?}, got ${describe(parameters)}`);
  }
  return dial("user", "VoxEngine.callUser", params.username, params);
}

// VoxEngine.callConference(conferenceId, callerid?, displayName?, headers?): a leg into the
// application's session for that conference (the rule matching the id), shared by every leg
// with the same id; it arrives there as CallAlerting.
function callConference(conferenceId, callerid, displayName, headers) {
  if (typeof conferenceId !== "string" && typeof conferenceId !== "number") {
    throw codedError(TypeError, "ERR_INVALID_ARGUMENT", `VoxEngine.callConference: the conference id must be a string, got ${describe(conferenceId)}`);
  }
  return dial("conference", "VoxEngine.callConference", String(conferenceId), { callerid, displayName, headers });
}

const CLIENT_TYPES = { sip: "sip", pstn: "pstn", user: "user", conference: "conference" };

function dial(kind, method, to, parameters) {
  const params = parameters ?? {};
  const text = (value) => (value === undefined || value === null ? undefined : String(value));
  const callerid = text(params.callerid);
  const displayName = text(params.displayName);
  const headers = headerMap(method, params.headers ?? params.extraHeaders);
  const id = ops.dial(kind, to, JSON.stringify({
    callerid, displayName, headers,
    password: text(params.password), authUser: text(params.authUser), outProxy: text(params.outProxy),
  }));
  return newCall({ id, outgoing: true, callerid: callerid ?? "", displayName: displayName ?? "", destination: to, scheme: CLIENT_TYPES[kind], headers: {} });
}

global.CallEvents = CallEvents;
global.Call = Call;
