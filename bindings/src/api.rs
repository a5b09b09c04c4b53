//! The JS API surfaces. Each `api/<surface>.js` is part of the prelude (the facade scenarios
//! see); each `api/<surface>.rs` adds the Rust ops that facade calls. Ops are passed to the
//! prelude as an argument and never become globals, so scenarios cannot reach them directly.

mod application_storage;
mod call;
mod dial;
mod logger;
mod mcp;
mod media;
mod net;
mod timers;
mod util;
mod voxengine;

use std::rc::Rc;

use rquickjs::{Ctx, Exception, Function, Object, Result};

use crate::engine::state::SessionState;

/// Builds the `ops` object handed to the prelude.
pub(crate) fn install_ops<'js>(ctx: &Ctx<'js>, state: &Rc<SessionState>) -> Result<Object<'js>> {
    let ops = Object::new(ctx.clone())?;
    logger::install(ctx, &ops, state)?;
    voxengine::install(ctx, &ops, state)?;
    call::install(ctx, &ops, state)?;
    dial::install(ctx, &ops, state)?;
    media::install(ctx, &ops, state)?;
    timers::install(ctx, &ops, state)?;
    util::install(ctx, &ops)?;
    mcp::install(ctx, &ops, state)?;
    net::install(ctx, &ops, state)?;
    application_storage::install(ctx, &ops, state)?;
    ops.set(
        "loadModule",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, name: String| -> Result<Function<'js>> {
                crate::engine::load_module(&ctx, &name)
                    .map_err(|e| throw_coded(&ctx, ErrorClass::Plain, "ERR_INTERNAL", &e))
            },
        )?,
    )?;
    Ok(ops)
}

/// The JS exception classes an op can throw.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ErrorClass {
    Type,
    Range,
    Plain,
}

/// Throws `class(message)` with a stable `code` property, as the JS facade's errors carry.
pub(crate) fn throw_coded(
    ctx: &Ctx<'_>,
    class: ErrorClass,
    code: &str,
    message: &str,
) -> rquickjs::Error {
    let thrown = match class {
        ErrorClass::Type => Exception::throw_type(ctx, message),
        ErrorClass::Range => Exception::throw_range(ctx, message),
        ErrorClass::Plain => Exception::throw_message(ctx, message),
    };
    let value = ctx.catch();
    if let Some(object) = value.as_object()
        && object.set("code", code).is_err()
    {
        return thrown;
    }
    ctx.throw(value)
}
