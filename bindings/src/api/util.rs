//! Ops behind `uuidgen`, `base64_encode` and `base64_decode`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rquickjs::{Ctx, Function, Object, Result};

use super::{ErrorClass, throw_coded};

pub(super) fn install<'js>(ctx: &Ctx<'js>, ops: &Object<'js>) -> Result<()> {
    ops.set(
        "uuid",
        Function::new(ctx.clone(), || uuid::Uuid::new_v4().to_string())?,
    )?;
    ops.set(
        "base64Encode",
        Function::new(ctx.clone(), |text: String| STANDARD.encode(text.as_bytes()))?,
    )?;
    ops.set(
        "base64Decode",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, text: String| -> Result<String> {
                let bytes = STANDARD.decode(text.trim()).map_err(|e| {
                    throw_coded(
                        &ctx,
                        ErrorClass::Type,
                        "ERR_INVALID_ARGUMENT",
                        &format!("base64_decode: not base64: {e}"),
                    )
                })?;
                Ok(String::from_utf8_lossy(&bytes).into_owned())
            },
        )?,
    )?;
    Ok(())
}
