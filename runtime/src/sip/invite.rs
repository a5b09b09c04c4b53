//! What an INVITE tells a scenario: the `AppEvents.CallAlerting` fields.

use std::collections::BTreeMap;

use dialtone_bindings::host::IncomingCall;
use rsipstack::sip::headers::ToTypedHeader as _;
use rsipstack::sip::{HasHeaders as _, HeadersExt as _, Request};

/// Headers copied into `CallAlerting.headers`, at most (a flood of headers is not a payload).
const MAX_HEADERS: usize = 64;

/// The CallAlerting fields of `request`, for call `id`.
pub(crate) fn incoming_call(request: &Request, id: &str) -> IncomingCall {
    let destination = request.uri.user().unwrap_or_default().to_owned();
    let (callerid, display_name, from_uri) = match request.from_header().map(|h| h.typed()) {
        Ok(Ok(from)) => (
            from.uri.user().unwrap_or_default().to_owned(),
            from.display_name.clone().unwrap_or_default(),
            from.uri.to_string(),
        ),
        _ => Default::default(),
    };
    let to_uri = match request.to_header().map(|h| h.typed()) {
        Ok(Ok(to)) => to.uri.to_string(),
        _ => request.uri.to_string(),
    };
    let mut headers = BTreeMap::new();
    for header in request.headers().iter().take(MAX_HEADERS) {
        let (name, value) = header_pair(&header.to_string());
        headers
            .entry(name)
            .and_modify(|v: &mut String| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    IncomingCall {
        id: id.to_owned(),
        callerid: unquote(&callerid),
        display_name: unquote(&display_name),
        destination,
        to_uri,
        from_uri,
        headers,
        scheme: "sip".into(),
    }
}

/// `Name: value` → (Name, value).
/// The X- headers of a message (an outbound call's answer), by name; repeated ones joined.
pub(crate) fn x_headers(headers: &rsipstack::sip::Headers) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for header in headers.iter().take(MAX_HEADERS) {
        let (name, value) = header_pair(&header.to_string());
        if name.len() > 2 && name[..2].eq_ignore_ascii_case("x-") {
            out.entry(name)
                .and_modify(|v: &mut String| {
                    v.push_str(", ");
                    v.push_str(&value);
                })
                .or_insert(value);
        }
    }
    out
}

fn header_pair(line: &str) -> (String, String) {
    match line.split_once(':') {
        Some((name, value)) => (name.trim().to_owned(), value.trim().to_owned()),
        None => (line.trim().to_owned(), String::new()),
    }
}

fn unquote(text: &str) -> String {
    text.trim().trim_matches('"').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_caller_destination_and_headers() {
        let raw = "INVITE sip:2000@127.0.0.1:5060 SIP/2.0\r\n\
            Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK1\r\n\
            From: \"Alice Smith\" <sip:1001@127.0.0.1:5061>;tag=abc\r\n\
            To: <sip:2000@127.0.0.1:5060>\r\n\
            Call-ID: c1@127.0.0.1\r\n\
            CSeq: 1 INVITE\r\n\
            X-Customer: 42\r\n\
            Content-Length: 0\r\n\r\n";
        let request = Request::try_from(raw.as_bytes()).expect("parses");
        let call = incoming_call(&request, "c1@127.0.0.1");
        assert_eq!(call.destination, "2000");
        assert_eq!(call.callerid, "1001");
        assert_eq!(call.display_name, "Alice Smith");
        assert_eq!(call.from_uri, "sip:1001@127.0.0.1:5061");
        assert_eq!(call.to_uri, "sip:2000@127.0.0.1:5060");
        assert_eq!(
            call.headers.get("X-Customer").map(String::as_str),
            Some("42")
        );
        assert_eq!(call.scheme, "sip");
    }
}
