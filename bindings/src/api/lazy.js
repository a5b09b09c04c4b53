// Modules loaded on require: their code is compiled apart (prelude.rs) and runs in this realm
// only when a scenario requires them, so a session that never does carries none of it. Part of
// the prelude; the object of what they use from it is assembled in prelude.rs.

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
