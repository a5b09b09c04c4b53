//! Application users and the registrar, against pjsua2 softphones: a user added through the
//! admin API registers (digest auth) on the SIP port, `callUser` rings it and the two
//! softphones hear each other; a user with two registered phones is forked (the first to
//! answer wins, the other is cancelled); a wrong password gets 403, and callUser to a user
//! with no phone or no account fails in words.

use std::time::Duration;

use anyhow::Result;
use dialtone_tests::admin::Api;
use dialtone_tests::media::{pjsua2_callee, registered_phone, speech_heard};
use dialtone_tests::sip::{
    TestServer, caller_wav, pjsua2_call, pjsua2_call_as, sox_rms, spoken_wav, temp_dir,
};
use reqwest::Method;
use serde_json::json;

const TOKEN: &str = "users-test-token-0123456789";
const SESSION_TIMEOUT: Duration = Duration::from_secs(30);
const REGISTER_TIMEOUT: Duration = Duration::from_secs(15);

const CALL_ALICE: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const alice = VoxEngine.callUser({ username: "alice", callerid: call.callerid(), displayName: "Front desk" });
  Logger.write(`calling ${alice.number()} (${alice.clientType()})`);
  alice.addEventListener(CallEvents.Failed, (e) => Logger.write(`failed ${e.code} ${e.reason}`));
  call.addEventListener(CallEvents.Disconnected, (e) => Logger.write(`caller: ${e.reason}`));
  VoxEngine.easyProcess(call, alice, () => Logger.write("bridged"));
});
"#;

/// A server whose application `default` has user alice (added through the admin API).
fn server_with_alice(scenario: &str) -> Result<TestServer> {
    let server = TestServer::start_managed(&[(".*", scenario)], TOKEN, "")?;
    let api = Api::new(server.http(), Some(TOKEN))?;
    let added = api.json(
        Method::PUT,
        "/applications/default/users/alice",
        Some(json!({"password": "alice-secret-1", "displayName": "Alice"})),
    )?;
    assert_eq!(added.status, 201, "{:?}", added.body);
    let listed = api.get("/applications/default/users")?;
    assert_eq!(listed.body[0]["name"], "alice");
    assert_eq!(listed.body[0]["display_name"], "Alice");
    assert!(
        !listed.body.to_string().contains("ha1"),
        "no hash is listed: {}",
        listed.body
    );
    Ok(server)
}

