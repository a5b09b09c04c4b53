//! What a SIP datagram must be before the SIP stack sees it (RFC 3261 7, 8.2, 18.3), as a
//! sans-IO check: [`inspect`] takes the bytes of one datagram and says whether to pass them on,
//! answer them ourselves (400, 501, 505, with the reason in the status line) or drop them.
//!
//! The stack silently drops what its parser refuses and accepts some things it should not
//! (`SIP/3.0`, a Content-Length longer than the body, a CSeq naming another method); a caller
//! then retransmits into silence. Here every request that can be answered gets an answer that
//! says what was wrong, and responses that are wrong are dropped (RFC 3261 18.3).

use std::fmt::Write as _;

/// Methods the SIP stack parses. Others get 501 (RFC 3261 8.2.1).
const KNOWN_METHODS: [&str; 14] = [
    "ACK",
    "BYE",
    "CANCEL",
    "INFO",
    "INVITE",
    "MESSAGE",
    "NOTIFY",
    "OPTIONS",
    "PRACK",
    "PUBLISH",
    "REFER",
    "REGISTER",
    "SUBSCRIBE",
    "UPDATE",
];

/// Header lines a message may carry; past this it is refused (a flood of headers is not a call).
pub const MAX_HEADER_LINES: usize = 256;

/// The verdict on one datagram.
#[derive(Debug, PartialEq, Eq)]
pub enum Inspection<'a> {
    /// Well formed: hand these bytes to the stack (a datagram cut to its Content-Length;
    /// blank keep-alives pass as they are).
    Pass(&'a [u8]),
    /// A request refused: send `response` back to the source. `why` is for the log.
    Refuse {
        /// The whole response.
        response: Vec<u8>,
        /// What was wrong.
        why: String,
    },
    /// Neither passed nor answerable (a bad response, an ACK, no Via): why, for the log.
    Drop(String),
}

/// Judges one datagram. `server` goes into the `Server` header of refusals, `allow` into the
/// `Allow` header of a 501.
pub fn inspect<'a>(datagram: &'a [u8], server: &str, allow: &str) -> Inspection<'a> {
    if datagram.iter().all(u8::is_ascii_whitespace) {
        return Inspection::Pass(datagram);
    }
    let (head_len, body_start) = match find_blank_line(datagram) {
        Some(at) => at,
        None => (datagram.len(), datagram.len()),
    };
    let Ok(head) = std::str::from_utf8(&datagram[..head_len]) else {
        return Inspection::Drop("the start line and headers are not UTF-8 text".into());
    };
    let message = Message::split(head);
    let start = message.start_line;
    if start.starts_with("SIP/") {
        return inspect_response(datagram, &message, body_start);
    }
    let refuse = |status: u16, reason: &str, why: String| {
        refusal(&message, status, reason, why, server, allow)
    };
    let parts: Vec<&str> = start.splitn(4, ' ').collect();
    let (method, version) = match parts[..] {
        [method, uri, version]
            if !method.is_empty() && method.bytes().all(is_token_byte) && !uri.is_empty() =>
        {
            (method, version)
        }
        _ => {
            return refuse(
                400,
                "Bad Request (malformed Request-Line)",
                format!(
                    "the Request-Line {:?} is not METHOD URI SIP/2.0",
                    clip(start)
                ),
            );
        }
    };
    if version != "SIP/2.0" {
        if version.starts_with("SIP/") {
            return refuse(
                505,
                "Version Not Supported",
                format!("version {:?}; only SIP/2.0 is spoken", clip(version)),
            );
        }
        return refuse(
            400,
            "Bad Request (malformed Request-Line)",
            format!("the Request-Line ends in {:?}, not SIP/2.0", clip(version)),
        );
    }
    if body_start == datagram.len() && head_len == datagram.len() {
        return refuse(
            400,
            "Bad Request (no blank line after the headers)",
            "the headers do not end with a blank line".into(),
        );
    }
    if let Some(line) = message.malformed_line {
        return refuse(
            400,
            "Bad Request (malformed header line)",
            format!("the header line {:?} has no colon", clip(line)),
        );
    }
    if message.too_many {
        return refuse(
            400,
            "Bad Request (too many headers)",
            format!("more than {MAX_HEADER_LINES} header lines"),
        );
    }
    if !KNOWN_METHODS.contains(&method) {
        return refuse(
            501,
            "Not Implemented",
            format!("the method {method} is not implemented"),
        );
    }
    for (name, short) in [
        ("Via", "v"),
        ("From", "f"),
        ("To", "t"),
        ("Call-ID", "i"),
        ("CSeq", ""),
    ] {
        if message.first(name, short).is_none() {
            return refuse(
                400,
                &format!("Bad Request (missing {name} header)"),
                format!("the request has no {name} header"),
            );
        }
    }
    let cseq = message.first("CSeq", "").unwrap_or_default();
    match cseq.split_whitespace().collect::<Vec<_>>()[..] {
        [number, cseq_method]
            if number.parse::<u32>().is_ok_and(|n| n < 1 << 31) && cseq_method == method => {}
        _ => {
            return refuse(
                400,
                "Bad Request (malformed CSeq header)",
                format!(
                    "CSeq {:?} is not a number and the method {method}",
                    clip(cseq)
                ),
            );
        }
    }
    let end = match body_end(&message, datagram.len(), body_start) {
        Ok(end) => end,
        Err(why) => {
            let reason = format!("Bad Request ({why})");
            return refuse(400, &reason, why);
        }
    };
    let bytes = &datagram[..end];
    if let Err(what) = parses(bytes) {
        return refuse(
            400,
            &format!("Bad Request (malformed {what})"),
            format!("the {what} does not parse"),
        );
    }
    Inspection::Pass(bytes)
}

