//! Outbound SIP legs (`VoxEngine.callSIP`) against SIPp as the callee: a caller (SIPp) rings
//! Dialtone, the scenario calls a SIPp UAS, answers the caller when the callee answers and
//! links the two; when the caller hangs up the scenario hangs up the callee (a BYE the UAS
//! must receive to finish). A callee that answers 486 is a `Failed` with that code.

use std::process::{Command, Output};
use std::time::Duration;

use anyhow::{Context as _, Result};
use dialtone_tests::peers::free_port;
use dialtone_tests::sip::TestServer;

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
    let port = free_port()?;
    let uas = callee(port, None)?;
    let mut server = TestServer::start(&[(".*", &BRIDGE.replace("CALLEE", &port.to_string()))])?;
    let caller = server.caller_hangs_up("2000", 2000)?;
    assert_eq!(caller.code, 0, "the caller failed:\n{}", caller.output);
    let records = server.until_sessions_end(1, SESSION_TIMEOUT)?;
    assert_eq!(
        records.logs(),
        vec![
            "outgoing call: incoming=false state=PROGRESSING".to_owned(),
            "ringing".to_owned(),
            "callee answered".to_owned(),
            "caller left".to_owned(),
            "callee disconnected: hung up by the scenario".to_owned(),
        ],
        "{}",
        records.describe()
    );
    let uas = uas.join().expect("callee thread").context("running sipp")?;
    assert!(
        uas.status.success(),
        "the callee (SIPp UAS) did not finish its call:\n{}",
        String::from_utf8_lossy(&uas.stdout)
    );
    Ok(())
}

/// A UAS that answers every INVITE with 486 Busy Here.
const BUSY: &str = r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="busy callee">
  <recv request="INVITE"/>
  <send><![CDATA[
      SIP/2.0 486 Busy Here
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
  <recv request="ACK"/>
</scenario>
"#;

#[test]
fn a_busy_callee_is_a_failed_call_with_486() -> Result<()> {
    let port = free_port()?;
    let uas = callee(port, Some(BUSY))?;
    let mut server = TestServer::start(&[(".*", &BRIDGE.replace("CALLEE", &port.to_string()))])?;
    // The caller is turned away (the scenario hangs up before answering: 603).
    let caller = server.caller_hangs_up("2000", 2000);
    assert!(caller.is_err(), "the caller was not turned away");
    let records = server.until_sessions_end(1, SESSION_TIMEOUT)?;
    assert_eq!(
        records.logs(),
        vec![
            "outgoing call: incoming=false state=PROGRESSING".to_owned(),
            "failed 486 Busy Here".to_owned(),
        ],
        "{}",
        records.describe()
    );
    let uas = uas.join().expect("callee thread").context("running sipp")?;
    assert!(
        uas.status.success(),
        "{}",
        String::from_utf8_lossy(&uas.stdout)
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
    let port = free_port()?;
    let uas = callee(port, None)?;
    let mut server =
        TestServer::start(&[(".*", &EASY_PROCESS.replace("CALLEE", &port.to_string()))])?;
    let caller = server.caller_hangs_up("2000", 2000)?;
    assert_eq!(caller.code, 0, "the caller failed:\n{}", caller.output);
    let records = server.until_sessions_end(1, SESSION_TIMEOUT)?;
    assert_eq!(
        records.logs(),
        vec![
            "audio started".to_owned(),
            "established true false".to_owned(),
            "caller: caller hung up".to_owned(),
        ],
        "{}",
        records.describe()
    );
    let uas = uas.join().expect("callee thread").context("running sipp")?;
    assert!(
        uas.status.success(),
        "the callee did not get its BYE:\n{}",
        String::from_utf8_lossy(&uas.stdout)
    );
    Ok(())
}
