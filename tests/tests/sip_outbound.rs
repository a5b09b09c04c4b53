//! Outbound SIP legs (`VoxEngine.callSIP`) against SIPp as the callee: a caller (SIPp) rings
//! Dialtone, the scenario calls a SIPp UAS, answers the caller when the callee answers and
//! links the two; when the caller hangs up the scenario hangs up the callee (a BYE the UAS
//! must receive to finish). A callee that answers 486 is a `Failed` with that code.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context as _, Result};
use dialtone_tests::media::{echo_of, pjsua2_callee, pjsua2_callee_pressing, speech_heard};
use dialtone_tests::peers::free_port;
use dialtone_tests::sip::{
    TestServer, caller_wav, pjsua2_call, sipp_callee, sox_rms, spoken_wav, temp_dir,
};
use dialtone_tests::sipp_xml;

const SESSION_TIMEOUT: Duration = Duration::from_secs(30);

/// A caller (SIPp, hanging up after 2 s) rings a server running `scenario` (CALLEE replaced by
/// the callee's port), which calls the callee (a SIPp UAS with `callee_xml`, or the built-in
/// one); the session's log lines once it ended, after the callee finished its one call.
fn bridged(scenario: &str, callee_xml: Option<&str>, caller_answered: bool) -> Result<Vec<String>> {
    bridged_with(scenario, callee_xml, caller_answered, |rules, _| {
        TestServer::start(rules)
    })
    .map(|(logs, _)| logs)
}

/// [`bridged`] on a server `start` starts from the rules and the callee's port; the server is
/// returned too, so its files stay until the caller is done with them.
fn bridged_with(
    scenario: &str,
    callee_xml: Option<&str>,
    caller_answered: bool,
    start: impl FnOnce(&[(&str, &str)], u16) -> Result<TestServer>,
) -> Result<(Vec<String>, TestServer)> {
    let port = free_port()?;
    let uas = sipp_callee(port, callee_xml)?;
    let mut server = start(
        &[(".*", &scenario.replace("CALLEE", &port.to_string()))],
        port,
    )?;
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
    Ok((records.logs(), server))
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
  out.addEventListener(CallEvents.Failed, (e) => { Logger.write(`failed ${e.code} ${e.reason} ${JSON.stringify(e.headers)}`); call.hangup(); VoxEngine.terminate(); });
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
fn a_busy_callee_is_a_failed_call_with_486_and_its_headers() -> Result<()> {
    // The caller is turned away (the scenario hangs up before answering: 603).
    assert_eq!(
        bridged(
            BRIDGE,
            Some(&sipp_xml::callee_busy(
                "      X-Busy-Reason: in a meeting\n"
            )),
            false
        )?,
        [
            "outgoing call: incoming=false state=PROGRESSING",
            r#"failed 486 Busy Here {"X-Busy-Reason":"in a meeting"}"#,
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

const EARLY_MEDIA: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const out = VoxEngine.callSIP("sip:bob@127.0.0.1:CALLEE");
  out.addEventListener(CallEvents.Ringing, () => Logger.write("ringing"));
  out.addEventListener(CallEvents.AudioStarted, (e) => Logger.write(`audio started ${JSON.stringify(e.headers)}`));
  out.addEventListener(CallEvents.Connected, () => Logger.write("callee answered"));
  VoxEngine.easyProcess(call, out);
});
"#;

/// A 183 with SDP is a progress signal (`Ringing`, as VoxEngine fires it for any 18x) and early
/// media: `AudioStarted` (with the 183's headers) before the answer,
/// and easyProcess passes it to the caller (startEarlyMedia), then answers.
#[test]
fn early_media_from_the_callee_starts_audio_before_the_answer() -> Result<()> {
    assert_eq!(
        bridged(
            EARLY_MEDIA,
            Some(&sipp_xml::callee_early_media_then_answers(
                "      X-Early: announcement\n",
                800
            )),
            true
        )?,
        [
            "ringing",
            r#"audio started {"X-Early":"announcement"}"#,
            "callee answered"
        ]
    );
    Ok(())
}

const NO_ANSWER: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const out = VoxEngine.callSIP("sip:bob@127.0.0.1:CALLEE", { headers: { "VI-CallTimeout": "10" } });
  out.addEventListener(CallEvents.Ringing, () => { Logger.write("ringing"); call.ring(); });
  out.addEventListener(CallEvents.Failed, (e) => { Logger.write(`failed ${e.code} ${e.reason}`); call.hangup(); VoxEngine.terminate(); });
});
"#;

