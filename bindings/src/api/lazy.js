// Modules loaded on require: their code is compiled apart (prelude.rs) and runs in this realm
// only when a scenario requires them, so a session that never does carries none of it. Part of
// the prelude; the object of what they use from it is assembled in prelude.rs.

// Modules.X values of the modules loaded on require.
const lazyModuleNames = new Set(["acd", "applicationstorage", "asr", "conference", "ivr", "mcp"]);

// kind -> { deliver(...), clear() }: how dispatch reaches the units of a module once loaded.
const lazyUnits = new Map();

// Runs module `name`'s code, which registers its installer.
function loadLazyModule(name) {
  ops.loadModule(name)(ops, global, preludeForModules);
}
