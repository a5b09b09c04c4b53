//! The JS facade every session evaluates before its scenarios.
//!
//! The `api/*.js` files are concatenated into one ES module exporting
//! `init(ops, global) -> entryPoints`. Order matters: helpers first, `dispatch.js` (which
//! returns the entry points) last. The module is compiled to bytecode once per process; each
//! session loads that bytecode instead of parsing the source again (parsing cost about 0.7 ms
//! per session, loading a small fraction of that).
//!
//! The modules a scenario must `require` (ACD, ApplicationStorage, ASR, Conference, IVR, MCP)
//! are separate modules, compiled once per process too, and loaded into a session by its first
//! `require` of them (`ops.loadModule`, `lazy.js`). So are the parts of the global API a plain
//! call does not touch (WebSocket, Net, the recorder, the sequence player, call forwarding, the
//! voice tables): they load on first use, through a global's getter or the prelude function
//! that needs them (`part` in `lazy.js`). QuickJS keeps a copy of every function a session
//! loads, so a session carries only the code it uses.

use std::sync::OnceLock;

use rquickjs::module::WriteOptions;
use rquickjs::{Context, Ctx, Function, Module, Runtime};

/// Module name, shown in stack frames that point into the facade.
pub(crate) const PRELUDE_NAME: &str = "dialtone:prelude";

/// What the modules loaded on `require` or on first use take from the prelude (`preludeForModules` in the
/// prelude, destructured at the top of each module).
macro_rules! prelude_for_modules {
    () => {
        "AppEvents, Call, CallEvents, Listeners, Modules, PLAYER_TOKEN, PlayerBase, VoxEngine, \
         awaitOp, callPstn, callSip, callUser, codedError, describe, lazyUnits, moduleInstallers, \
         notAvailable, part, registerMediaUnit, registerUnitsById, require, sendMedia, \
         sendMediaBetween, stopMedia, voiceOf"
    };
}

/// The facade's source: a module exporting `init(ops, global)`.
pub(crate) const PRELUDE: &str = concat!(
    "export function init(ops, global) {\n\"use strict\";\n",
    include_str!("../api/events.js"),
    include_str!("../api/async_ops.js"),
    include_str!("../api/voxengine.js"),
    include_str!("../api/media.js"),
    include_str!("../api/call.js"),
    include_str!("../api/player.js"),
    include_str!("../api/logger.js"),
    include_str!("../api/timers.js"),
    include_str!("../api/util.js"),
    include_str!("../api/modules.js"),
    include_str!("../api/missing.js"),
    include_str!("../api/lazy.js"),
    "const preludeForModules = Object.freeze({ ",
    prelude_for_modules!(),
    " });\n",
    include_str!("../api/dispatch.js"),
    "\n}\n"
);

/// A module loaded on `require` or on first use: exports `init(ops, global, prelude)`, which
/// defines its classes and registers its installer (a module) or returns what the prelude takes
/// from it (a part).
macro_rules! module_loaded_on_use {
    ($($file:literal),+) => {
        concat!(
            "export function init(ops, global, prelude) {\n\"use strict\";\nconst { ",
            prelude_for_modules!(),
            " } = prelude;\n",
            $(include_str!($file),)+
            "\n}\n"
        )
    };
}

/// The modules loaded on `require`, by their `Modules` value (`lazyModuleNames` in lazy.js), and
/// the parts loaded on first use, by the name `part(name)` gives (`lazy.js`).
pub(crate) const MODULES_LOADED_ON_USE: [(&str, &str); 12] = [
    ("acd", module_loaded_on_use!("../api/acd.js")),
    (
        "applicationstorage",
        module_loaded_on_use!("../api/application_storage.js"),
    ),
    ("asr", module_loaded_on_use!("../api/asr.js")),
    ("conference", module_loaded_on_use!("../api/conference.js")),
    ("ivr", module_loaded_on_use!("../api/ivr.js")),
    (
        "mcp",
        module_loaded_on_use!("../api/mcp_client.js", "../api/mcp.js"),
    ),
    (
        "part:forwarding",
        module_loaded_on_use!("../api/forwarding.js"),
    ),
    ("part:net", module_loaded_on_use!("../api/net.js")),
    ("part:recorder", module_loaded_on_use!("../api/recorder.js")),
    (
        "part:sequence_player",
        module_loaded_on_use!("../api/sequence_player.js"),
    ),
    ("part:voices", module_loaded_on_use!("../api/voices.js")),
    (
        "part:websocket",
        module_loaded_on_use!("../api/websocket.js"),
    ),
];