fn inspect_response<'a>(
    datagram: &'a [u8],
    message: &Message<'_>,
    body_start: usize,
) -> Inspection<'a> {
    let version = message.start_line.split(' ').next().unwrap_or_default();
    if version != "SIP/2.0" {
        return Inspection::Drop(format!("a response of version {:?}", clip(version)));
    }
    match body_end(message, datagram.len(), body_start) {
        Ok(end) => Inspection::Pass(&datagram[..end]),
        Err(why) => Inspection::Drop(format!("a response with {why}")),
    }
}

/// Where the message ends: the body is cut to Content-Length (RFC 3261 18.3); a Content-Length
/// past the end of the datagram, or one that is not a number, is an error.
fn body_end(message: &Message<'_>, len: usize, body_start: usize) -> Result<usize, String> {
    let mut declared = None;
    for value in message.all("Content-Length", "l") {
        let Ok(n) = value.trim().parse::<usize>() else {
            return Err("Content-Length is not a number".into());
        };
        if declared.is_some_and(|d| d != n) {
            return Err("two different Content-Length headers".into());
        }
        declared = Some(n);
    }
    let body = len - body_start;
    match declared {
        None => Ok(len),
        Some(n) if n > body => Err(format!("Content-Length {n} but a body of {body} bytes")),
        Some(n) => Ok(body_start + n),
    }
}

/// Whether the stack's parser takes the message and the headers it reads later; else which part
/// does not parse.
fn parses(bytes: &[u8]) -> Result<(), &'static str> {
    use rsipstack::sip::HeadersExt as _;
    use rsipstack::sip::headers::ToTypedHeader as _;
    let Ok(rsipstack::sip::SipMessage::Request(request)) =
        rsipstack::sip::SipMessage::try_from(bytes)
    else {
        return Err("message");
    };
    if !matches!(request.via_header().map(|h| h.typed()), Ok(Ok(_))) {
        return Err("Via header");
    }
    if !matches!(request.from_header().map(|h| h.typed()), Ok(Ok(_))) {
        return Err("From header");
    }
    if !matches!(request.to_header().map(|h| h.typed()), Ok(Ok(_))) {
        return Err("To header");
    }
    if !matches!(request.cseq_header().map(|h| h.typed()), Ok(Ok(_))) {
        return Err("CSeq header");
    }
    Ok(())
}

/// The start line and header lines of a message head (folded lines joined).
struct Message<'a> {
    start_line: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    /// A line without a colon, if any.
    malformed_line: Option<&'a str>,
    too_many: bool,
}

