//! SIP session timers (RFC 4028) against SIPp: a caller that asks for a timer and never
//! refreshes is hung up when the session expires; one that refreshes stays up; a caller that
//! does not know timers is refreshed by us with UPDATE; an interval below our minimum gets 422
//! with Min-SE. SIPp checks our headers with its own parser (`ereg ... check_it`).

use std::time::Duration;

use anyhow::Result;
use dialtone_tests::sip::{TestServer, sipp};
use dialtone_tests::sipp_xml;

const SIPP_TIMEOUT: Duration = Duration::from_secs(30);
const SESSION_TIMEOUT: Duration = Duration::from_secs(20);

/// Answers and waits; logs how the call ended.
const ANSWER_AND_WAIT: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Disconnected, (e) => {
    Logger.write(`disconnected: ${e.reason}`);
    VoxEngine.terminate();
  });
  call.answer();
});
"#;

/// Short intervals, so the tests take seconds (the default minimum is RFC 4028's 90 s).
const SHORT_TIMERS: &str = "session_min_se_s = 3";

fn disconnect_reason(server: &mut TestServer) -> Result<String> {
    let records = server.until_sessions_end(1, SESSION_TIMEOUT)?;
    Ok(records
        .logs()
        .into_iter()
        .find(|l| l.starts_with("disconnected: "))
        .unwrap_or_default())
}

/// A SIPp `ereg` check that fails the call unless `header` matches `regexp`.
fn check(header: &str, regexp: &str, var: &str) -> String {
    format!(
        r#"<ereg regexp="{regexp}" search_in="hdr" header="{header}:" check_it="true" assign_to="{var}"/>"#
    )
}

#[test]
fn a_caller_that_never_refreshes_is_hung_up_when_the_session_expires() -> Result<()> {
    let mut server = TestServer::start_with_server(&[(".*", ANSWER_AND_WAIT)], SHORT_TIMERS)?;
    let extra = "      Session-Expires: 3;refresher=uac\n      Supported: timer\n";
    let on_ok =
        check("Session-Expires", "3;refresher=uac", "se") + &check("Require", "timer", "rq");
    let xml = sipp_xml::answered_then_server_bye(extra, &on_ok, "").replace(
        "</scenario>",
        "  <Reference variables=\"se,rq\"/>\n</scenario>",
    );
    let run = sipp(
        server.sip_port(),
        Some(&xml),
        &["-s", "2000", "-m", "1"],
        SIPP_TIMEOUT,
    )?;
    assert_eq!(run.code, 0, "sipp failed:\n{}", run.output);
    assert_eq!(
        disconnect_reason(&mut server)?,
        "disconnected: session expired"
    );
    Ok(())
}

#[test]
fn a_caller_that_refreshes_stays_up_until_it_hangs_up() -> Result<()> {
    let mut server = TestServer::start_with_server(&[(".*", ANSWER_AND_WAIT)], SHORT_TIMERS)?;
    let extra = "      Session-Expires: 3;refresher=uac\n      Supported: timer\n";
    // The session would expire 2 s after the answer; UPDATEs every 1.5 s keep it for 6 s.
    let xml = sipp_xml::refreshed_by_caller(extra, "3;refresher=uac", 3, 1500);
    let run = sipp(
        server.sip_port(),
        Some(&xml),
        &["-s", "2000", "-m", "1"],
        SIPP_TIMEOUT,
    )?;
    assert_eq!(run.code, 0, "sipp failed:\n{}", run.output);
    assert_eq!(
        disconnect_reason(&mut server)?,
        "disconnected: caller hung up"
    );
    Ok(())
}

#[test]
fn a_caller_without_timer_support_is_refreshed_by_us_with_update() -> Result<()> {
    let mut server = TestServer::start_with_server(&[(".*", ANSWER_AND_WAIT)], SHORT_TIMERS)?;
    let extra = "      Session-Expires: 4\n      Allow: INVITE, ACK, BYE, CANCEL, UPDATE\n";
    let on_ok = check("Session-Expires", "4;refresher=uas", "se");
    let on_update = check("Session-Expires", "4;refresher=uas", "up");
    let xml = sipp_xml::refreshed_by_server(extra, &on_ok, 2, &on_update).replace(
        "</scenario>",
        "  <Reference variables=\"se,up\"/>\n</scenario>",
    );
    let run = sipp(
        server.sip_port(),
        Some(&xml),
        &["-s", "2000", "-m", "1"],
        SIPP_TIMEOUT,
    )?;
    assert_eq!(run.code, 0, "sipp failed:\n{}", run.output);
    assert_eq!(
        disconnect_reason(&mut server)?,
        "disconnected: caller hung up"
    );
    Ok(())
}

#[test]
fn an_interval_below_the_minimum_gets_422_with_min_se() -> Result<()> {
    let server = TestServer::start_with_server(&[(".*", ANSWER_AND_WAIT)], SHORT_TIMERS)?;
    let xml = sipp_xml::expect_final_with_header(422, "Min-SE").replace(
        "      X-Test-Header: dialtone\n",
        "      X-Test-Header: dialtone\n      Session-Expires: 1\n      Supported: timer\n",
    );
    assert!(xml.contains("Session-Expires: 1"), "the header was added");
    let run = sipp(
        server.sip_port(),
        Some(&xml),
        &["-s", "2000", "-m", "1"],
        SIPP_TIMEOUT,
    )?;
    assert_eq!(run.code, 0, "sipp failed:\n{}", run.output);
    Ok(())
}