/// Each module's bytecode, compiled once per process on the first load of any.
static MODULE_BYTECODE: OnceLock<Vec<Result<Vec<u8>, String>>> = OnceLock::new();

static BYTECODE: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();

/// `source`, a module named `name`, compiled to bytecode by this build's QuickJS.
fn compile(name: &str, source: &str) -> Result<Vec<u8>, String> {
    let rt = Runtime::new().map_err(|e| e.to_string())?;
    let ctx = Context::full(&rt).map_err(|e| e.to_string())?;
    ctx.with(|ctx| {
        let module = Module::declare(ctx.clone(), name, source)?;
        module.write(WriteOptions {
            strip_source: true,
            strip_debug: true,
            ..WriteOptions::default()
        })
    })
    .map_err(|e| format!("compiling {name}: {e}"))
}

/// The facade compiled to bytecode, once per process.
fn bytecode() -> Result<&'static [u8], String> {
    BYTECODE
        .get_or_init(|| compile(PRELUDE_NAME, PRELUDE))
        .as_deref()
        .map_err(Clone::clone)
}

/// Loads module bytecode into `ctx`, evaluates it and returns its `init` function.
fn load_bytecode<'js>(ctx: &Ctx<'js>, bytes: &'static [u8]) -> rquickjs::Result<Function<'js>> {
    // SAFETY: `bytes` was written by `Module::write` of this very QuickJS build, in this
    // process, from our own source; it is `'static`, as JS_READ_OBJ_ROM_DATA requires.
    #[allow(unsafe_code)]
    let module = unsafe { Module::load(ctx.clone(), bytes)? };
    let (module, evaluated) = module.eval()?;
    evaluated.finish::<()>()?;
    module.get("init")
}

/// Loads the module `name` (a `Modules` value) into `ctx` and returns its `init` function.
pub(crate) fn load_module<'js>(ctx: &Ctx<'js>, name: &str) -> Result<Function<'js>, String> {
    let compiled = MODULE_BYTECODE.get_or_init(|| {
        MODULES_LOADED_ON_USE
            .iter()
            .map(|(name, source)| compile(&format!("dialtone:{name}"), source))
            .collect()
    });
    let index = MODULES_LOADED_ON_USE
        .iter()
        .position(|(known, _)| *known == name)
        .ok_or_else(|| format!("no module '{name}' is loaded on use"))?;
    let bytes = compiled[index].as_deref().map_err(Clone::clone)?;
    load_bytecode(ctx, bytes).map_err(|e| format!("loading module '{name}': {e}"))
}

/// Loads the facade into `ctx` and returns its `init` function.
pub(crate) fn load<'js>(ctx: &Ctx<'js>) -> Result<Function<'js>, String> {
    let bytes = bytecode()?;
    load_bytecode(ctx, bytes).map_err(|e| format!("loading the prelude: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn prelude_compiles_once_and_loads_into_a_fresh_context() {
        let rt = rquickjs::Runtime::new().expect("runtime");
        let ctx = rquickjs::Context::full(&rt).expect("context");
        ctx.with(|ctx| {
            let init = super::load(&ctx).expect("prelude loads");
            assert!(init.as_object().is_some());
        });
        assert!(super::bytecode().expect("compiled").len() > 1000);
    }

    #[test]
    fn every_module_loaded_on_use_compiles_and_loads() {
        let rt = rquickjs::Runtime::new().expect("runtime");
        let ctx = rquickjs::Context::full(&rt).expect("context");
        ctx.with(|ctx| {
            for (name, _) in super::MODULES_LOADED_ON_USE {
                let init = super::load_module(&ctx, name).expect(name);
                assert!(init.as_object().is_some());
            }
            assert_eq!(
                super::load_module(&ctx, "nope").err().as_deref(),
                Some("no module 'nope' is loaded on use")
            );
        });
    }
}