impl<'a> Message<'a> {
    fn split(head: &'a str) -> Self {
        let mut lines = head.split("\r\n").flat_map(|l| l.split('\n'));
        let start_line = lines.next().unwrap_or_default().trim_end_matches('\r');
        let mut message = Message {
            start_line,
            headers: Vec::new(),
            malformed_line: None,
            too_many: false,
        };
        for line in lines {
            if line.is_empty() {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                // A folded continuation (RFC 3261 7.3.1): part of the previous header's value;
                // the stack unfolds it, the checks here only need the first line.
                continue;
            }
            if message.headers.len() == MAX_HEADER_LINES {
                message.too_many = true;
                break;
            }
            match line.split_once(':') {
                Some((name, value)) => message.headers.push((name.trim(), value.trim())),
                None => {
                    message.malformed_line.get_or_insert(line);
                }
            }
        }
        message
    }

    /// Values of the header `name` (or its compact form `short`), in order.
    fn all<'s>(&'s self, name: &'s str, short: &'s str) -> impl Iterator<Item = &'a str> + 's {
        self.headers
            .iter()
            .filter(move |(n, _)| {
                n.eq_ignore_ascii_case(name) || (!short.is_empty() && n.eq_ignore_ascii_case(short))
            })
            .map(|(_, v)| *v)
    }

    fn first(&self, name: &str, short: &str) -> Option<&'a str> {
        self.all(name, short).next()
    }
}

/// A response refusing the request in `message`, or a drop when it cannot be answered (an ACK
/// gets no response; without a Via there is nothing to route a response by).
fn refusal<'a>(
    message: &Message<'_>,
    status: u16,
    reason: &str,
    why: String,
    server: &str,
    allow: &str,
) -> Inspection<'a> {
    if message.start_line.starts_with("ACK ") {
        return Inspection::Drop(format!("an ACK that is not well formed: {why}"));
    }
    let vias: Vec<&str> = message.all("Via", "v").collect();
    if vias.is_empty() {
        return Inspection::Drop(format!("{why}; no Via header to answer by"));
    }
    // A response names its transaction by all of these; without one it could not be matched,
    // and answering would only make us a reflector for whoever forged the source.
    for (name, short) in [("From", "f"), ("To", "t"), ("Call-ID", "i"), ("CSeq", "")] {
        if message.first(name, short).is_none() {
            return Inspection::Drop(format!("{why}; no {name} header to answer by"));
        }
    }
    let mut out = String::new();
    let _ = write!(out, "SIP/2.0 {status} {}\r\n", reason_phrase(reason));
    for via in vias {
        let _ = write!(out, "Via: {via}\r\n");
    }
    if let Some(from) = message.first("From", "f") {
        let _ = write!(out, "From: {from}\r\n");
    }
    if let Some(to) = message.first("To", "t") {
        if to.to_ascii_lowercase().contains(";tag=") {
            let _ = write!(out, "To: {to}\r\n");
        } else {
            let _ = write!(out, "To: {to};tag={}\r\n", refusal_tag());
        }
    }
    if let Some(call_id) = message.first("Call-ID", "i") {
        let _ = write!(out, "Call-ID: {call_id}\r\n");
    }
    if let Some(cseq) = message.first("CSeq", "") {
        let _ = write!(out, "CSeq: {cseq}\r\n");
    }
    if status == 501 || status == 405 {
        let _ = write!(out, "Allow: {allow}\r\n");
    }
    let _ = write!(out, "Server: {server}\r\nContent-Length: 0\r\n\r\n");
    Inspection::Refuse {
        response: out.into_bytes(),
        why,
    }
}

/// A To tag for refusals (no dialog comes of them, so any unique token does).
fn refusal_tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_owned()
}

/// `text` made safe for a status line: printable ASCII, at most 100 characters.
fn reason_phrase(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(100)
        .collect()
}

/// `text` cut to 60 characters for a log line.
fn clip(text: &str) -> String {
    text.chars().take(60).collect()
}

/// RFC 3261 25.1 token characters.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// The end of the headers and the start of the body: at the first empty line.
fn find_blank_line(bytes: &[u8]) -> Option<(usize, usize)> {
    let crlf = bytes.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = bytes.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(c), Some(l)) if l < c => Some((l, l + 2)),
        (Some(c), _) => Some((c, c + 4)),
        (None, Some(l)) => Some((l, l + 2)),
        (None, None) => None,
    }
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
