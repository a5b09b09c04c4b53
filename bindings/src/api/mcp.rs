//! Ops behind `MCP` and `MCP.Client`: `mcpCreate(configJson)`, `mcpRequest(client, kind,
//! paramsJson)`, `mcpRespond(client, requestId, answerJson)`, `mcpClose(client)`.

use std::rc::Rc;

use rquickjs::{Ctx, Function, Object, Result};

use super::{ErrorClass, throw_coded};
use crate::engine::state::SessionState;
use crate::host::LogLevel;
use crate::mcp::RequestKind;

pub(super) fn install<'js>(
    ctx: &Ctx<'js>,
    ops: &Object<'js>,
    state: &Rc<SessionState>,
) -> Result<()> {
    let st = state.clone();
    ops.set(
        "mcpCreate",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, config: String| -> Result<u32> {
                let created = st.mcp.borrow_mut().create(
                    &config,
                    |warning| st.log(LogLevel::Warn, warning),
                    &|name| st.secret(name),
                );
                if created.is_ok() {
                    st.leave_simulated_time("MCP");
                }
                created.map_err(|e| throw_coded(&ctx, ErrorClass::Plain, e.code(), &e.to_string()))
            },
        )?,
    )?;

    let st = state.clone();
    ops.set(
        "mcpRequest",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  client: u32,
                  kind: String,
                  params: String|
                  -> Result<Option<u64>> {
                let Some(kind) = RequestKind::parse(&kind) else {
                    return Err(throw_coded(
                        &ctx,
                        ErrorClass::Type,
                        "ERR_INVALID_ARGUMENT",
                        &format!("unknown MCP request '{kind}'"),
                    ));
                };
                let params = serde_json::from_str(&params).map_err(|e| {
                    throw_coded(
                        &ctx,
                        ErrorClass::Type,
                        "ERR_INVALID_ARGUMENT",
                        &format!("{}: parameters are not JSON: {e}", kind.method()),
                    )
                })?;
                if st.is_ending() {
                    return Ok(None);
                }
                let requested = st.mcp.borrow_mut().request(client, kind, params);
                requested.map_err(|e| throw_coded(&ctx, ErrorClass::Plain, "ERR_MCP_LIMIT", &e))
            },
        )?,
    )?;

    let st = state.clone();
    ops.set(
        "mcpRespond",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, client: u32, request: f64, answer: String| -> Result<()> {
                let invalid = |message: &str| {
                    throw_coded(&ctx, ErrorClass::Type, "ERR_INVALID_ARGUMENT", message)
                };
                if !(request.is_finite() && request >= 1.0 && request.fract() == 0.0) {
                    return Err(invalid(
                        "respond: requestId must be the requestId of the event",
                    ));
                }
                let answer = serde_json::from_str(&answer)
                    .map_err(|_| invalid("respond: the answer must be JSON-serializable"))?;
                let responded = st.mcp.borrow().respond(client, request as u64, answer);
                responded.map_err(|e| invalid(&e))
            },
        )?,
    )?;

    let st = state.clone();
    ops.set(
        "mcpClose",
        Function::new(ctx.clone(), move |client: u32| {
            st.mcp.borrow_mut().close(client)
        })?,
    )?;
    Ok(())
}
