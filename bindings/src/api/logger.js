// Logger. Part of the prelude.

function logText(message) {
  if (typeof message === "string") return message;
  if (message instanceof Error) return String(message);
  if (message !== null && typeof message === "object") {
    try {
      return JSON.stringify(message);
    } catch {
      return String(message);
    }
  }
  return String(message);
}

global.Logger = Object.freeze({
  write(message) {
    ops.log("info", logText(message));
  },
});
