//! Ops behind `Logger.write` and the facade's warnings: `log(level, text)`.

use std::rc::Rc;

use rquickjs::{Ctx, Function, Object, Result};

use crate::engine::state::SessionState;
use crate::host::LogLevel;

pub(super) fn install<'js>(
    ctx: &Ctx<'js>,
    ops: &Object<'js>,
    state: &Rc<SessionState>,
) -> Result<()> {
    let st = state.clone();
    ops.set(
        "log",
        Function::new(ctx.clone(), move |level: String, text: String| {
            let level = match level.as_str() {
                "warn" => LogLevel::Warn,
                "error" => LogLevel::Error,
                _ => LogLevel::Info,
            };
            st.scenario_log(level, &text);
        })?,
    )?;
    Ok(())
}
