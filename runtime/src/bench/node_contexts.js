// Peer for `dialtone bench sessions`: Node.js, one vm context per session (Node's isolated
// realm), each evaluating the same scenario against stub VoxEngine globals.
// Usage: node node_contexts.js COUNT < scenario.js ; prints one JSON line.
const vm = require("vm");
const count = Number(process.argv[2] || 1000);
const source = require("fs").readFileSync(0, "utf8");
const enums = (names, prefix) => Object.fromEntries(names.map((n) => [n, `${prefix}.${n}`]));
const stub = () => {
  const listeners = new Map();
  return {
    VoxEngine: {
      addEventListener: (e, f) => listeners.set(e, f),
      removeEventListener: (e) => listeners.delete(e),
      terminate() {},
    },
    AppEvents: enums(["Started", "CallAlerting", "Terminating", "Terminated"], "Application"),
    CallEvents: enums(["Connected", "Disconnected", "PlaybackFinished"], "Call"),
    Logger: { write() {} },
    __started: () => {
      const f = listeners.get("Application.Started");
      if (f) f({ name: "Application.Started" });
    },
  };
};
const keep = [];
const times = [];
global.gc && global.gc();
const before = process.memoryUsage().rss;
for (let i = 0; i < count; i++) {
  const t0 = process.hrtime.bigint();
  const ctx = vm.createContext(stub());
  vm.runInContext(source, ctx, { filename: "scenario.js" });
  ctx.__started();
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  keep.push(ctx);
}
const after = process.memoryUsage().rss;
times.sort((a, b) => a - b);
const pick = (q) => times[Math.round((times.length - 1) * q)];
console.log(JSON.stringify({ p50_ms: pick(0.5), p99_ms: pick(0.99), bytes_per_session: Math.round((after - before) / count), node: process.version }));