/// A callee that only rings is cancelled after the call's no-answer timeout (VoxEngine's
/// `VI-CallTimeout`, here 10 s), and the call fails with 408.
#[test]
fn an_unanswered_call_is_cancelled_after_its_timeout_and_fails_with_408() -> Result<()> {
    assert_eq!(
        bridged(
            NO_ANSWER,
            Some(&sipp_xml::callee_rings_until_cancelled()),
            false
        )?,
        ["ringing", "failed 408 no answer in 10 s"]
    );
    Ok(())
}

const AUTHENTICATED: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const out = VoxEngine.callSIP("sip:bob@127.0.0.1:CALLEE", "1001", "Front desk", PASSWORD, "alice");
  out.addEventListener(CallEvents.Connected, () => Logger.write("callee answered"));
  out.addEventListener(CallEvents.Failed, (e) => Logger.write(`failed ${e.code} ${e.reason}`));
  VoxEngine.easyProcess(call, out);
});
"#;

/// Digest authentication: the callee challenges with 401 (and a proxy with 407), and the INVITE is sent again with
/// the credentials of callSIP's positional (callerid, displayName, password, authUser); a
/// wrong password ends in the callee's 403.
#[test]
fn a_challenged_call_authenticates_with_the_scenarios_credentials() -> Result<()> {
    let callee = sipp_xml::callee_challenges("alice", "s3cret");
    assert_eq!(
        bridged(
            &AUTHENTICATED.replace("PASSWORD", "\"s3cret\""),
            Some(&callee),
            true
        )?,
        ["callee answered"]
    );
    assert_eq!(
        bridged(
            &AUTHENTICATED.replace("PASSWORD", "\"wrong\""),
            Some(&callee),
            false
        )?,
        ["failed 403 Forbidden"]
    );
    // A proxy's 407 is answered the same way (Proxy-Authorization).
    let proxy = sipp_xml::proxy_challenges("alice");
    assert_eq!(
        bridged(
            &AUTHENTICATED.replace("PASSWORD", "\"s3cret\""),
            Some(&proxy),
            true
        )?,
        ["callee answered"]
    );
    Ok(())
}

const CALL_PSTN: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const out = VoxEngine.callPSTN("+15550100", "15550199");
  Logger.write(`calling ${out.number()} (${out.clientType()})`);
  out.addEventListener(CallEvents.Connected, () => Logger.write("callee answered"));
  out.addEventListener(CallEvents.Failed, (e) => Logger.write(`failed ${e.code} ${e.reason}`));
  VoxEngine.easyProcess(call, out);
});
"#;

/// callPSTN goes through the application's trunk, authenticating with the trunk's user name
/// and the password kept in the application's secret.
#[test]
fn call_pstn_goes_through_the_trunk_with_its_secret_password() -> Result<()> {
    let callee = sipp_xml::callee_challenges("trunkuser", "trunk-pass");
    let logs = bridged_with(CALL_PSTN, Some(&callee), true, |rules, port| {
        TestServer::start_with_application_and_secrets(
            rules,
            &format!(
                "[application.trunk]\naddress = \"127.0.0.1:{port}\"\nusername = \"trunkuser\"\npassword_secret = \"TRUNK_PASSWORD\"\n"
            ),
            BTreeMap::from([("TRUNK_PASSWORD".to_owned(), "trunk-pass".to_owned())]),
        )
    });
    assert_eq!(logs?.0, ["calling +15550100 (pstn)", "callee answered"]);
    Ok(())
}

const CALL_PSTN_NO_TRUNK: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const out = VoxEngine.callPSTN("+15550100", "15550199");
  out.addEventListener(CallEvents.Failed, (e) => { Logger.write(`failed ${e.code} ${e.reason}`); VoxEngine.terminate(); });
});
"#;

/// Without a trunk, callPSTN fails at once with a message naming what is missing.
#[test]
fn call_pstn_without_a_trunk_fails_naming_the_missing_config() -> Result<()> {
    let mut server = TestServer::start(&[(".*", CALL_PSTN_NO_TRUNK)])?;
    let _ = server.caller_hangs_up("2000", 500);
    let logs = server.until_sessions_end(1, SESSION_TIMEOUT)?.logs();
    let why = "VoxEngine.callPSTN needs a SIP trunk: application 'default' has no [application.trunk] in the config";
    assert_eq!(logs, [why.to_owned(), format!("failed 503 {why}")]);
    Ok(())
}

const CALLEE_HANGS_UP: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const out = VoxEngine.callSIP("sip:bob@127.0.0.1:CALLEE");
  out.addEventListener(CallEvents.Disconnected, (e) => Logger.write(`callee hung up: ${e.reason} ${JSON.stringify(e.headers)}`));
  VoxEngine.easyProcess(call, out);
});
"#;

