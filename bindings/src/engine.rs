//! The session engine: one QuickJS runtime and context per session, driven by one event loop.
//!
//! - `session`: [`run_session`], the loop that owns a session from load to `Terminated`.
//! - `state`: the Rust-side session state shared with the ops (no JS values in it).
//! - `timers`: the sans-IO timer queue behind `setTimeout`/`setInterval`.
//! - `js_error`: turning a thrown JS value into a log line and an [`EndReason`].
//! - `prelude`: the JS facade, assembled from `api/*.js`.
//! - [`redact`]: masking secret values in everything a session reports.
//! - `validate`: compiling a scenario without running it.
//! - `bytecode`: scenarios compiled once by the host, loaded by each session as bytecode.
//! - `pool`: [`SessionPool`], the JS worker threads sessions are spread over.
//! - `outbox`: reports to the host held until a pool worker idles.
//! - `async_ops`: promise-returning ops (work off the JS thread, settled by the loop).

pub(crate) mod async_ops;
mod bytecode;
mod error;
mod js_error;
pub(crate) mod outbox;
mod pool;
mod prelude;
pub mod redact;
mod session;
pub(crate) mod state;
mod timers;
mod validate;

pub use bytecode::{Compiled, compile};
pub use error::EngineError;
pub use pool::SessionPool;
pub(crate) use prelude::load_module;
pub use session::run_session;
pub use validate::{CompileError, validate_script};

#[cfg(test)]
mod tests;

use crate::host::EndReason;
