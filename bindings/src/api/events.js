// Listener registry shared by VoxEngine, Call and (later) MCP.Client.
// Part of the prelude: runs inside `(function (ops, global) { ... })`.

function checkEventName(method, name) {
  if (typeof name !== "string") {
    throw codedError(TypeError, "ERR_INVALID_EVENT",
      `${method}: event name must be a string, got ${typeof name}` +
      " (is the enum member spelled right?)");
  }
}

class Listeners {
  #map = new Map();

  add(method, name, handler) {
    checkEventName(method, name);
    if (typeof handler !== "function") {
      throw codedError(TypeError, "ERR_INVALID_HANDLER",
        `${method}('${name}', ...): the handler must be a function, got ${describe(handler)}`);
    }
    let list = this.#map.get(name);
    if (!list) {
      list = [];
      this.#map.set(name, list);
    }
    if (!list.includes(handler)) list.push(handler);
  }

  remove(method, name, handler) {
    checkEventName(method, name);
    if (handler === undefined) {
      this.#map.delete(name);
      return;
    }
    const list = this.#map.get(name);
    if (!list) return;
    const at = list.indexOf(handler);
    if (at >= 0) list.splice(at, 1);
  }

  // Calls every handler in registration order. A throwing handler propagates to the engine,
  // which logs it with its stack and terminates the session.
  emit(name, event) {
    const list = this.#map.get(name);
    if (!list || list.length === 0) return;
    for (const handler of list.slice()) handler(event);
  }

  // Runs the handlers of `name` like emit, and returns what each returned.
  emitCollect(name, event) {
    const list = this.#map.get(name);
    if (!list) return [];
    return list.slice().map((handler) => handler(event));
  }

  // Whether a handler listens to `name`.
  has(name) {
    const list = this.#map.get(name);
    return list !== undefined && list.length > 0;
  }

  clear() {
    this.#map.clear();
  }
}

function describe(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : typeof value;
}

function codedError(Kind, code, message) {
  const error = new Kind(message);
  error.code = code;
  return error;
}