#[test]
fn a_registered_softphone_is_called_by_call_user_with_audio_both_ways() -> Result<()> {
    let _realtime = dialtone_tests::realtime_audio();
    let mut server = server_with_alice(CALL_ALICE)?;
    let dir = temp_dir("users-audio")?;
    let caller_says = caller_wav(&dir)?;
    let alice_says = spoken_wav(&dir, "alice", "Hi, Alice here. I am on my softphone today.")?;
    let alice_heard = dir.join("alice-heard.wav");
    let caller_heard = dir.join("caller-heard.wav");
    let mut alice = registered_phone(
        server.sip_port(),
        ("alice", "alice-secret-1"),
        &alice_says,
        &alice_heard,
        40,
        0,
    )?;
    let output = pjsua2_call(server.sip_port(), &caller_says, 8, &caller_heard, "", 0.0)?;
    assert!(output.contains("STATE CONFIRMED 200"), "{output}");
    alice.wait_for("STATE DISCONNECTED", Duration::from_secs(15))?;
    alice.wait_exit(Duration::from_secs(10))?;
    let logs = server.until_sessions_end(1, SESSION_TIMEOUT)?.logs();
    assert_eq!(
        logs,
        ["calling alice (user)", "bridged", "caller: caller hung up"]
    );
    for (who, other, heard) in [
        ("the caller", &alice_says, &caller_heard),
        ("alice", &caller_says, &alice_heard),
    ] {
        let rms = sox_rms(heard, None)?;
        assert!(rms > 0.01, "{who} heard silence (rms {rms})");
        let (lag_ms, peak) = speech_heard(other, heard, 3000)?;
        assert!(
            peak > 0.6,
            "{who} did not hear the other side (correlation {peak} at {lag_ms} ms)"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[test]
fn a_user_with_two_phones_is_forked_and_the_one_that_does_not_answer_is_cancelled() -> Result<()> {
    let _realtime = dialtone_tests::realtime_audio();
    let mut server = server_with_alice(CALL_ALICE)?;
    let dir = temp_dir("users-fork")?;
    let caller_says = caller_wav(&dir)?;
    // The desk phone only rings; the mobile answers after a second.
    let mut desk = registered_phone(
        server.sip_port(),
        ("alice", "alice-secret-1"),
        &caller_says,
        &dir.join("desk-heard.wav"),
        40,
        -1,
    )?;
    let mut mobile = registered_phone(
        server.sip_port(),
        ("alice", "alice-secret-1"),
        &caller_says,
        &dir.join("mobile-heard.wav"),
        40,
        1000,
    )?;
    let output = pjsua2_call(
        server.sip_port(),
        &caller_says,
        4,
        &dir.join("caller-heard.wav"),
        "",
        0.0,
    )?;
    assert!(output.contains("STATE CONFIRMED 200"), "{output}");
    mobile.wait_for("STATE CONFIRMED", Duration::from_secs(10))?;
    let cancelled = desk.wait_for("STATE DISCONNECTED", Duration::from_secs(10))?;
    assert_eq!(cancelled, "STATE DISCONNECTED 487", "{:?}", desk.seen);
    assert!(
        desk.lines_starting("STATE CONFIRMED").is_empty(),
        "{:?}",
        desk.seen
    );
    let logs = server.until_sessions_end(1, SESSION_TIMEOUT)?.logs();
    assert_eq!(
        logs,
        ["calling alice (user)", "bridged", "caller: caller hung up"]
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

const CALL_NOBODY: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  let left = 2;
  for (const username of ["alice", "bob"]) {
    const out = VoxEngine.callUser(username, call.callerid());
    out.addEventListener(CallEvents.Failed, (e) => {
      Logger.write(`${username}: failed ${e.code} ${e.reason}`);
      if (--left === 0) VoxEngine.terminate();
    });
  }
});
"#;

#[test]
fn a_wrong_password_gets_403_and_call_user_fails_in_words() -> Result<()> {
    let mut server = server_with_alice(CALL_NOBODY)?;
    let dir = temp_dir("users-refused")?;
    let wav = caller_wav(&dir)?;
    let registrar = format!("127.0.0.1:{}", server.sip_port());
    let mut intruder = pjsua2_callee(
        &wav,
        &dir.join("heard.wav"),
        10,
        Some((&registrar, "alice", "not-her-password", 0)),
    )?;
    intruder.wait_for("REGISTERED 403", REGISTER_TIMEOUT)?;
    drop(intruder);
    let _ = server.caller_hangs_up("2000", 500);
    let logs = server.until_sessions_end(1, SESSION_TIMEOUT)?.logs();
    let alice =
        "VoxEngine.callUser: user 'alice' of application 'default' has no registered device";
    let bob = "VoxEngine.callUser: application 'default' has no user named 'bob' (dialtone users add default bob)";
    assert_eq!(
        logs,
        [
            alice.to_owned(),
            format!("alice: failed 480 {alice}"),
            bob.to_owned(),
            format!("bob: failed 404 {bob}"),
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

const WHO_CALLS: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call, callerid, displayName }) => {
  Logger.write(`${callerid} (${displayName}) calls as a ${call.clientType()} client`);
  call.reject(486);
  VoxEngine.terminate();
});
"#;

/// A call from a registered phone of a user (its From is the user, its Contact an address the
/// user registered) routes like any other, and the scenario knows the user: clientType()
/// 'user', and the user's display name when the phone sends none.
#[test]
fn a_call_from_a_registered_user_is_known_as_that_user() -> Result<()> {
    let mut server = server_with_alice(WHO_CALLS)?;
    let dir = temp_dir("users-caller")?;
    let wav = caller_wav(&dir)?;
    let heard = dir.join("heard.wav");
    let output = pjsua2_call_as(
        Some(("alice", "alice-secret-1")),
        server.sip_port(),
        &wav,
        2,
        &heard,
        "",
        0.0,
    );
    // The scenario turns the call away (486): the caller reports it and exits 1.
    let output = output.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(output.contains("REGISTERED 200"), "{output}");
    let _ = pjsua2_call(server.sip_port(), &wav, 2, &heard, "", 0.0);
    let logs = server.until_sessions_end(2, SESSION_TIMEOUT)?.logs();
    assert_eq!(
        logs,
        [
            "alice (Alice) calls as a user client",
            "pjsua () calls as a sip client"
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

const FORWARD_TO_USER: &str = r#"
VoxEngine.forwardCallToUser((caller, user) => Logger.write(`forwarded to ${user.number()}`));
"#;

/// forwardCallToUser: a call to "alice" rings Alice's registered phone and bridges them.
#[test]
fn forward_call_to_user_rings_the_dialed_users_phone() -> Result<()> {
    let mut server = server_with_alice(FORWARD_TO_USER)?;
    let dir = temp_dir("users-forward")?;
    let wav = caller_wav(&dir)?;
    let mut alice = registered_phone(
        server.sip_port(),
        ("alice", "alice-secret-1"),
        &wav,
        &dir.join("alice-heard.wav"),
        30,
        0,
    )?;
    let run = server.caller_hangs_up("alice", 2000)?;
    assert_eq!(run.code, 0, "{}", run.output);
    alice.wait_for("STATE CONFIRMED", Duration::from_secs(10))?;
    alice.wait_for("STATE DISCONNECTED", Duration::from_secs(15))?;
    let logs = server.until_sessions_end(1, SESSION_TIMEOUT)?.logs();
    assert_eq!(logs, ["forwarded to alice"]);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
