//! The JS facade every session evaluates before its scenarios.
//!
//! The `api/*.js` files are concatenated into one function `(ops, global) => entryPoints`.
//! Order matters: helpers first, `dispatch.js` (which returns the entry points) last.

/// File name shown in stack frames that point into the facade.
pub(crate) const PRELUDE_NAME: &str = "dialtone:prelude";

/// The facade's source: a function expression taking `(ops, global)`.
pub(crate) const PRELUDE: &str = concat!(
    "(function (ops, global) {\n\"use strict\";\n",
    include_str!("../api/events.js"),
    include_str!("../api/voxengine.js"),
    include_str!("../api/call.js"),
    include_str!("../api/logger.js"),
    include_str!("../api/timers.js"),
    include_str!("../api/util.js"),
    include_str!("../api/modules.js"),
    include_str!("../api/mcp.js"),
    include_str!("../api/dispatch.js"),
    "\n})"
);