/// The X- headers of the callee's BYE are the outbound call's `Disconnected` headers, and
/// easyProcess hangs up the caller.
#[test]
fn the_callee_bye_headers_reach_disconnected() -> Result<()> {
    let port = free_port()?;
    let uas = sipp_callee(
        port,
        Some(&sipp_xml::callee_answers_then_hangs_up(
            "      X-Hangup-Cause: done\n",
            500,
        )),
    )?;
    let mut server =
        TestServer::start(&[(".*", &CALLEE_HANGS_UP.replace("CALLEE", &port.to_string()))])?;
    // The caller holds longer than the callee: Dialtone's BYE ends it (SIPp's uac answers it).
    let _ = server.caller_hangs_up("2000", 10_000);
    let logs = server.until_sessions_end(1, SESSION_TIMEOUT)?.logs();
    let uas = uas.join().expect("callee thread").context("running sipp")?;
    assert!(
        uas.status.success(),
        "{}",
        String::from_utf8_lossy(&uas.stdout)
    );
    assert_eq!(
        logs,
        [r#"callee hung up: the callee hung up {"X-Hangup-Cause":"done"}"#]
    );
    Ok(())
}

const BRIDGE_TO: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const out = VoxEngine.callSIP("sip:bob@127.0.0.1:CALLEE", { callerid: call.callerid() });
  call.addEventListener(CallEvents.Disconnected, (e) => Logger.write(`caller: ${e.reason}`));
  VoxEngine.easyProcess(call, out, () => Logger.write("bridged"));
});
"#;

/// Audio crosses the bridge both ways: a softphone caller (pjsua2) and a softphone callee
/// (pjsua2) each send their own speech; each must hear the other's, found in its recording by
/// cross-correlation (numpy, independent of Dialtone's audio code) and loud enough for sox.
#[test]
fn audio_crosses_the_bridge_both_ways_between_two_softphones() -> Result<()> {
    let _realtime = dialtone_tests::realtime_audio();
    let dir = temp_dir("bridge-audio")?;
    let caller_says = caller_wav(&dir)?;
    let callee_says = spoken_wav(
        &dir,
        "callee",
        "Hello, this is Bob at the front desk. How can I help you today?",
    )?;
    let callee_heard = dir.join("callee-heard.wav");
    let caller_heard = dir.join("caller-heard.wav");
    let mut callee = pjsua2_callee(&callee_says, &callee_heard, 30, None)?;
    let mut server =
        TestServer::start(&[(".*", &BRIDGE_TO.replace("CALLEE", &callee.port.to_string()))])?;
    let output = pjsua2_call(server.sip_port(), &caller_says, 8, &caller_heard, "", 0.0)?;
    assert!(output.contains("STATE CONFIRMED 200"), "{output}");
    callee.wait_for("STATE DISCONNECTED", Duration::from_secs(15))?;
    callee.wait_exit(Duration::from_secs(10))?;
    let logs = server.until_sessions_end(1, SESSION_TIMEOUT)?.logs();
    assert_eq!(logs, ["bridged", "caller: caller hung up"]);
    for (who, own, other, heard) in [
        ("the caller", &caller_says, &callee_says, &caller_heard),
        ("the callee", &callee_says, &caller_says, &callee_heard),
    ] {
        let rms = sox_rms(heard, None)?;
        assert!(rms > 0.01, "{who} heard silence (rms {rms})");
        let (lag_ms, peak) = speech_heard(other, heard, 3000)?;
        assert!(
            peak > 0.6,
            "{who} did not hear the other side's speech (correlation {peak} at {lag_ms} ms)"
        );
        // ... and not its own voice back (measured: 0.06 against 0.997 for the other side).
        let (lag_ms, echo) = echo_of(own, heard, 3000)?;
        assert!(
            echo < 0.3,
            "{who} heard itself (correlation {echo} at {lag_ms} ms)"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

const PLAY_TO_CALLEE: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const out = VoxEngine.callSIP("sip:bob@127.0.0.1:CALLEE");
  out.addEventListener(CallEvents.Connected, () => {
    call.answer();
    out.record();
    out.say("Hello callee. This is Dialtone speaking to you on an outbound call.");
    out.sendDigits("12");
  });
  out.addEventListener(CallEvents.PlaybackStarted, (e) => Logger.write(`playing ${e.duration > 1000 ? "over a second" : e.duration}`));
  out.addEventListener(CallEvents.PlaybackFinished, () => { Logger.write("played"); out.hangup(); });
  out.addEventListener(CallEvents.RecordStarted, (e) => Logger.write(`recording ${e.url}`));
  out.addEventListener(CallEvents.Disconnected, (e) => { Logger.write(`callee: ${e.reason}`); setTimeout(() => VoxEngine.terminate(), 300); });
});
"#;

/// An outbound call plays speech (say), records and sends digits like an inbound one: the
/// SIPp callee echoes what it hears, so the recording of its side holds our speech (sox).
#[test]
fn an_outbound_call_says_records_and_sends_digits() -> Result<()> {
    let _realtime = dialtone_tests::realtime_audio();
    // The caller holds 2 s; the scenario hangs up the callee when its playback ends.
    let (logs, _server) = bridged_with(
        PLAY_TO_CALLEE,
        Some(&sipp_xml::callee_answers("")),
        true,
        |rules, _| TestServer::start(rules),
    )?;
    let url = logs
        .first()
        .and_then(|l| l.strip_prefix("recording file://"))
        .context("a recording url")?
        .to_owned();
    assert_eq!(
        logs[1..],
        [
            "playing over a second",
            "played",
            "callee: hung up by the scenario"
        ]
    );
    // What the callee sent back (its echo of our speech) is in the recording.
    let rms = sox_rms(std::path::Path::new(&url), None)?;
    assert!(
        rms > 0.01,
        "the recording of the callee is silent (rms {rms})"
    );
    Ok(())
}

const FORWARD_TO_PSTN: &str = r#"
VoxEngine.forwardCallToPSTN((number) => `+1555${number}`, (caller, callee) => Logger.write(`forwarded to ${callee.number()}`));
"#;

/// forwardCallToPSTN: the dialed number, transformed, goes out over the trunk.
#[test]
fn forward_call_to_pstn_dials_the_transformed_number_over_the_trunk() -> Result<()> {
    let (logs, _server) = bridged_with(FORWARD_TO_PSTN, None, true, |rules, port| {
        TestServer::start_with_application(
            rules,
            &format!("[application.trunk]\naddress = \"127.0.0.1:{port}\"\n"),
        )
    })?;
    assert_eq!(logs, ["forwarded to +15552000"]);
    Ok(())
}

const BYE_HEADERS_OF_THE_CALLER: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Disconnected, (e) => { Logger.write(`caller left ${JSON.stringify(e.headers)}`); VoxEngine.terminate(); });
  call.answer();
});
"#;

