//! Ops behind the `VoxEngine` namespace: `terminate`, `customData`, `secret`, `event`, and
//! `httpRespond` (the answer to an `AppEvents.HttpRequest`).

use std::rc::Rc;

use rquickjs::prelude::Opt;
use rquickjs::{Ctx, Function, Object, Result};

use super::{ErrorClass, throw_coded};
use crate::engine::state::SessionState;
use crate::host::{HttpAnswer, LogLevel, Outbound};

/// VoxEngine's limit for `customData`, in bytes.
const CUSTOM_DATA_MAX_BYTES: usize = 200;
/// Longest answer to an HTTP request to the access URL, in bytes.
const HTTP_ANSWER_MAX_BYTES: usize = 1 << 20;

pub(super) fn install<'js>(
    ctx: &Ctx<'js>,
    ops: &Object<'js>,
    state: &Rc<SessionState>,
) -> Result<()> {
    let st = state.clone();
    ops.set(
        "terminate",
        Function::new(ctx.clone(), move || st.request_terminate())?,
    )?;

    let st = state.clone();
    ops.set(
        "customData",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, data: Opt<String>| -> Result<String> {
            if let Some(data) = data.0 {
                if data.len() > CUSTOM_DATA_MAX_BYTES {
                    return Err(throw_coded(
                        &ctx,
                        ErrorClass::Range,
                        "ERR_INVALID_ARGUMENT",
                        &format!(
                            "VoxEngine.customData: at most {CUSTOM_DATA_MAX_BYTES} bytes, got {}",
                            data.len()
                        ),
                    ));
                }
                st.set_custom_data(data);
            }
            Ok(st.custom_data())
        })?,
    )?;

    let st = state.clone();
    ops.set(
        "secret",
        Function::new(ctx.clone(), move |name: String| -> Option<String> {
            let value = st.secret(&name);
            if value.is_none() {
                st.log(
                    LogLevel::Warn,
                    &format!(
                        "VoxEngine.getSecretValue('{name}'): no secret named '{name}' in application '{}'; returning undefined",
                        st.application
                    ),
                );
            }
            value
        })?,
    )?;

    // Events the facade generates itself (StateChanged), reported like host events.
    let st = state.clone();
    ops.set(
        "event",
        Function::new(ctx.clone(), move |name: String, payload: String| {
            let payload = serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null);
            st.send(Outbound::Event { name, payload });
        })?,
    )?;

    let st = state.clone();
    ops.set(
        "httpRespond",
        Function::new(
            ctx.clone(),
            move |id: f64, status: u16, body: String, content_type: String| {
                let answer = if body.len() > HTTP_ANSWER_MAX_BYTES {
                    let why = format!(
                        "the answer to an AppEvents.HttpRequest is {} bytes, more than the {HTTP_ANSWER_MAX_BYTES} allowed",
                        body.len()
                    );
                    st.log(LogLevel::Warn, &why);
                    HttpAnswer {
                        id: id as u64,
                        status: 500,
                        body: why,
                        content_type: "text/plain".into(),
                    }
                } else {
                    HttpAnswer {
                        id: id as u64,
                        status,
                        body,
                        content_type,
                    }
                };
                st.send(Outbound::HttpResponse(answer));
            },
        )?,
    )?;
    Ok(())
}
