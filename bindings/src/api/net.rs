//! The op behind `Net`: `netRequest(requestJson) -> id`; the result settles the facade's
//! promise under that id (`dispatch.settle`), always resolving with an `HttpRequestResult`.

use std::rc::Rc;

use rquickjs::{Ctx, Function, Object, Result};

use super::{ErrorClass, throw_coded};
use crate::engine::state::SessionState;
use crate::net::{HttpRequest, MAX_PENDING};

pub(super) fn install<'js>(
    ctx: &Ctx<'js>,
    ops: &Object<'js>,
    state: &Rc<SessionState>,
) -> Result<()> {
    let st = state.clone();
    ops.set(
        "netRequest",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, request: String| -> Result<u32> {
                let request: HttpRequest = serde_json::from_str(&request).map_err(|_| {
                    throw_coded(
                        &ctx,
                        ErrorClass::Type,
                        "ERR_INVALID_ARGUMENT",
                        "Net: the request options could not be read",
                    )
                })?;
                let pending = st.net_pending.clone();
                if pending.get() >= MAX_PENDING {
                    return Err(throw_coded(
                        &ctx,
                        ErrorClass::Plain,
                        "ERR_NET_LIMIT",
                        &format!("Exceeded the HTTP connection count limit! ({MAX_PENDING} requests of this session are under way or waiting)"),
                    ));
                }
                st.leave_simulated_time("Net");
                let answer =
                    crate::net::send(request, st.outbound_policy.clone(), &st.net);
                pending.set(pending.get() + 1);
                let counted = Pending(pending);
                let started = st.async_ops.start(async move {
                    let result = answer.await;
                    drop(counted);
                    serde_json::to_value(result).map_err(|e| crate::engine::async_ops::OpFailure {
                        code: "ERR_INTERNAL",
                        message: format!("Net: the result could not be given to the scenario: {e}"),
                    })
                });
                started.map_err(|e| throw_coded(&ctx, ErrorClass::Plain, "ERR_NET_LIMIT", &e.to_string()))
            },
        )?,
    )?;
    Ok(())
}

/// One pending request in the session's count, until its result is in (or it is dropped).
struct Pending(Rc<std::cell::Cell<usize>>);

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}
