// The Conference module (require(Modules.Conference)): VoxEngine.createConference, the
// Conference and Endpoint classes, ConferenceEvents, ConferenceDirection, ConferenceMode. A
// conference is an audio mixer unit in the session's media graph: each unit linked to it is
// heard by every unit it is linked to, except itself (VoxEngine.sendMediaBetween(call, conf)
// per participant). Loaded on require (see lazy.js).

const ConferenceEvents = Object.freeze({
  ConferenceError: "Conference.Error",
  Started: "Conference.Started",
  Stopped: "Conference.Stopped",
  EndpointAdded: "Conference.EndpointAdded",
  EndpointUpdated: "Conference.EndpointUpdated",
  EndpointRemoved: "Conference.EndpointRemoved",
  EndpointManaged: "Conference.EndpointManaged",
});
const ConferenceDirection = Object.freeze({ SEND: "SEND", RECEIVE: "RECEIVE", BOTH: "BOTH" });
const ConferenceMode = Object.freeze({ MIX: "MIX", FORWARD: "FORWARD" });
const MAX_ENDPOINTS = 100;
const CONFERENCE_TOKEN = Symbol("conference");
let conferenceCount = 0;
let endpointCount = 0;

class Endpoint {
  #id;
  #conference;
  #call;
  #mode;
  #direction;
  #displayName;

  constructor(token, conference, call, mode, direction, displayName) {
    if (token !== CONFERENCE_TOKEN) throw new TypeError("Illegal constructor: use conference.add");
    this.#id = `endpoint-${++endpointCount}`;
    this.#conference = conference;
    this.#call = call;
    this.#mode = mode;
    this.#direction = direction;
    this.#displayName = displayName;
  }

  id() { return this.#id; }
  getCall() { return this.#call; }
  getMode() { return this.#mode; }
  getDirection() { return this.#direction; }
  getDisplayName() { return this.#displayName; }
  setDisplayName(name) { this.#displayName = String(name); }
  // Audio endpoints have nothing to manage (VoxEngine's parameters select video streams).
  manageEndpoint() { return Promise.resolve(); }
  toString() { return `Endpoint(${this.#id})`; }
}

class Conference {
  #id;
  #stopped = false;
  #listeners = new Listeners();
  #endpoints = new Map();

  constructor(token) {
    if (token !== CONFERENCE_TOKEN) throw new TypeError("Illegal constructor: use VoxEngine.createConference");
    this.#id = `conference-${++conferenceCount}`;
    registerMediaUnit(this, this.#id, "conference");
    ops.media(JSON.stringify({ op: "createConference", id: this.#id }));
    Promise.resolve().then(() => this.#emit(ConferenceEvents.Started, {}));
  }

  id() { return this.#id; }
  getId() { return this.#id; }
  toString() { return `Conference(${this.#id})`; }

  addEventListener(event, handler) {
    this.#listeners.add("Conference.addEventListener", event, handler);
  }
  removeEventListener(event, handler) {
    this.#listeners.remove("Conference.removeEventListener", event, handler);
  }

  // A call joins: BOTH links it both ways, SEND only from the call to the conference,
  // RECEIVE only from the conference to the call. It leaves when it ends.
  add(parameters) {
    const method = "Conference.add";
    const params = parameters ?? {};
    if (!(params.call instanceof Call)) {
      throw codedError(TypeError, "ERR_INVALID_ARGUMENT", `${method}: parameters.call must be a Call, got ${describe(params.call)}`);
    }
    const mode = params.mode === undefined ? ConferenceMode.MIX : String(params.mode);
    const direction = params.direction === undefined ? ConferenceDirection.BOTH : String(params.direction);
    if (!Object.values(ConferenceMode).includes(mode)) {
      throw codedError(TypeError, "ERR_INVALID_ARGUMENT", `${method}: mode must be 'MIX' or 'FORWARD', got '${mode}'`);
    }
    if (!Object.values(ConferenceDirection).includes(direction)) {
      throw codedError(TypeError, "ERR_INVALID_ARGUMENT", `${method}: direction must be 'SEND', 'RECEIVE' or 'BOTH', got '${direction}'`);
    }
    if (this.#stopped) {
      throw codedError(Error, "ERR_INVALID_STATE", `${method}: the conference is stopped`);
    }
    if (this.#endpoints.size >= MAX_ENDPOINTS) {
      throw codedError(RangeError, "ERR_CONFERENCE_FULL", `${method}: a conference has at most ${MAX_ENDPOINTS} endpoints`);
    }
    const call = params.call;
    const displayName = params.displayName === undefined ? call.displayName() : String(params.displayName);
    const endpoint = new Endpoint(CONFERENCE_TOKEN, this, call, mode, direction, displayName);
    if (direction !== ConferenceDirection.RECEIVE) sendMedia(method, call, this);
    if (direction !== ConferenceDirection.SEND) sendMedia(method, this, call);
    this.#endpoints.set(endpoint.id(), endpoint);
    const leave = () => this.#remove(endpoint);
    call.addEventListener(CallEvents.Disconnected, leave);
    call.addEventListener(CallEvents.Failed, leave);
    this.#emit(ConferenceEvents.EndpointAdded, this.#endpointFields(endpoint));
    return endpoint;
  }

  getList() { return [...this.#endpoints.values()]; }
  get(id) { return this.#endpoints.get(String(id)); }

  sendMediaTo(unit, parameters) { sendMedia("Conference.sendMediaTo", this, unit, parameters); }
  stopMediaTo(unit) { stopMedia("Conference.stopMediaTo", this, unit); }

  stop() {
    if (this.#stopped) return;
    this.#stopped = true;
    ops.media(JSON.stringify({ op: "stopConference", id: this.#id }));
    this.#endpoints.clear();
    this.#emit(ConferenceEvents.Stopped, {});
    this.#listeners.clear();
  }

  #remove(endpoint) {
    if (!this.#endpoints.delete(endpoint.id())) return;
    this.#emit(ConferenceEvents.EndpointRemoved, this.#endpointFields(endpoint));
  }

  #endpointFields(endpoint) {
    return { endpointId: endpoint.id(), endpoint, mode: endpoint.getMode(), direction: endpoint.getDirection() };
  }

  #emit(name, fields) {
    if (this.#stopped && name !== ConferenceEvents.Stopped) return;
    const { endpoint, ...reported } = fields;
    ops.event(name, JSON.stringify({ conference: this.#id, ...reported }));
    this.#listeners.emit(name, { ...fields, name, conference: this });
  }
}

moduleInstallers.set(Modules.Conference, () => {
  VoxEngine.createConference = () => new Conference(CONFERENCE_TOKEN);
  VoxEngine.destroyConference = (conference) => {
    if (!(conference instanceof Conference)) {
      throw codedError(TypeError, "ERR_INVALID_ARGUMENT", `VoxEngine.destroyConference: expected a Conference, got ${describe(conference)}`);
    }
    conference.stop();
  };
  global.Conference = Conference;
  global.Endpoint = Endpoint;
  global.ConferenceEvents = ConferenceEvents;
  global.ConferenceDirection = ConferenceDirection;
  global.ConferenceMode = ConferenceMode;
});
