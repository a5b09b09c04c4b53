//! Ops behind the `Call` class: `callCommand(callId, json)` sends one [`CallCommand`].

use std::rc::Rc;

use rquickjs::{Ctx, Function, Object, Result};

use super::{ErrorClass, throw_coded};
use crate::engine::state::SessionState;
use crate::host::{CallCommand, Outbound};

pub(super) fn install<'js>(
    ctx: &Ctx<'js>,
    ops: &Object<'js>,
    state: &Rc<SessionState>,
) -> Result<()> {
    let st = state.clone();
    ops.set(
        "callCommand",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, call_id: String, json: String| -> Result<()> {
                let command: CallCommand = serde_json::from_str(&json).map_err(|e| {
                    throw_coded(
                        &ctx,
                        ErrorClass::Type,
                        "ERR_INVALID_ARGUMENT",
                        &format!("invalid call command: {e}"),
                    )
                })?;
                if st.is_ending() {
                    return Ok(());
                }
                st.note_command(&call_id, &command);
                st.send(Outbound::Call { call_id, command });
                Ok(())
            },
        )?,
    )?;
    Ok(())
}
