//! Op behind the `Call` class: `callCommand(callId, json)` sends one [`CallCommand`]. Outbound
//! calls are placed by the `dial` op (`dial.rs`).

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
                if let Err(message) = check_extra_headers(&command) {
                    return Err(throw_coded(
                        &ctx,
                        ErrorClass::Type,
                        "ERR_INVALID_ARGUMENT",
                        &message,
                    ));
                }
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

/// Most extra headers one message may carry.
const MAX_EXTRA_HEADERS: usize = 32;
/// Longest extra header value.
const MAX_EXTRA_HEADER_VALUE: usize = 1024;

/// Extra headers go on the wire as they are: X- headers only (the transaction's own headers
/// stay ours), SIP token names, values on one line.
fn check_extra_headers(command: &CallCommand) -> std::result::Result<(), String> {
    let (method, headers) = match command {
        CallCommand::Ring { headers } => ("call.ring", headers),
        CallCommand::StartEarlyMedia { headers } => ("call.startEarlyMedia", headers),
        CallCommand::Answer { headers } => ("call.answer", headers),
        CallCommand::Reject { headers, .. } => ("call.reject", headers),
        CallCommand::Hangup { headers } => ("call.hangup", headers),
        _ => return Ok(()),
    };
    check_headers(method, headers)
}

pub(super) fn check_headers(
    method: &str,
    headers: &std::collections::BTreeMap<String, String>,
) -> std::result::Result<(), String> {
    if headers.len() > MAX_EXTRA_HEADERS {
        return Err(format!(
            "{method}: at most {MAX_EXTRA_HEADERS} extra headers, got {}",
            headers.len()
        ));
    }
    for (name, value) in headers {
        let token = |c: char| c.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(c);
        if !(name.len() > 2 && name[..2].eq_ignore_ascii_case("x-") && name.chars().all(token)) {
            return Err(format!(
                "{method}: extra header '{name}' is not an X- header (a name starting with X- of letters, digits and -.!%*_+`'~)"
            ));
        }
        if value.chars().any(|c| c == '\r' || c == '\n' || c == '\0') {
            return Err(format!(
                "{method}: the value of extra header '{name}' has a line break"
            ));
        }
        if value.len() > MAX_EXTRA_HEADER_VALUE {
            return Err(format!(
                "{method}: the value of extra header '{name}' is longer than {MAX_EXTRA_HEADER_VALUE} bytes"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn answer(name: &str, value: &str) -> CallCommand {
        CallCommand::Answer {
            headers: BTreeMap::from([(name.to_owned(), value.to_owned())]),
        }
    }

    #[test]
    fn extra_headers_are_x_headers_on_one_line() {
        assert_eq!(check_extra_headers(&answer("X-Account", "42")), Ok(()));
        assert_eq!(check_extra_headers(&answer("x-trace.id", "a b")), Ok(()));
        assert_eq!(
            check_extra_headers(&answer("Via", "SIP/2.0/UDP evil")),
            Err("call.answer: extra header 'Via' is not an X- header (a name starting with X- of letters, digits and -.!%*_+`'~)".into())
        );
        assert_eq!(
            check_extra_headers(&answer("X-Bad Name", "1")),
            Err("call.answer: extra header 'X-Bad Name' is not an X- header (a name starting with X- of letters, digits and -.!%*_+`'~)".into())
        );
        assert_eq!(
            check_extra_headers(&answer("X-Inject", "1\r\nVia: x")),
            Err("call.answer: the value of extra header 'X-Inject' has a line break".into())
        );
        assert_eq!(
            check_extra_headers(&answer("X-Long", &"v".repeat(1025))),
            Err("call.answer: the value of extra header 'X-Long' is longer than 1024 bytes".into())
        );
        let many = CallCommand::Hangup {
            headers: (0..33)
                .map(|i| (format!("X-H{i}"), "v".to_owned()))
                .collect(),
        };
        assert_eq!(
            check_extra_headers(&many),
            Err("call.hangup: at most 32 extra headers, got 33".into())
        );
    }
}
