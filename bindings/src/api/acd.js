// Queues: VoxEngine.enqueueACDRequest, ACDRequest and ACDEvents, loaded by
// require(Modules.ACD). The host keeps the application's queues ([[application.queue]]) and
// offers the request at the head a free, registered operator (an application user); the
// request then rings that operator with callUser, so `operatorCall` is an ordinary Call of
// this session, and tells the host how it went. Loaded on require (see lazy.js).

const ACDEvents = Object.freeze({
  OperatorReached: "ACD.OperatorReached",
  OperatorCallAttempt: "ACD.OperatorCallAttempt",
  OperatorFailed: "ACD.OperatorFailed",
  Error: "ACD.Error",
  Waiting: "ACD.Waiting",
  Queued: "ACD.Queued",
  Offline: "ACD.Offline",
  QueueFull: "ACD.QueueFull",
});

const ACD_TOKEN = Symbol("acd request");
const acdRequests = new Map();
let acdCount = 0;
let deliverToAcd; // set by ACDRequest's static block

class ACDRequest {
  #id;
  #callerid;
  #headers;
  #done = false;
  #ringing = null; // the operator's call while it rings
  #listeners = new Listeners();

  constructor(token, queue, callerid, headers) {
    if (token !== ACD_TOKEN) throw new TypeError("Illegal constructor: use VoxEngine.enqueueACDRequest");
    this.#id = `acd-${++acdCount}`;
    this.#callerid = callerid;
    this.#headers = headers;
    acdRequests.set(this.#id, this);
    ops.acd(JSON.stringify({ op: "enqueue", request: this.#id, queue }));
  }

  id() { return this.#id; }
  toString() { return `ACDRequest(${this.#id})`; }

  addEventListener(event, handler) {
    this.#listeners.add("ACDRequest.addEventListener", event, handler);
  }
  removeEventListener(event, handler) {
    this.#listeners.remove("ACDRequest.removeEventListener", event, handler);
  }

  // Waiting follows with the request's place and estimated wait.
  getStatus() {
    if (!this.#done) ops.acd(JSON.stringify({ op: "status", request: this.#id }));
  }

  // Leaves the queue (an operator being rung is hung up).
  cancel() {
    if (this.#done) return;
    this.#done = true;
    ops.acd(JSON.stringify({ op: "cancel", request: this.#id }));
    acdRequests.delete(this.#id);
    if (this.#ringing) this.#ringing.hangup();
  }

  #emit(name, fields) {
    this.#listeners.emit(name, { ...fields, name, request: this });
  }

  #report(operator, outcome) {
    ops.acd(JSON.stringify({ op: "operator", request: this.#id, operator, outcome }));
  }

  // The host offers `operator`: ring them, and say how it went.
  #ring(operator) {
    if (this.#done) {
      this.#report(operator, { outcome: "failed", code: 487 });
      return;
    }
    const call = callUser({ username: operator, callerid: this.#callerid, extraHeaders: this.#headers });
    let answered = false;
    this.#ringing = call;
    call.addEventListener(CallEvents.Connected, () => {
      answered = true;
      this.#ringing = null;
      this.#done = true;
      acdRequests.delete(this.#id);
      this.#report(operator, { outcome: "answered" });
      this.#emit(ACDEvents.OperatorReached, { operatorCall: call });
    });
    call.addEventListener(CallEvents.Failed, (e) => {
      this.#ringing = null;
      if (this.#done) return; // cancelled: the host let the operator go already
      this.#report(operator, { outcome: "failed", code: e.code });
      this.#emit(ACDEvents.OperatorFailed, { operatorUserName: operator, statusCode: e.code });
    });
    call.addEventListener(CallEvents.Disconnected, () => {
      if (answered) this.#report(operator, { outcome: "ended" });
    });
    this.#emit(ACDEvents.OperatorCallAttempt, { operatorCall: call });
  }

  static {
    deliverToAcd = (request, name, fields) => {
      if (name === "ACD.Offer") {
        request.#ring(fields.operator);
        return;
      }
      if (name === ACDEvents.Offline || name === ACDEvents.QueueFull || name === ACDEvents.Error) {
        request.#done = true;
        acdRequests.delete(request.#id);
      }
      request.#emit(name, fields);
    };
  }
}

function enqueueACDRequest(queueName, callerid, params) {
  if (typeof queueName !== "string" || queueName === "") {
    throw codedError(TypeError, "ERR_INVALID_ARGUMENT", "VoxEngine.enqueueACDRequest: the queue name must be a non-empty string");
  }
  const headers = params && params.headers !== undefined ? params.headers : {};
  if (headers === null || typeof headers !== "object" || Array.isArray(headers)) {
    throw codedError(TypeError, "ERR_INVALID_ARGUMENT", "VoxEngine.enqueueACDRequest: params.headers must be an object of X- headers");
  }
  return new ACDRequest(ACD_TOKEN, queueName, callerid === undefined || callerid === null ? "" : String(callerid), headers);
}

moduleInstallers.set(Modules.ACD, () => {
  VoxEngine.enqueueACDRequest = enqueueACDRequest;
  global.ACDRequest = ACDRequest;
  global.ACDEvents = ACDEvents;
});

registerUnitsById("acd", acdRequests, (request, name, payload) => deliverToAcd(request, name, payload));
