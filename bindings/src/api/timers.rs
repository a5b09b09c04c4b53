//! Ops behind `setTimeout`/`setInterval`: `timerStart(id, ms, repeat)`, `timerClear(id)`.

use std::rc::Rc;
use std::time::Duration;

use rquickjs::{Ctx, Function, Object, Result};

use super::{ErrorClass, throw_coded};
use crate::engine::state::SessionState;

pub(super) fn install<'js>(
    ctx: &Ctx<'js>,
    ops: &Object<'js>,
    state: &Rc<SessionState>,
) -> Result<()> {
    let st = state.clone();
    ops.set(
        "timerStart",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, id: u32, ms: f64, repeat: bool| -> Result<()> {
                let delay = Duration::from_millis(ms.clamp(0.0, 2_147_483_647.0) as u64);
                if st.start_timer(id, delay, repeat) {
                    Ok(())
                } else {
                    let max = st.limits.max_timers;
                    Err(throw_coded(
                        &ctx,
                        ErrorClass::Range,
                        "ERR_TIMER_LIMIT",
                        &format!("more than {max} active timers"),
                    ))
                }
            },
        )?,
    )?;

    let st = state.clone();
    ops.set(
        "timerClear",
        Function::new(ctx.clone(), move |id: u32| st.timers.borrow_mut().clear(id))?,
    )?;
    Ok(())
}
