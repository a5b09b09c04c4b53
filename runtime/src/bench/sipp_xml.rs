//! SIPp uac scenarios that `bench sip` and the SIP tests run, built from a few pieces: an
//! INVITE with a PCMU offer, in-dialog requests (ACK of a 2xx, re-INVITE, BYE; routed by the
//! dialog's route set), the ACK of a non-2xx, CANCEL, and answering the server's BYE; and the
//! uas scenarios of callees Dialtone calls out to.

/// The INVITE, with `extra` headers and `sdp` as its body.
fn invite(extra: &str, sdp: &str) -> String {
    format!(
        r#"  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp Caller" <sip:1001@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:1001@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      X-Test-Header: dialtone
{extra}      Content-Type: application/sdp
      Content-Length: [len]

{sdp}
    ]]>
  </send>
"#
    )
}

/// A PCMU + telephone-event offer on sipp's media port, with `direction`.
pub fn offer(port: &str, direction: &str) -> String {
    format!(
        "      v=0\n      o=sipp 1 1 IN IP4 [local_ip]\n      s=-\n      c=IN IP4 [media_ip]\n      t=0 0\n      \
         m=audio {port} RTP/AVP 0 101\n      a=rtpmap:0 PCMU/8000\n      \
         a=rtpmap:101 telephone-event/8000\n      a={direction}"
    )
}

/// An in-dialog request (`ACK` of a 2xx, re-`INVITE`, `BYE`) with CSeq `cseq`, sent to the
/// remote target through the route set; `sdp` makes it an offer. Requests other than ACK are
/// retransmitted until answered.
fn in_dialog(method: &str, cseq: u32, sdp: Option<&str>) -> String {
    in_dialog_with(method, cseq, sdp, "")
}

/// [`in_dialog`] with `extra` headers (each line `      Name: value\n`).
fn in_dialog_with(method: &str, cseq: u32, sdp: Option<&str>, extra: &str) -> String {
    let retrans = if method == "ACK" {
        ""
    } else {
        " retrans=\"500\""
    };
    let body = match sdp {
        Some(sdp) => {
            format!("      Content-Type: application/sdp\n      Content-Length: [len]\n\n{sdp}\n")
        }
        None => "      Content-Length: 0\n".to_owned(),
    };
    format!(
        r#"  <send{retrans}>
    <![CDATA[
      {method} [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp Caller" <sip:1001@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      [routes]
      Call-ID: [call_id]
      CSeq: {cseq} {method}
      Contact: <sip:1001@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
{extra}{body}    ]]>
  </send>
"#
    )
}

/// ACK of a non-2xx final response: same branch as the INVITE (copied from its Via).
const ACK_ERROR: &str = r#"  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: "SIPp Caller" <sip:1001@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
"#;

const OK_TO_BYE: &str = r#"  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:1001@[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0
    ]]>
  </send>
"#;

fn scenario(name: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<scenario name=\"{name}\">\n{body}</scenario>\n"
    )
}

/// INVITE, then exactly final response `code` (provisional ones allowed), then its ACK.
pub fn expect_final(code: u16) -> String {
    scenario(
        &format!("expect {code}"),
        &format!(
            "{}  <recv response=\"100\" optional=\"true\"/>\n  <recv response=\"180\" optional=\"true\"/>\n  \
             <recv response=\"{code}\"/>\n{ACK_ERROR}",
            invite("", &offer("[media_port]", "sendrecv"))
        ),
    )
}

/// INVITE, then final response `code` carrying a `header` (the call fails without it), then
/// its ACK.
pub fn expect_final_with_header(code: u16, header: &str) -> String {
    scenario(
        &format!("expect {code} with {header}"),
        &format!(
            "{}  <recv response=\"100\" optional=\"true\"/>\n  <recv response=\"{code}\">\n    <action>\n      \
             <ereg regexp=\".+\" search_in=\"hdr\" header=\"{header}:\" check_it=\"true\" assign_to=\"found\"/>\n    \
             </action>\n  </recv>\n{ACK_ERROR}  <Reference variables=\"found\"/>\n",
            invite("", &offer("[media_port]", "sendrecv"))
        ),
    )
}

