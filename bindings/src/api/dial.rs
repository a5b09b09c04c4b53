//! The `dial(kind, to, paramsJson)` op behind `VoxEngine.callSIP`, `callPSTN` and `callUser`:
//! the parameters are checked here, in the scenario's words, and become one [`Dial`] for the
//! host; the new call's id is returned (`out-N`) and its events follow as for any call.

use std::collections::BTreeMap;
use std::rc::Rc;

use rquickjs::{Ctx, Function, Object, Result};

use super::call::check_headers;
use super::{ErrorClass, throw_coded};
use crate::engine::state::{CallPhase, SessionState};
use crate::host::{Dial, DialAuth, DialKind, Outbound};

/// VoxEngine's no-answer timeout header (`callUser`; accepted on every outbound call).
const CALL_TIMEOUT_HEADER: &str = "VI-CallTimeout";

pub(super) fn install<'js>(
    ctx: &Ctx<'js>,
    ops: &Object<'js>,
    state: &Rc<SessionState>,
) -> Result<()> {
    let st = state.clone();
    ops.set(
        "dial",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, kind: String, to: String, params: String| -> Result<String> {
                let (kind, method) = match kind.as_str() {
                    "pstn" => (DialKind::Pstn, "VoxEngine.callPSTN"),
                    "user" => (DialKind::User, "VoxEngine.callUser"),
                    "conference" => (DialKind::Conference, "VoxEngine.callConference"),
                    _ => (DialKind::Sip, "VoxEngine.callSIP"),
                };
                let mut dial = read_dial(method, kind, &to, &params)
                    .map_err(|m| throw_coded(&ctx, ErrorClass::Type, "ERR_INVALID_ARGUMENT", &m))?;
                if st.is_ending() {
                    return Err(throw_coded(
                        &ctx,
                        ErrorClass::Plain,
                        "ERR_SESSION_ENDING",
                        &format!("{method}: the session is ending"),
                    ));
                }
                dial.call_id = format!("out-{}", st.next_outbound_call());
                st.calls
                    .borrow_mut()
                    .insert(dial.call_id.clone(), CallPhase::Dialing);
                let id = dial.call_id.clone();
                st.send(Outbound::Dial(dial));
                Ok(id)
            },
        )?,
    )?;
    Ok(())
}

/// The parameters as `call.js` passes them (absent ones are left out).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    callerid: Option<String>,
    display_name: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    password: Option<String>,
    auth_user: Option<String>,
    out_proxy: Option<String>,
}

/// Checks one outbound call's address and parameters; the call id is set by the caller.
fn read_dial(
    method: &str,
    kind: DialKind,
    to: &str,
    params: &str,
) -> std::result::Result<Dial, String> {
    let mut params: Params = serde_json::from_str(params).map_err(|_| {
        format!(
            "{method}: parameters must be an object of strings (callerid, displayName, headers ...)"
        )
    })?;
    let to = match kind {
        DialKind::Pstn => phone_number(method, to)?,
        DialKind::User => user_name(method, to)?,
        DialKind::Conference => conference_id(method, to)?,
        _ => sip_address(method, to)?,
    };
    let no_answer_s = take_call_timeout(method, &mut params.headers)?;
    check_headers(method, &params.headers)?;
    for (what, value) in [
        ("callerid", &params.callerid),
        ("displayName", &params.display_name),
        ("authUser", &params.auth_user),
    ] {
        if value
            .as_deref()
            .is_some_and(|v| v.len() > 128 || v.chars().any(|c| c.is_control() || c == '"'))
        {
            return Err(format!(
                "{method}: {what} must be one line of at most 128 characters without quotes"
            ));
        }
    }
    let auth = match params.password {
        Some(password) if !password.is_empty() => {
            if password.len() > 256 || password.chars().any(char::is_control) {
                return Err(format!(
                    "{method}: password must be one line of at most 256 characters"
                ));
            }
            let user = params
                .auth_user
                .clone()
                .filter(|u| !u.is_empty())
                .or_else(|| params.callerid.clone().filter(|c| !c.is_empty()))
                .ok_or_else(|| format!("{method}: a password needs an authUser or a callerid"))?;
            Some(DialAuth { user, password })
        }
        _ => None,
    };
    let out_proxy = match params.out_proxy.filter(|p| !p.is_empty()) {
        Some(proxy) => Some(proxy_address(method, &proxy)?),
        None => None,
    };
    Ok(Dial {
        call_id: String::new(),
        to,
        callerid: params.callerid,
        display_name: params.display_name,
        headers: params.headers,
        kind,
        auth,
        out_proxy,
        no_answer_s,
    })
}

/// `sip:user@host[:port]` (a missing `sip:` is added); `sips:` needs TLS, which the SIP
/// server does not have yet.
fn sip_address(method: &str, to: &str) -> std::result::Result<String, String> {
    let to = to.trim();
    let not_sip = || format!("{method}: '{to}' is not a SIP address (sip:user@host[:port])");
    if to.is_empty() || to.len() > 512 || to.chars().any(|c| c.is_control() || c == ' ') {
        return Err(not_sip());
    }
    if to.starts_with("sips:") || to.to_ascii_lowercase().contains(";transport=tls") {
        return Err(format!(
            "{method}: '{to}' needs SIP over TLS, which this server does not offer yet (use sip: over UDP or TCP)"
        ));
    }
    let to = if to.starts_with("sip:") {
        to.to_owned()
    } else {
        format!("sip:{to}")
    };
    let rest = &to[4..];
    if !rest.contains('@') && !rest.contains('.') && !rest.contains(':') {
        return Err(not_sip());
    }
    Ok(to)
}