/// The X- headers of an inbound caller's BYE are its `Disconnected` headers.
#[test]
fn the_callers_bye_headers_reach_disconnected() -> Result<()> {
    let mut server = TestServer::start(&[(".*", BYE_HEADERS_OF_THE_CALLER)])?;
    let run = server.call_once(
        &sipp_xml::caller_hangs_up_with("      X-Reason: done talking\n"),
        "2000",
        &[],
    )?;
    assert_eq!(run.code, 0, "{}", run.output);
    let logs = server.until_sessions_end(1, SESSION_TIMEOUT)?.logs();
    assert_eq!(logs, [r#"caller left {"X-Reason":"done talking"}"#]);
    Ok(())
}

const KEYS_FROM_THE_CALLEE: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const out = VoxEngine.callSIP("sip:bob@127.0.0.1:CALLEE");
  let keys = "";
  out.addEventListener(CallEvents.Connected, () => { call.answer(); out.handleTones(true); });
  out.addEventListener(CallEvents.ToneReceived, (e) => {
    keys += e.tone;
    if (keys.length === 3) { Logger.write(`callee pressed ${keys} (type ${e.type})`); out.hangup(); }
  });
  out.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
});
"#;

/// handleTones on an outbound call: the keys a softphone callee (pjsua2) presses are the
/// call's ToneReceived events.
#[test]
fn the_keys_an_outbound_callee_presses_reach_the_scenario() -> Result<()> {
    let dir = temp_dir("callee-keys")?;
    let wav = caller_wav(&dir)?;
    let mut callee = pjsua2_callee_pressing(&wav, &dir.join("heard.wav"), 30, "12#")?;
    let mut server = TestServer::start(&[(
        ".*",
        &KEYS_FROM_THE_CALLEE.replace("CALLEE", &callee.port.to_string()),
    )])?;
    let _ = server.caller_hangs_up("2000", 8000);
    callee.wait_for("DTMF 12#", Duration::from_secs(15))?;
    let logs = server.until_sessions_end(1, SESSION_TIMEOUT)?.logs();
    assert_eq!(logs, ["callee pressed 12# (type 1)"]);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