/// INVITE, answered; then the server hangs up: 200 to its BYE. `on_ok` and `on_bye` are
/// sipp `<action>` contents checked on the 200 and on the BYE; `extra` goes into the INVITE.
pub fn answered_then_server_bye(extra: &str, on_ok: &str, on_bye: &str) -> String {
    scenario(
        "answered, server hangs up",
        &format!(
            "{}  <recv response=\"100\" optional=\"true\"/>\n  <recv response=\"180\" optional=\"true\"/>\n  \
             <recv response=\"200\" rrs=\"true\"><action>{on_ok}</action></recv>\n{ack}  \
             <recv request=\"BYE\" timeout=\"20000\"><action>{on_bye}</action></recv>\n{OK_TO_BYE}",
            invite(extra, &offer("[media_port]", "sendrecv")),
            ack = in_dialog("ACK", 1, None)
        ),
    )
}

/// INVITE, answered; half a second later the caller hangs up with a BYE carrying `extra`
/// headers.
pub fn caller_hangs_up_with(extra: &str) -> String {
    caller_holds_then_hangs_up(500, extra)
}

/// INVITE, answered; `hold_ms` later the caller hangs up with a BYE carrying `extra` headers.
/// ACK and BYE follow the dialog's route set, so the calls may go through a record-routing
/// proxy (Kamailio).
pub fn caller_holds_then_hangs_up(hold_ms: u32, extra: &str) -> String {
    scenario(
        "answered, caller hangs up",
        &format!(
            "{}  <recv response=\"100\" optional=\"true\"/>\n  <recv response=\"180\" optional=\"true\"/>\n  \
             <recv response=\"200\" rrs=\"true\"/>\n{ack}  <pause milliseconds=\"{hold_ms}\"/>\n{bye}  \
             <recv response=\"200\"/>\n",
            invite("", &offer("[media_port]", "sendrecv")),
            ack = in_dialog("ACK", 1, None),
            bye = in_dialog_with("BYE", 2, None, extra)
        ),
    )
}