/// An E.164-style number: digits, an optional leading `+`, `*` and `#`.
fn phone_number(method: &str, number: &str) -> std::result::Result<String, String> {
    let number = number.trim();
    let digits = number.strip_prefix('+').unwrap_or(number);
    if digits.is_empty()
        || number.len() > 32
        || !digits
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
    {
        return Err(format!(
            "{method}: '{number}' is not a phone number (digits, optionally after a +)"
        ));
    }
    Ok(number.to_owned())
}

/// A user name of the application: letters, digits and `._-`.
fn user_name(method: &str, name: &str) -> std::result::Result<String, String> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(format!(
            "{method}: '{name}' is not a user name (1-64 letters, digits, '.', '_' or '-')"
        ));
    }
    Ok(name.to_owned())
}

/// A conference id: 1-128 characters on one line (the room's rule matches it).
fn conference_id(method: &str, id: &str) -> std::result::Result<String, String> {
    if id.is_empty() || id.len() > 128 || id.chars().any(char::is_control) {
        return Err(format!(
            "{method}: the conference id must be 1-128 characters on one line, got '{}'",
            id.escape_debug()
        ));
    }
    Ok(id.to_owned())
}

/// `host[:port]` of an outbound proxy.
fn proxy_address(method: &str, proxy: &str) -> std::result::Result<String, String> {
    let proxy = proxy.trim();
    let bare = proxy.strip_prefix("sip:").unwrap_or(proxy);
    let (host, port) = match bare.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') || host.ends_with(']') => (host, Some(port)),
        _ => (bare, None),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-[]:".contains(c));
    if !host_ok || port.is_some_and(|p| p.parse::<u16>().map_or(true, |p| p == 0)) {
        return Err(format!("{method}: outProxy '{proxy}' is not a host[:port]"));
    }
    Ok(bare.to_owned())
}

/// Takes VoxEngine's `VI-CallTimeout` header (seconds, 10-400) out of the extra headers.
fn take_call_timeout(
    method: &str,
    headers: &mut BTreeMap<String, String>,
) -> std::result::Result<Option<u32>, String> {
    let Some(name) = headers
        .keys()
        .find(|k| k.eq_ignore_ascii_case(CALL_TIMEOUT_HEADER))
        .cloned()
    else {
        return Ok(None);
    };
    let value = headers.remove(&name).unwrap_or_default();
    match value.trim().parse::<u32>() {
        Ok(seconds) if (10..=400).contains(&seconds) => Ok(Some(seconds)),
        _ => Err(format!(
            "{method}: {CALL_TIMEOUT_HEADER} must be a number of seconds from 10 to 400, got '{value}'"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sip(to: &str, params: &str) -> std::result::Result<Dial, String> {
        read_dial("VoxEngine.callSIP", DialKind::Sip, to, params)
    }

    #[test]
    fn addresses_are_checked_in_the_scenarios_words() {
        assert_eq!(
            sip("bob@example.org", "{}").map(|d| d.to),
            Ok("sip:bob@example.org".into())
        );
        assert_eq!(
            sip("bob", "{}").map(|d| d.to),
            Err("VoxEngine.callSIP: 'bob' is not a SIP address (sip:user@host[:port])".into())
        );
        assert_eq!(
            sip("sips:bob@example.org:5061", "{}").map(|d| d.to),
            Err("VoxEngine.callSIP: 'sips:bob@example.org:5061' needs SIP over TLS, which this server does not offer yet (use sip: over UDP or TCP)".into())
        );
        assert_eq!(
            read_dial("VoxEngine.callPSTN", DialKind::Pstn, "+1 555", "{}").map(|d| d.to),
            Err(
                "VoxEngine.callPSTN: '+1 555' is not a phone number (digits, optionally after a +)"
                    .into()
            )
        );
        assert_eq!(
            read_dial("VoxEngine.callPSTN", DialKind::Pstn, "+15550100", "{}").map(|d| d.to),
            Ok("+15550100".into())
        );
        assert_eq!(
            read_dial("VoxEngine.callUser", DialKind::User, "bob smith", "{}").map(|d| d.to),
            Err("VoxEngine.callUser: 'bob smith' is not a user name (1-64 letters, digits, '.', '_' or '-')".into())
        );
    }

    #[test]
    fn credentials_proxy_and_timeout() {
        let dial = sip(
            "sip:bob@example.org",
            r#"{"callerid":"1001","password":"pw","outProxy":"10.0.0.1:5070","headers":{"VI-CallTimeout":"15","X-A":"1"}}"#,
        )
        .expect("valid");
        assert_eq!(
            dial.auth,
            Some(DialAuth {
                user: "1001".into(),
                password: "pw".into()
            })
        );
        assert_eq!(dial.out_proxy.as_deref(), Some("10.0.0.1:5070"));
        assert_eq!(dial.no_answer_s, Some(15));
        assert_eq!(dial.headers.keys().collect::<Vec<_>>(), ["X-A"]);
        assert_eq!(
            sip("sip:bob@example.org", r#"{"password":"pw"}"#).map(|d| d.auth),
            Err("VoxEngine.callSIP: a password needs an authUser or a callerid".into())
        );
        assert_eq!(
            sip("sip:bob@example.org", r#"{"outProxy":"a b"}"#).map(|d| d.out_proxy),
            Err("VoxEngine.callSIP: outProxy 'a b' is not a host[:port]".into())
        );
        assert_eq!(
            sip("sip:bob@example.org", r#"{"headers":{"vi-calltimeout":"5"}}"#).map(|d| d.no_answer_s),
            Err("VoxEngine.callSIP: VI-CallTimeout must be a number of seconds from 10 to 400, got '5'".into())
        );
    }
}
