use super::*;

const SERVER: &str = "Dialtone/test";
const ALLOW: &str = "INVITE, ACK, BYE";

fn request(start: &str, extra: &str, body: &str) -> String {
    format!(
        "{start}\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-1\r\n\
         From: <sip:alice@127.0.0.1>;tag=a1\r\n\
         To: <sip:2000@127.0.0.1>\r\n\
         Call-ID: c1@127.0.0.1\r\n\
         {extra}\
         \r\n{body}"
    )
}

/// The status line of a refusal, and the reason logged.
fn refused(inspection: Inspection<'_>) -> (String, String) {
    match inspection {
        Inspection::Refuse { response, why } => {
            let text = String::from_utf8(response).expect("ASCII");
            (text.lines().next().unwrap_or_default().to_owned(), why)
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_well_formed_invite_passes_whole() {
    let text = request(
        "INVITE sip:2000@127.0.0.1 SIP/2.0",
        "CSeq: 1 INVITE\r\nContent-Length: 4\r\n",
        "v=0\n",
    );
    assert_eq!(
        inspect(text.as_bytes(), SERVER, ALLOW),
        Inspection::Pass(text.as_bytes())
    );
}

#[test]
fn bytes_past_the_content_length_are_cut() {
    let text = request(
        "OPTIONS sip:2000@127.0.0.1 SIP/2.0",
        "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n",
        "trailing junk",
    );
    let expected = &text.as_bytes()[..text.len() - "trailing junk".len()];
    assert_eq!(
        inspect(text.as_bytes(), SERVER, ALLOW),
        Inspection::Pass(expected)
    );
}

#[test]
fn a_content_length_past_the_body_gets_400() {
    let text = request(
        "INVITE sip:2000@127.0.0.1 SIP/2.0",
        "CSeq: 1 INVITE\r\nContent-Length: 99999\r\n",
        "v=0",
    );
    assert_eq!(
        refused(inspect(text.as_bytes(), SERVER, ALLOW)),
        (
            "SIP/2.0 400 Bad Request (Content-Length 99999 but a body of 3 bytes)".into(),
            "Content-Length 99999 but a body of 3 bytes".into()
        )
    );
}

#[test]
fn sip_3_gets_505() {
    let text = request(
        "OPTIONS sip:2000@127.0.0.1 SIP/3.0",
        "CSeq: 1 OPTIONS\r\n",
        "",
    );
    assert_eq!(
        refused(inspect(text.as_bytes(), SERVER, ALLOW)),
        (
            "SIP/2.0 505 Version Not Supported".into(),
            "version \"SIP/3.0\"; only SIP/2.0 is spoken".into()
        )
    );
}

#[test]
fn an_unknown_method_gets_501_with_allow_and_the_dialog_headers() {
    let text = request(
        "FROBNICATE sip:2000@127.0.0.1 SIP/2.0",
        "CSeq: 7 FROBNICATE\r\n",
        "",
    );
    let Inspection::Refuse { response, why } = inspect(text.as_bytes(), SERVER, ALLOW) else {
        panic!("refused");
    };
    assert_eq!(why, "the method FROBNICATE is not implemented");
    let response = String::from_utf8(response).expect("ASCII");
    let lines: Vec<&str> = response.split("\r\n").collect();
    assert_eq!(lines[0], "SIP/2.0 501 Not Implemented");
    assert_eq!(lines[1], "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-1");
    assert_eq!(lines[2], "From: <sip:alice@127.0.0.1>;tag=a1");
    assert!(
        lines[3].starts_with("To: <sip:2000@127.0.0.1>;tag="),
        "{}",
        lines[3]
    );
    assert_eq!(lines[4], "Call-ID: c1@127.0.0.1");
    assert_eq!(lines[5], "CSeq: 7 FROBNICATE");
    assert_eq!(lines[6], "Allow: INVITE, ACK, BYE");
    assert_eq!(lines[7], "Server: Dialtone/test");
    assert_eq!(lines[8], "Content-Length: 0");
    assert!(response.ends_with("\r\n\r\n"));
    // The stack's own parser reads our response.
    rsipstack::sip::SipMessage::try_from(response.as_bytes()).expect("parses");
}

#[test]
fn a_request_missing_a_header_a_response_needs_is_dropped_not_answered() {
    let text = "BYE sip:2000@127.0.0.1 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-2\r\n\
        From: <sip:alice@127.0.0.1>;tag=a1\r\n\
        To: <sip:2000@127.0.0.1>;tag=b2\r\n\
        CSeq: 2 BYE\r\n\r\n";
    assert_eq!(
        inspect(text.as_bytes(), SERVER, ALLOW),
        Inspection::Drop(
            "the request has no Call-ID header; no Call-ID header to answer by".into()
        )
    );
    // A tiny forged request gets nothing back (no amplification).
    assert_eq!(
        inspect(b"X a SIP/2.0\r\nv:a\r\n\r\n", SERVER, ALLOW),
        Inspection::Drop("the method X is not implemented; no From header to answer by".into())
    );
}

#[test]
fn a_cseq_naming_another_method_gets_400() {
    let text = request("INVITE sip:2000@127.0.0.1 SIP/2.0", "CSeq: 1 BYE\r\n", "");
    assert_eq!(
        refused(inspect(text.as_bytes(), SERVER, ALLOW)),
        (
            "SIP/2.0 400 Bad Request (malformed CSeq header)".into(),
            "CSeq \"1 BYE\" is not a number and the method INVITE".into()
        )
    );
}

#[test]
fn a_header_the_parser_refuses_is_named() {
    let text = "INVITE sip:2000@127.0.0.1 SIP/2.0\r\n\
        Via: nonsense\r\n\
        From: <sip:alice@127.0.0.1>;tag=a1\r\n\
        To: <sip:2000@127.0.0.1>\r\n\
        Call-ID: c3\r\n\
        CSeq: 1 INVITE\r\n\r\n";
    assert_eq!(
        refused(inspect(text.as_bytes(), SERVER, ALLOW)),
        (
            "SIP/2.0 400 Bad Request (malformed Via header)".into(),
            "the Via header does not parse".into()
        )
    );
}

#[test]
fn a_line_without_a_colon_gets_400() {
    let text = request(
        "OPTIONS sip:2000@127.0.0.1 SIP/2.0",
        "CSeq: 1 OPTIONS\r\nthis is not a header\r\n",
        "",
    );
    assert_eq!(
        refused(inspect(text.as_bytes(), SERVER, ALLOW)),
        (
            "SIP/2.0 400 Bad Request (malformed header line)".into(),
            "the header line \"this is not a header\" has no colon".into()
        )
    );
}

#[test]
fn what_cannot_be_answered_is_dropped_with_the_reason() {
    assert_eq!(
        inspect(b"\x00\x01\x02garbage", SERVER, ALLOW),
        Inspection::Drop(
            "the Request-Line \"\\0\\u{1}\\u{2}garbage\" is not METHOD URI SIP/2.0; no Via header to answer by"
                .into()
        )
    );
    assert_eq!(
        inspect(&[0xff; 1400], SERVER, ALLOW),
        Inspection::Drop("the start line and headers are not UTF-8 text".into())
    );
    assert_eq!(
        inspect(b"SIP/3.0 200 OK\r\n\r\n", SERVER, ALLOW),
        Inspection::Drop("a response of version \"SIP/3.0\"".into())
    );
    assert_eq!(
        inspect(
            b"SIP/2.0 200 OK\r\nContent-Length: 5\r\n\r\nab",
            SERVER,
            ALLOW
        ),
        Inspection::Drop("a response with Content-Length 5 but a body of 2 bytes".into())
    );
    let ack = request("ACK sip:2000@127.0.0.1 SIP/3.0", "CSeq: 1 ACK\r\n", "");
    assert_eq!(
        inspect(ack.as_bytes(), SERVER, ALLOW),
        Inspection::Drop(
            "an ACK that is not well formed: version \"SIP/3.0\"; only SIP/2.0 is spoken".into()
        )
    );
}

#[test]
fn keep_alives_pass_to_the_stack() {
    assert_eq!(
        inspect(b"\r\n\r\n", SERVER, ALLOW),
        Inspection::Pass(b"\r\n\r\n")
    );
}

#[test]
fn too_many_headers_get_400() {
    let extra = "X-H: 1\r\n".repeat(MAX_HEADER_LINES);
    let text = request(
        "OPTIONS sip:2000@127.0.0.1 SIP/2.0",
        &format!("CSeq: 1 OPTIONS\r\n{extra}"),
        "",
    );
    assert_eq!(
        refused(inspect(text.as_bytes(), SERVER, ALLOW)),
        (
            "SIP/2.0 400 Bad Request (too many headers)".into(),
            "more than 256 header lines".into()
        )
    );
}

proptest::proptest! {
    #[test]
    fn any_bytes_get_a_verdict_and_refusals_parse(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
        if let Inspection::Refuse { response, .. } = inspect(&bytes, SERVER, ALLOW) {
            let parsed = rsipstack::sip::SipMessage::try_from(response.as_slice());
            proptest::prop_assert!(parsed.is_ok(), "{}", String::from_utf8_lossy(&response));
        }
    }
}
