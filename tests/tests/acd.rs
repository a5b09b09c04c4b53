//! ACD queues against pjsua2 softphones: an operator (an application user) registers, a
//! caller's request is queued and offered to them, the operator's call is the scenario's own
//! `Call` and the two are bridged; a queue with no registered operator answers `Offline`, an
//! unknown queue `Error` naming the queues there are.

use std::time::Duration;

use anyhow::Result;
use dialtone_tests::admin::Api;
use dialtone_tests::media::registered_phone;
use dialtone_tests::sip::{TestServer, caller_wav, pjsua2_call, sox_rms, spoken_wav, temp_dir};
use reqwest::Method;
use serde_json::json;

const TOKEN: &str = "acd-test-token-0123456789";
const SESSION_TIMEOUT: Duration = Duration::from_secs(30);

const QUEUES: &str = r#"
[[application.queue]]
name = "support"
operators = ["alice"]

[[application.queue]]
name = "night"
operators = ["bob"]

[[application.queue]]
name = "day"
operators = ["alice", "bob"]
"#;

/// The caller's call is answered and queued: 2000 is support, 3000 the night queue, 4000 the
/// day queue (alice first, then bob), anything else a queue of that name.
const CALL_CENTER: &str = r#"
require(Modules.ACD);
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.answer();
  call.addEventListener(CallEvents.Connected, () => {
    const queue = { 2000: "support", 3000: "night", 4000: "day" }[call.number()] || call.number();
    // An operator who does not answer in 10 s is given up.
    const request = VoxEngine.enqueueACDRequest(queue, call.callerid(), { headers: { "VI-CallTimeout": "10" } });
    request.addEventListener(ACDEvents.Queued, () => { Logger.write("queued"); request.getStatus(); });
    request.addEventListener(ACDEvents.Waiting, (e) => Logger.write(`waiting: position ${e.position}`));
    request.addEventListener(ACDEvents.Offline, () => { Logger.write("offline"); call.hangup(); });
    request.addEventListener(ACDEvents.Error, (e) => { Logger.write(`error: ${e.error}`); call.hangup(); });
    request.addEventListener(ACDEvents.OperatorCallAttempt, (e) => Logger.write(`ringing ${e.operatorCall.number()}`));
    request.addEventListener(ACDEvents.OperatorFailed, (e) => Logger.write(`${e.operatorUserName} failed ${e.statusCode}`));
    request.addEventListener(ACDEvents.OperatorReached, (e) => {
      Logger.write(`reached ${e.operatorCall.number()} for request ${e.request.id()}`);
      VoxEngine.sendMediaBetween(call, e.operatorCall);
      e.operatorCall.addEventListener(CallEvents.Disconnected, () => call.hangup());
    });
  });
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
});
"#;

fn call_center() -> Result<TestServer> {
    let server = TestServer::start_managed_with_application(&[(".*", CALL_CENTER)], TOKEN, QUEUES)?;
    let api = Api::new(server.http(), Some(TOKEN))?;
    for user in ["alice", "bob"] {
        let added = api.json(
            Method::PUT,
            &format!("/applications/default/users/{user}"),
            Some(json!({"password": format!("{user}-secret-1")})),
        )?;
        assert_eq!(added.status, 201, "{:?}", added.body);
    }
    Ok(server)
}

#[test]
fn a_queued_caller_reaches_the_registered_operator() -> Result<()> {
    let _realtime = dialtone_tests::realtime_audio();
    let mut server = call_center()?;
    let dir = temp_dir("acd")?;
    let caller_says = caller_wav(&dir)?;
    let alice_says = spoken_wav(&dir, "alice", "Support, Alice speaking.")?;
    let alice_heard = dir.join("alice-heard.wav");
    let mut alice = registered_phone(
        server.sip_port(),
        ("alice", "alice-secret-1"),
        &alice_says,
        &alice_heard,
        40,
        0,
    )?;
    // The caller dials 2000 (support) and hangs up after 6 s.
    let output = pjsua2_call(
        server.sip_port(),
        &caller_says,
        6,
        &dir.join("caller-heard.wav"),
        "",
        0.0,
    )?;
    assert!(output.contains("STATE CONFIRMED 200"), "{output}");
    alice.wait_for("STATE DISCONNECTED", Duration::from_secs(15))?;
    alice.wait_exit(Duration::from_secs(10))?;
    let records = server.until_sessions_end(1, SESSION_TIMEOUT)?;
    assert_eq!(
        records.logs(),
        [
            "queued",
            "ringing alice",
            "waiting: position 0",
            "reached alice for request acd-1",
        ],
        "{}",
        records.describe()
    );
    // Bridged: the operator heard the caller (sox).
    let level = sox_rms(&alice_heard, None)?;
    assert!(level > 0.01, "alice heard nothing (rms {level})");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[test]
fn no_registered_operator_is_offline_and_an_unknown_queue_says_which_there_are() -> Result<()> {
    let mut server = call_center()?;
    let xml = dialtone_tests::sipp_xml::answered_then_server_bye("", "", "");
    for (destination, log) in [
        ("3000", "offline".to_owned()),
        (
            "sales",
            "error: application 'default' has no queue named 'sales' (queues: support, night, day)"
                .to_owned(),
        ),
    ] {
        let run = server.call_once(&xml, destination, &[])?;
        assert_eq!(run.code, 0, "{destination}: {run:?}");
        let records = server.until_sessions_end(1, SESSION_TIMEOUT)?;
        assert_eq!(records.logs(), [log], "{}", records.describe());
    }
    Ok(())
}

#[test]
fn an_operator_who_does_not_answer_is_given_up_and_the_next_one_takes_the_call() -> Result<()> {
    let _realtime = dialtone_tests::realtime_audio();
    let mut server = call_center()?;
    let dir = temp_dir("acd-next")?;
    let says = spoken_wav(&dir, "operator", "Hello, you reached the day queue.")?;
    // alice's phone rings and is never answered; bob's answers at once.
    let alice = registered_phone(
        server.sip_port(),
        ("alice", "alice-secret-1"),
        &says,
        &dir.join("alice-heard.wav"),
        40,
        -1,
    )?;
    let mut bob = registered_phone(
        server.sip_port(),
        ("bob", "bob-secret-1"),
        &says,
        &dir.join("bob-heard.wav"),
        40,
        0,
    )?;
    // The caller (SIPp) stays 16 s: alice rings for 10 of them, then bob takes the call.
    server.caller_hangs_up("4000", 16_000)?;
    bob.wait_for("STATE DISCONNECTED", Duration::from_secs(15))?;
    let records = server.until_sessions_end(1, SESSION_TIMEOUT)?;
    assert_eq!(
        records.logs(),
        [
            "queued",
            "ringing alice",
            "waiting: position 0",
            "alice failed 408",
            "ringing bob",
            "reached bob for request acd-1",
        ],
        "{}",
        records.describe()
    );
    drop(alice);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
