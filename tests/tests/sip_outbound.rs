//! Outbound SIP legs (`VoxEngine.callSIP`) against SIPp as the callee: a caller (SIPp) rings
//! Dialtone, the scenario calls a SIPp UAS, answers the caller when the callee answers and
//! links the two; when the caller hangs up the scenario hangs up the callee (a BYE the UAS
//! must receive to finish). A callee that answers 486 is a `Failed` with that code.

use std::process::{Command, Output};
use std::time::Duration;

use anyhow::{Context as _, Result};
use dialtone_tests::peers::free_port;
use dialtone_tests::sip::TestServer;
use dialtone_tests::sipp_xml;

const SESSION_TIMEOUT: Duration = Duration::from_secs(30);

/// A SIPp UAS on 127.0.0.1:`port` for one call, with `scenario` (`-sn uas`, or an XML file).
fn callee(
    port: u16,
    xml: Option<&str>,
) -> Result<std::thread::JoinHandle<std::io::Result<Output>>> {
    let dir = std::env::temp_dir().join(format!("dialtone-callee-{port}"));
    std::fs::create_dir_all(&dir)?;
    let mut command = Command::new("timeout");
    command
        .args([
            "-k",
            "5",
            "40",
            "sipp",
            "-i",
            "127.0.0.1",
            "-mi",
            "127.0.0.1",
        ])
        .args([
            "-p",
            &port.to_string(),
            "-m",
            "1",
            "-nostdin",
            "-rtp_echo",
            "-timeout",
            "35s",
        ])
        .current_dir(&dir);
    match xml {
        Some(xml) => {
            let path = dir.join("callee.xml");
            std::fs::write(&path, xml)?;
            command.arg("-sf").arg(path);
        }
        None => {
            command.args(["-sn", "uas"]);
        }
    }
    let handle = std::thread::spawn(move || command.output());
    // SIPp binds before it reads a message; a moment for it to start is waited for by the
    // INVITE retransmissions (500 ms, 1 s ...) should the first one arrive early.
    Ok(handle)
}

/// A caller (SIPp, hanging up after 2 s) rings a server running `scenario` (CALLEE replaced by
/// the callee's port), which calls the callee (a SIPp UAS with `callee_xml`, or the built-in
/// one); the session's log lines once it ended, after the callee finished its one call.
fn bridged(scenario: &str, callee_xml: Option<&str>, caller_answered: bool) -> Result<Vec<String>> {
    let port = free_port()?;
    let uas = callee(port, callee_xml)?;
    let mut server = TestServer::start(&[(".*", &scenario.replace("CALLEE", &port.to_string()))])?;
    let caller = server.caller_hangs_up("2000", 2000);
    match caller {
        Ok(run) => assert!(
            caller_answered && run.code == 0,
            "the caller: {}",
            run.output
        ),
        Err(e) => assert!(!caller_answered, "the caller failed: {e:#}"),
    }
    let records = server.until_sessions_end(1, SESSION_TIMEOUT)?;
    let uas = uas.join().expect("callee thread").context("running sipp")?;
    assert!(
        uas.status.success(),
        "the callee (SIPp UAS) did not finish its call (a BYE missing?):\n{}\n{}",
        String::from_utf8_lossy(&uas.stdout),
        records.describe()
    );
    Ok(records.logs())
}

const BRIDGE: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const out = VoxEngine.callSIP("sip:bob@127.0.0.1:CALLEE", { callerid: "1001", headers: { "X-Leg": "two" } });
  Logger.write(`outgoing call: incoming=${out.incoming()} state=${out.state()}`);
  out.addEventListener(CallEvents.Ringing, () => Logger.write("ringing"));
  out.addEventListener(CallEvents.Connected, () => {
    Logger.write("callee answered");
    call.answer();
    VoxEngine.sendMediaBetween(call, out);
  });
  out.addEventListener(CallEvents.Failed, (e) => { Logger.write(`failed ${e.code} ${e.reason}`); call.hangup(); VoxEngine.terminate(); });
  out.addEventListener(CallEvents.Disconnected, (e) => { Logger.write(`callee disconnected: ${e.reason}`); VoxEngine.terminate(); });
  call.addEventListener(CallEvents.Disconnected, () => { Logger.write("caller left"); out.hangup(); });
});
"#;

#[test]
fn a_scenario_calls_out_links_the_legs_and_hangs_up_the_callee() -> Result<()> {
    assert_eq!(
        bridged(BRIDGE, None, true)?,
        [
            "outgoing call: incoming=false state=PROGRESSING",
            "ringing",
            "callee answered",
            "caller left",
            "callee disconnected: hung up by the scenario",
        ]
    );
    Ok(())
}

#[test]
fn a_busy_callee_is_a_failed_call_with_486() -> Result<()> {
    // The caller is turned away (the scenario hangs up before answering: 603).
    assert_eq!(
        bridged(BRIDGE, Some(&sipp_xml::callee_busy()), false)?,
        [
            "outgoing call: incoming=false state=PROGRESSING",
            "failed 486 Busy Here",
        ]
    );
    Ok(())
}

const EASY_PROCESS: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const out = VoxEngine.callSIP("sip:bob@127.0.0.1:CALLEE", { callerid: call.callerid() });
  out.addEventListener(CallEvents.AudioStarted, () => Logger.write("audio started"));
  call.addEventListener(CallEvents.Disconnected, (e) => Logger.write(`caller: ${e.reason}`));
  out.addEventListener(CallEvents.Disconnected, (e) => Logger.write(`callee: ${e.reason}`));
  VoxEngine.easyProcess(call, out, (a, b) => Logger.write(`established ${a.incoming()} ${b.incoming()}`));
});
"#;

/// `easyProcess` answers the caller when the callee answers, links them, and when the caller
/// hangs up hangs up the callee (which must get the BYE) and ends the session.
#[test]
fn easy_process_bridges_the_caller_to_the_callee() -> Result<()> {
    assert_eq!(
        bridged(EASY_PROCESS, None, true)?,
        [
            "audio started",
            "established true false",
            "caller: caller hung up",
        ]
    );
    Ok(())
}

const CONNECTED_HEADERS: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const out = VoxEngine.callSIP("sip:bob@127.0.0.1:CALLEE");
  out.addEventListener(CallEvents.Connected, (e) => Logger.write(`callee answered ${JSON.stringify(e.headers)}`));
  VoxEngine.easyProcess(call, out);
});
"#;

/// The X- headers of the callee's answer are the outbound call's `Connected` headers.
#[test]
fn the_callee_answer_headers_reach_connected() -> Result<()> {
    assert_eq!(
        bridged(
            CONNECTED_HEADERS,
            Some(&sipp_xml::callee_answers("      X-Callee: bob-42\n")),
            true
        )?,
        [r#"callee answered {"X-Callee":"bob-42"}"#]
    );
    Ok(())
}
