//! Ops behind the media units: `media(json)` sends one [`MediaCommand`] (create a WebSocket,
//! send on it, close it, link two units ...). The host does the work and answers with events.
//! `acd(json)` sends one [`AcdCommand`] to the application's queues, answered the same way.

use std::rc::Rc;

use rquickjs::{Ctx, Function, Object, Result};

use super::{ErrorClass, throw_coded};
use crate::engine::state::SessionState;
use crate::host::acd::AcdCommand;
use crate::host::{MediaCommand, Outbound};

pub(super) fn install<'js>(
    ctx: &Ctx<'js>,
    ops: &Object<'js>,
    state: &Rc<SessionState>,
) -> Result<()> {
    let st = state.clone();
    ops.set(
        "media",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, json: String| -> Result<()> {
                let command: MediaCommand = serde_json::from_str(&json).map_err(|e| {
                    throw_coded(
                        &ctx,
                        ErrorClass::Type,
                        "ERR_INVALID_ARGUMENT",
                        &format!("invalid media command: {e}"),
                    )
                })?;
                if st.is_ending() {
                    return Ok(());
                }
                match &command {
                    MediaCommand::CreateWebSocket(_) => st.leave_simulated_time("a WebSocket"),
                    MediaCommand::CreatePlayer(spec) if spec.sequence => {
                        st.sequence_players.borrow_mut().insert(spec.id.clone());
                    }
                    _ => {}
                }
                st.send(Outbound::Media(command));
                Ok(())
            },
        )?,
    )?;
    let st = state.clone();
    ops.set(
        "acd",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, json: String| -> Result<()> {
                let command: AcdCommand = serde_json::from_str(&json).map_err(|e| {
                    throw_coded(
                        &ctx,
                        ErrorClass::Type,
                        "ERR_INVALID_ARGUMENT",
                        &format!("invalid ACD command: {e}"),
                    )
                })?;
                if !st.is_ending() {
                    st.send(Outbound::Acd(command));
                }
                Ok(())
            },
        )?,
    )?;
    Ok(())
}
