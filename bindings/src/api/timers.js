// setTimeout / setInterval. The engine owns the schedule (and the active-timer limit);
// this file owns the callbacks. Part of the prelude.

const timers = new Map();
let nextTimerId = 1;

function startTimer(name, callback, delay, args, repeat) {
  if (typeof callback !== "function") {
    throw codedError(TypeError, "ERR_INVALID_HANDLER", `${name}: callback must be a function, got ${describe(callback)}`);
  }
  const ms = Math.max(0, Math.floor(Number(delay) || 0));
  const id = nextTimerId++;
  ops.timerStart(id, repeat ? Math.max(ms, 100) : ms, repeat);
  timers.set(id, { callback, args });
  return id;
}

function clearTimer(id) {
  if (timers.delete(id)) ops.timerClear(id);
}

global.setTimeout = (callback, delay, ...args) => startTimer("setTimeout", callback, delay, args, false);
global.setInterval = (callback, delay, ...args) => startTimer("setInterval", callback, delay, args, true);
global.clearTimeout = (id) => clearTimer(id);
global.clearInterval = (id) => clearTimer(id);

// Engine entry point: a timer is due. `done` is true when it will not fire again.
function fireTimer(id, done) {
  const timer = timers.get(id);
  if (!timer) return;
  if (done) timers.delete(id);
  timer.callback(...timer.args);
}