/// INVITE, answered; then `count` SIP INFO key presses (`application/dtmf-relay`, Signal=5),
/// each answered 200, as fast as they are answered; then the server hangs up.
pub fn info_flood(count: u32) -> String {
    let info = |cseq: u32| {
        format!(
            r#"  <send retrans="500">
    <![CDATA[
      INFO [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp Caller" <sip:1001@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      [routes]
      Call-ID: [call_id]
      CSeq: {cseq} INFO
      Contact: <sip:1001@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

Signal=5
Duration=160
    ]]>
  </send>
  <recv response="200"/>
"#
        )
    };
    let infos: String = (0..count).map(|i| info(2 + i)).collect();
    scenario(
        "INFO flood",
        &format!(
            "{}  <recv response=\"100\" optional=\"true\"/>\n  <recv response=\"180\" optional=\"true\"/>\n  \
             <recv response=\"200\" rrs=\"true\"/>\n{ack}{infos}  \
             <recv request=\"BYE\" timeout=\"20000\"/>\n{OK_TO_BYE}",
            invite("", &offer("[media_port]", "sendrecv")),
            ack = in_dialog("ACK", 1, None)
        ),
    )
}

/// INVITE, 180, then CANCEL: 200 to the CANCEL and 487 to the INVITE, which is ACKed.
pub fn cancel_after_ringing() -> String {
    let cancel = r#"  <send>
    <![CDATA[
      CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: "SIPp Caller" <sip:1001@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 CANCEL
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
"#;
    scenario(
        "cancel after 180",
        &format!(
            "{}  <recv response=\"100\" optional=\"true\"/>\n  <recv response=\"180\"/>\n  \
             <pause milliseconds=\"300\"/>\n{cancel}  <recv response=\"200\"/>\n  \
             <recv response=\"487\"/>\n{ACK_ERROR}",
            invite("", &offer("[media_port]", "sendrecv"))
        ),
    )
}

/// 200 to an in-dialog request of the server (UPDATE, re-INVITE), echoing `Session-Expires`.
const OK_TO_REFRESH: &str = r#"  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Session-Expires:]
      Contact: <sip:1001@[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0
    ]]>
  </send>
"#;

/// INVITE with `extra` headers, answered (`on_ok` checks the 200); then `refreshes` UPDATEs of
/// the server, each answered 200 after `on_update` checks it; then the caller hangs up.
pub fn refreshed_by_server(extra: &str, on_ok: &str, refreshes: u32, on_update: &str) -> String {
    let update = format!(
        "  <recv request=\"UPDATE\" timeout=\"20000\"><action>{on_update}</action></recv>\n{OK_TO_REFRESH}"
    );
    scenario(
        "refreshed by the server",
        &format!(
            "{}  <recv response=\"100\" optional=\"true\"/>\n  <recv response=\"180\" optional=\"true\"/>\n  \
             <recv response=\"200\" rrs=\"true\"><action>{on_ok}</action></recv>\n{ack}{updates}{bye}  \
             <recv response=\"200\"/>\n",
            invite(extra, &offer("[media_port]", "sendrecv")),
            ack = in_dialog("ACK", 1, None),
            updates = update.repeat(refreshes as usize),
            bye = in_dialog("BYE", 2, None),
        ),
    )
}

/// INVITE with `extra` headers, answered; then the caller refreshes the session with an UPDATE
/// every `every_ms` (`count` of them, each carrying `session_expires`) and hangs up after
/// another `every_ms`.
pub fn refreshed_by_caller(
    extra: &str,
    session_expires: &str,
    count: u32,
    every_ms: u32,
) -> String {
    let updates: String = (0..count)
        .map(|i| {
            let update = in_dialog("UPDATE", 2 + i, None).replace(
                "      Max-Forwards: 70\n",
                &format!("      Max-Forwards: 70\n      Session-Expires: {session_expires}\n"),
            );
            format!("  <pause milliseconds=\"{every_ms}\"/>\n{update}  <recv response=\"200\"/>\n")
        })
        .collect();
    scenario(
        "refreshed by the caller",
        &format!(
            "{}  <recv response=\"100\" optional=\"true\"/>\n  <recv response=\"180\" optional=\"true\"/>\n  \
             <recv response=\"200\" rrs=\"true\"/>\n{ack}{updates}  <pause milliseconds=\"{every_ms}\"/>\n{bye}  \
             <recv response=\"200\"/>\n",
            invite(extra, &offer("[media_port]", "sendrecv")),
            ack = in_dialog("ACK", 1, None),
            bye = in_dialog("BYE", 2 + count, None),
        ),
    )
}

/// A call that is put on hold and then moved to port `[$newport]` by re-INVITEs, checking the
/// direction of each answer, and then hung up by the caller after `hold_ms`.
pub fn reinvite_hold_and_move(hold_ms: u32) -> String {
    let reinvite = |cseq: u32, port: &str, direction: &str| {
        in_dialog("INVITE", cseq, Some(&offer(port, direction)))
    };
    let ack = |cseq: u32| in_dialog("ACK", cseq, None);
    let bye = in_dialog("BYE", 4, None);
    let check = |attribute: &str, var: &str| {
        format!(
            "<action><ereg regexp=\"a={attribute}\" search_in=\"body\" check_it=\"true\" assign_to=\"{var}\"/></action>"
        )
    };
    scenario(
        "hold, then move media",
        &format!(
            "  <Global variables=\"newport\"/>\n{invite}  <recv response=\"100\" optional=\"true\"/>\n  <recv response=\"180\" optional=\"true\"/>\n  \
             <recv response=\"200\" rrs=\"true\">{first}</recv>\n{ack1}  <pause milliseconds=\"300\"/>\n\
             {hold}  <recv response=\"100\" optional=\"true\"/>\n  <recv response=\"200\">{held}</recv>\n{ack2}  \
             <pause milliseconds=\"300\"/>\n{unhold}  <recv response=\"100\" optional=\"true\"/>\n  \
             <recv response=\"200\">{moved}</recv>\n{ack3}  <pause milliseconds=\"{hold_ms}\"/>\n{bye}  \
             <recv response=\"200\"/>\n  <Reference variables=\"a,b,c\"/>\n",
            invite = invite("", &offer("[media_port]", "sendrecv")),
            first = check("sendrecv", "a"),
            ack1 = ack(1),
            hold = reinvite(2, "[media_port]", "sendonly"),
            held = check("recvonly", "b"),
            ack2 = ack(2),
            unhold = reinvite(3, "[$newport]", "sendrecv"),
            moved = check("sendrecv", "c"),
            ack3 = ack(3),
        ),
    )
}

/// The answer of a callee to the INVITE it received: `status` with `extra` headers and `sdp`.
fn answer_invite(status: &str, extra: &str, sdp: Option<&str>) -> String {
    let (content, body) = match sdp {
        Some(sdp) => (
            "      Content-Type: application/sdp\n      Content-Length: [len]\n",
            format!("\n{sdp}\n"),
        ),
        None => ("      Content-Length: 0\n", String::new()),
    };
    format!(
        r#"  <send>
    <![CDATA[
      SIP/2.0 {status}
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
{extra}{content}{body}
    ]]>
  </send>
"#
    )
}

/// A callee that answers every INVITE with 486 Busy Here and `extra` headers.
pub fn callee_busy(extra: &str) -> String {
    scenario(
        "busy callee",
        &format!(
            "  <recv request=\"INVITE\"/>\n{}  <recv request=\"ACK\"/>\n",
            answer_invite("486 Busy Here", extra, None)
        ),
    )
}

/// The end of an answered callee's call: the ACK, then the caller's BYE, answered.
fn until_caller_bye() -> String {
    format!("  <recv request=\"ACK\"/>\n  <recv request=\"BYE\"/>\n{OK_TO_BYE}")
}

/// A callee that answers with `extra` headers (each line `      Name: value\n`) and a PCMU
/// answer, then waits for the caller's BYE and answers it.
pub fn callee_answers(extra: &str) -> String {
    scenario(
        "answering callee",
        &format!(
            "  <recv request=\"INVITE\"/>\n{}{}",
            answer_invite("200 OK", extra, Some(&offer("[media_port]", "sendrecv"))),
            until_caller_bye()
        ),
    )
}

/// A callee that sends early media (183 with SDP and `extra` headers), answers `ms` later,
/// and waits for the caller's BYE.
pub fn callee_early_media_then_answers(extra: &str, ms: u32) -> String {
    let sdp = offer("[media_port]", "sendrecv");
    scenario(
        "early media callee",
        &format!(
            "  <recv request=\"INVITE\"/>\n{}  <pause milliseconds=\"{ms}\"/>\n{}{}",
            answer_invite("183 Session Progress", extra, Some(&sdp)),
            answer_invite("200 OK", "", Some(&sdp)),
            until_caller_bye()
        ),
    )
}

/// A callee that rings (180) until the caller's CANCEL, answers it 200 and the INVITE 487.
pub fn callee_rings_until_cancelled() -> String {
    scenario(
        "ringing callee",
        &format!(
            r#"  <recv request="INVITE"/>
{ringing}  <recv request="CANCEL">
    <action>
      <ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" assign_to="cseq"/>
    </action>
  </recv>
{OK_TO_BYE}  <send>
    <![CDATA[
      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq: [$cseq] INVITE
      Content-Length: 0
    ]]>
  </send>
  <recv request="ACK"/>
"#,
            ringing = answer_invite("180 Ringing", "", None)
        ),
    )
}

/// A callee that challenges the INVITE (401, digest realm "dialtone-test") and answers the
/// retried INVITE when its credentials are `user`/`password` (403 otherwise), then waits for
/// the caller's BYE.
pub fn callee_challenges(user: &str, password: &str) -> String {
    challenging_callee("401 Unauthorized", "WWW-Authenticate", user, password)
}

/// A proxy's challenge: 407 with Proxy-Authenticate; the retried INVITE must carry a
/// Proxy-Authorization digest answer for `user` (SIPp's verifyauth reads only Authorization,
/// so its presence and fields are checked, not its hash), then answered.
pub fn proxy_challenges(user: &str) -> String {
    scenario(
        "challenging proxy",
        &format!(
            r#"  <recv request="INVITE"/>
{challenge}  <recv request="ACK"/>
  <recv request="INVITE">
    <action>
      <ereg regexp="Digest .*username=.{user}.*realm=.dialtone-test.*response=" search_in="hdr" header="Proxy-Authorization:" check_it="true" assign_to="answer"/>
    </action>
  </recv>
{answer}{bye}"#,
            challenge = answer_invite(
                "407 Proxy Authentication Required",
                "      Proxy-Authenticate: Digest realm=\"dialtone-test\", nonce=\"a1b2c3d4e5f60718293a4b5c6d7e8f90\", algorithm=MD5\n",
                None
            ),
            // SIPp refuses a variable it never reads: the 200 echoes the match.
            answer = answer_invite(
                "200 OK",
                "      X-Proxy-Answer: [$answer]\n",
                Some(&offer("[media_port]", "sendrecv"))
            ),
            bye = until_caller_bye(),
        ),
    )
}

fn challenging_callee(status: &str, header: &str, user: &str, password: &str) -> String {
    scenario(
        "challenging callee",
        &format!(
            r#"  <recv request="INVITE"/>
{challenge}  <recv request="ACK"/>
  <recv request="INVITE">
    <action>
      <verifyauth assign_to="authvalid" username="{user}" password="{password}"/>
    </action>
  </recv>
  <nop test="authvalid" next="good"/>
{forbidden}  <recv request="ACK" next="end"/>
  <label id="good"/>
{answer}{bye}  <label id="end"/>
"#,
            challenge = answer_invite(
                status,
                &format!(
                    "      {header}: Digest realm=\"dialtone-test\", nonce=\"a1b2c3d4e5f60718293a4b5c6d7e8f90\", algorithm=MD5\n"
                ),
                None
            ),
            forbidden = answer_invite("403 Forbidden", "", None),
            answer = answer_invite("200 OK", "", Some(&offer("[media_port]", "sendrecv"))),
            bye = until_caller_bye(),
        ),
    )
}

/// A callee that answers, and `ms` later hangs up itself with a BYE carrying `extra` headers.
pub fn callee_answers_then_hangs_up(extra: &str, ms: u32) -> String {
    scenario(
        "hanging-up callee",
        &format!(
            r#"  <recv request="INVITE">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="caller"/>
      <ereg regexp=".*" search_in="hdr" header="To:" assign_to="callee"/>
      <ereg regexp="sip:[^>;]*" search_in="hdr" header="Contact:" assign_to="contact"/>
    </action>
  </recv>
{answer}  <recv request="ACK"/>
  <pause milliseconds="{ms}"/>
  <send retrans="500">
    <![CDATA[
      BYE [$contact] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$callee];tag=[pid]SIPpTag01[call_number]
      To: [$caller]
      Call-ID: [call_id]
      CSeq: 1 BYE
      Max-Forwards: 70
{extra}      Content-Length: 0
    ]]>
  </send>
  <recv response="200"/>
"#,
            answer = answer_invite("200 OK", "", Some(&offer("[media_port]", "sendrecv"))),
        ),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn scenarios_are_well_formed_enough() {
        for xml in [
            super::expect_final(404),
            super::answered_then_server_bye("", "", ""),
            super::cancel_after_ringing(),
            super::reinvite_hold_and_move(500),
        ] {
            assert!(xml.starts_with("<?xml"));
            assert_eq!(xml.matches("<send").count(), xml.matches("</send>").count());
            assert!(xml.contains("CSeq: 1 ACK"), "the INVITE's ACK has its CSeq");
        }
    }
}
