//! The JS facade every session evaluates before its scenarios.
//!
//! The `api/*.js` files are concatenated into one ES module exporting
//! `init(ops, global) -> entryPoints`. Order matters: helpers first, `dispatch.js` (which
//! returns the entry points) last. The module is compiled to bytecode once per process; each
//! session loads that bytecode instead of parsing the source again (parsing cost about 0.7 ms
//! per session, loading a small fraction of that).

use std::sync::OnceLock;

use rquickjs::module::WriteOptions;
use rquickjs::{Context, Ctx, Function, Module, Runtime};

/// Module name, shown in stack frames that point into the facade.
pub(crate) const PRELUDE_NAME: &str = "dialtone:prelude";

/// The facade's source: a module exporting `init(ops, global)`.
pub(crate) const PRELUDE: &str = concat!(
    "export function init(ops, global) {\n\"use strict\";\n",
    include_str!("../api/events.js"),
    include_str!("../api/async_ops.js"),
    include_str!("../api/voxengine.js"),
    include_str!("../api/media.js"),
    include_str!("../api/call.js"),
    include_str!("../api/forwarding.js"),
    include_str!("../api/websocket.js"),
    include_str!("../api/voices.js"),
    include_str!("../api/player.js"),
    include_str!("../api/sequence_player.js"),
    include_str!("../api/logger.js"),
    include_str!("../api/timers.js"),
    include_str!("../api/util.js"),
    include_str!("../api/modules.js"),
    include_str!("../api/recorder.js"),
    include_str!("../api/asr.js"),
    include_str!("../api/acd.js"),
    include_str!("../api/conference.js"),
    include_str!("../api/mcp_client.js"),
    include_str!("../api/mcp.js"),
    include_str!("../api/net.js"),
    include_str!("../api/application_storage.js"),
    include_str!("../api/ivr.js"),
    include_str!("../api/missing.js"),
    include_str!("../api/dispatch.js"),
    "\n}\n"
);

static BYTECODE: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();

/// The facade compiled to bytecode by this build's QuickJS, once per process.
fn bytecode() -> Result<&'static [u8], String> {
    let compiled = BYTECODE.get_or_init(|| {
        let rt = Runtime::new().map_err(|e| e.to_string())?;
        let ctx = Context::full(&rt).map_err(|e| e.to_string())?;
        ctx.with(|ctx| {
            let module = Module::declare(ctx.clone(), PRELUDE_NAME, PRELUDE)?;
            module.write(WriteOptions {
                strip_source: true,
                strip_debug: true,
                ..WriteOptions::default()
            })
        })
        .map_err(|e| format!("compiling the prelude: {e}"))
    });
    compiled.as_deref().map_err(Clone::clone)
}

/// Loads the facade into `ctx` and returns its `init` function.
pub(crate) fn load<'js>(ctx: &Ctx<'js>) -> Result<Function<'js>, String> {
    let bytes = bytecode()?;
    let load = || -> rquickjs::Result<Function<'js>> {
        // SAFETY: `bytes` was written by `Module::write` of this very QuickJS build, in this
        // process, from our own source; it is `'static`, as JS_READ_OBJ_ROM_DATA requires.
        #[allow(unsafe_code)]
        let module = unsafe { Module::load(ctx.clone(), bytes)? };
        let (module, evaluated) = module.eval()?;
        evaluated.finish::<()>()?;
        module.get("init")
    };
    load().map_err(|e| format!("loading the prelude: {e}"))
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
}
