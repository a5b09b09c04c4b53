//! WebRTC calls from a webrtc-crate client (no browser): WHIP-style signalling, DTLS-SRTP,
//! Opus and PCMU, RFC 4733 keys, recording, hangups from either side, and who may call.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;
use dialtone_tests::sip::{TestServer, sox_rms, spoken_wav, stereo_levels};
use dialtone_tests::webrtc::{Offered, Refused, WebRtcCaller, client, samples_8k, write_wav};

/// Answers, records both sides, greets, logs keys; `#` ends the call from the scenario.
const GREET_AND_LISTEN: &str = r##"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call, headers }) => {
  Logger.write(`scheme ${call.clientType()} from ${call.callerid()} leg ${headers["X-Test-Leg"]}`);
  call.addEventListener(CallEvents.Connected, () => {
    call.record({ stereo: true });
    call.handleTones(true);
    call.say("Hello browser. This is Dialtone speaking over WebRTC. Please press some keys.");
  });
  call.addEventListener(CallEvents.ToneReceived, (e) => {
    Logger.write(`tone ${e.tone}`);
    if (e.tone === "#") call.hangup();
  });
  call.addEventListener(CallEvents.Disconnected, (e) => {
    Logger.write(`disconnected: ${e.reason}`);
    VoxEngine.terminate();
  });
  call.answer();
});
"##;

const REJECT: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => call.reject(486));
"#;

fn logs_of(server: &mut TestServer) -> Result<Vec<String>> {
    Ok(server
        .until_sessions_end(1, Duration::from_secs(30))?
        .logs())
}

#[test]
fn an_opus_call_hears_the_greeting_presses_keys_is_recorded_and_hung_up_by_the_scenario()
-> Result<()> {
    let _realtime = dialtone_tests::realtime_audio();
    let mut server = TestServer::start(&[("^greet$", GREET_AND_LISTEN)])?;
    let spoken = spoken_wav(
        &server.dir,
        "browser",
        "Hello from the browser. One two three.",
    )?;
    let speech = samples_8k(&spoken)?;
    let http = server.http();
    let heard = server.block_on(async {
        let mut caller = WebRtcCaller::dial(http, "greet", Offered::Opus, None).await?;
        caller.connected(Duration::from_secs(10)).await?;
        caller.speak(&speech).await?;
        for key in ['1', '2', '#'] {
            caller.press(key).await?;
        }
        // The scenario hangs up on '#': the server closes the connection.
        caller.closed(Duration::from_secs(15)).await?;
        let heard = caller.heard();
        caller.close().await;
        anyhow::Ok(heard)
    })?;
    let records = server.until_sessions_end(1, Duration::from_secs(30))?;
    let logs = records.logs();
    assert_eq!(
        logs.iter()
            .filter(|l| !l.starts_with("disconnected"))
            .collect::<Vec<_>>(),
        [
            "scheme webrtc from rust-client leg rust-client",
            "tone 1",
            "tone 2",
            "tone #",
        ],
        "{logs:?}"
    );
    // The client heard the greeting (sox measures what it decoded) ...
    let heard_wav = server.dir.join("heard.wav");
    write_wav(&heard_wav, &heard)?;
    let level = sox_rms(&heard_wav, None)?;
    assert!(level > 0.01, "the client heard silence (rms {level})");
    // ... and the recording has the greeting left and the browser's speech right.
    let recording = records.recording().expect("a finished recording");
    let (ours, browser) = stereo_levels(&recording)?;
    assert!(ours > 0.01, "no greeting in the recording (rms {ours})");
    assert!(
        browser > 0.01,
        "no browser speech in the recording (rms {browser})"
    );
    Ok(())
}

#[test]
fn a_pcmu_call_is_hung_up_by_delete_and_its_location_then_is_gone() -> Result<()> {
    let _realtime = dialtone_tests::realtime_audio();
    let mut server = TestServer::start(&[("^greet$", GREET_AND_LISTEN)])?;
    let http = server.http();
    let (first, second, state) = server.block_on(async {
        let mut caller = WebRtcCaller::dial(http, "greet", Offered::Pcmu, None).await?;
        caller.connected(Duration::from_secs(10)).await?;
        // A second of the greeting, in PCMU.
        caller.until_heard(8000, Duration::from_secs(5)).await?;
        let state_url = format!("http://{http}{}", caller.location);
        let state: serde_json::Value = client()?.get(&state_url).send().await?.json().await?;
        let first = caller.hang_up().await?;
        caller.closed(Duration::from_secs(10)).await?;
        // Once the server says the call is over, its Location is gone.
        caller.until_ended().await?;
        let second = caller.hang_up().await?;
        assert!(
            caller.heard().len() >= 8000,
            "heard {} samples",
            caller.heard().len()
        );
        caller.close().await;
        anyhow::Ok((first, second, state))
    })?;
    assert_eq!((first, second), (200, 404));
    assert_eq!(state["state"], "connected", "{state}");
    let logs = logs_of(&mut server)?;
    assert!(
        logs.contains(&"disconnected: the caller hung up".to_owned()),
        "{logs:?}"
    );
    Ok(())
}

fn refused(error: anyhow::Error) -> (u16, String) {
    match error.downcast::<Refused>() {
        Ok(refused) => (refused.status, refused.body),
        Err(other) => panic!("not a refusal: {other:#}"),
    }
}

#[test]
fn refusals_say_why_and_start_nothing() -> Result<()> {
    let server = TestServer::start(&[("^greet$", GREET_AND_LISTEN), ("^busy$", REJECT)])?;
    let http = server.http();
    let (no_route, rejected) = server.block_on(async {
        let no_route = WebRtcCaller::dial(http, "nobody", Offered::Opus, None).await;
        let rejected = WebRtcCaller::dial(http, "busy", Offered::Opus, None).await;
        (no_route.map(|_| ()), rejected.map(|_| ()))
    });
    assert_eq!(
        refused(no_route.expect_err("no rule takes 'nobody'")),
        (
            404,
            "destination 'nobody' matched no rule of application 'default'; rule 'rule0': pattern '^greet$' does not match the whole destination; rule 'rule1': pattern '^busy$' does not match the whole destination".to_owned()
        )
    );
    assert_eq!(
        refused(rejected.expect_err("the scenario rejects")),
        (486, "the scenario rejected the call (486)".to_owned())
    );
    let url = format!("http://{http}/v1/webrtc/calls");
    let post = |query: &str, content_type: &str, body: &str| {
        let request = client()?
            .post(format!("{url}{query}"))
            .header("content-type", content_type)
            .body(body.to_owned());
        server.block_on(async {
            let response = request.send().await?;
            anyhow::Ok((response.status().as_u16(), response.text().await?))
        })
    };
    assert_eq!(
        post("", "application/sdp", "v=0")?,
        (
            400,
            "say whom to call: POST /v1/webrtc/calls?to=DESTINATION".to_owned()
        )
    );
    assert_eq!(
        post("?to=greet", "text/plain", "v=0")?,
        (
            415,
            "the offer must be sent as Content-Type: application/sdp".to_owned()
        )
    );
    assert_eq!(
        post(
            "?to=greet",
            "application/sdp",
            "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
        )?,
        (
            400,
            "the offer cannot be answered: the offer has no audio".to_owned()
        )
    );
    assert_eq!(
        post("?to=greet", "application/sdp", "garbage\r\nm=audio x\r\n")?,
        (
            400,
            "the offer cannot be answered: it is not SDP (the first line must be v=0)".to_owned()
        )
    );
    // A WebRTC offer whose audio the stack refuses (no rtcp-mux, a fingerprint of two bytes).
    let unusable = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:0 PCMU/8000\r\n\
        a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 00:11\r\n\
        a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\n";
    assert_eq!(
        post("?to=greet", "application/sdp", unusable)?,
        (
            400,
            "the offer cannot be answered: its audio cannot be used (WebRTC audio needs rtcp-mux, a valid fingerprint and Opus or PCMU)".to_owned()
        )
    );
    let gone = server.block_on(async {
        let response = client()?
            .delete(format!("{url}/no-such-call"))
            .send()
            .await?;
        anyhow::Ok((response.status().as_u16(), response.text().await?))
    })?;
    assert_eq!(gone, (404, "no live call no-such-call".to_owned()));
    assert_eq!(
        server
            .metrics()
            .sessions_total
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    Ok(())
}

#[test]
fn with_a_token_secret_only_the_token_may_call() -> Result<()> {
    let _realtime = dialtone_tests::realtime_audio();
    let application = format!(
        "{}[application.webrtc]\ntoken_secret = \"WEB_CALL_TOKEN\"\n",
        dialtone_tests::sip::LOCAL_PEERS
    );
    let secrets = BTreeMap::from([("WEB_CALL_TOKEN".to_owned(), "s3cret-token".to_owned())]);
    let mut server = TestServer::start_with_application_and_secrets(
        &[("^greet$", GREET_AND_LISTEN)],
        &application,
        secrets,
    )?;
    let http = server.http();
    let (anonymous, wrong, right) = server.block_on(async {
        let anonymous = WebRtcCaller::dial(http, "greet", Offered::Opus, None).await;
        let wrong = WebRtcCaller::dial(http, "greet", Offered::Opus, Some("guess")).await;
        let mut caller =
            WebRtcCaller::dial(http, "greet", Offered::Opus, Some("s3cret-token")).await?;
        caller.connected(Duration::from_secs(10)).await?;
        let status = client()?
            .delete(format!("http://{http}{}", caller.location))
            .bearer_auth("s3cret-token")
            .send()
            .await?
            .status()
            .as_u16();
        caller.close().await;
        anyhow::Ok((anonymous.map(|_| ()), wrong.map(|_| ()), status))
    })?;
    let needs = "a web call needs Authorization: Bearer <the application's web-call token>, or an application user's name and password (Basic)";
    assert_eq!(
        refused(anonymous.expect_err("no token")),
        (401, needs.to_owned())
    );
    assert_eq!(
        refused(wrong.expect_err("wrong token")),
        (401, needs.to_owned())
    );
    assert_eq!(right, 200);
    let logs = logs_of(&mut server)?;
    assert!(
        logs.contains(&"disconnected: the caller hung up".to_owned()),
        "{logs:?}"
    );
    Ok(())
}

#[test]
fn a_browser_that_never_connects_after_the_answer_is_hung_up_after_10_s() -> Result<()> {
    let mut server = TestServer::start(&[("^greet$", GREET_AND_LISTEN)])?;
    let http = server.http();
    let location = server.block_on(async {
        let caller = WebRtcCaller::dial_with(http, "greet", Offered::Opus, None, false).await?;
        let location = caller.location.clone();
        caller.close().await;
        anyhow::Ok(location)
    })?;
    assert!(location.starts_with("/v1/webrtc/calls/"), "{location}");
    let logs = server
        .until_sessions_end(1, Duration::from_secs(20))?
        .logs();
    assert_eq!(
        logs,
        [
            "scheme webrtc from rust-client leg rust-client",
            "disconnected: no media connection within 10 s of the answer",
        ]
    );
    Ok(())
}

#[test]
fn an_application_user_calls_as_themselves_with_their_password() -> Result<()> {
    use dialtone_tests::admin::Api;
    let _realtime = dialtone_tests::realtime_audio();
    let token = "webrtc-users-admin-token";
    let mut server = TestServer::start_managed(&[("^greet$", GREET_AND_LISTEN)], token, "")?;
    let api = Api::new(server.http(), Some(token))?;
    let added = api.json(
        reqwest::Method::PUT,
        "/applications/default/users/alice",
        Some(serde_json::json!({"password": "alice-secret-1", "displayName": "Alice"})),
    )?;
    assert_eq!(added.status, 201, "{:?}", added.body);
    let http = server.http();
    let basic = |user: &str, password: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    };
    let (wrong, unknown) = server.block_on(async {
        let wrong = WebRtcCaller::dial_as(http, "greet", &basic("alice", "guess")).await;
        let unknown = WebRtcCaller::dial_as(http, "greet", &basic("mallory", "x")).await;
        let mut alice =
            WebRtcCaller::dial_as(http, "greet", &basic("alice", "alice-secret-1")).await?;
        alice.connected(Duration::from_secs(10)).await?;
        assert_eq!(alice.hang_up().await?, 200);
        alice.close().await;
        anyhow::Ok((wrong.map(|_| ()), unknown.map(|_| ())))
    })?;
    // Anyone else may not take her name.
    let posing = server.block_on(async {
        let response = client()?
            .post(format!("http://{http}/v1/webrtc/calls?to=greet&from=alice"))
            .header("content-type", "application/sdp")
            .body("v=0\r\n")
            .send()
            .await?;
        anyhow::Ok((response.status().as_u16(), response.text().await?))
    })?;
    assert_eq!(
        posing,
        (
            403,
            "'alice' is a user of application 'default': sign in as them to call as them"
                .to_owned()
        )
    );
    let refusal = (
        401,
        "wrong user name or password for application 'default'".to_owned(),
    );
    assert_eq!(refused(wrong.expect_err("a wrong password")), refusal);
    assert_eq!(refused(unknown.expect_err("no such user")), refusal);
    let logs = logs_of(&mut server)?;
    assert_eq!(
        logs,
        [
            "scheme webrtc from alice leg rust-client",
            "disconnected: the caller hung up",
        ]
    );
    Ok(())
}

/// Bridges the browser to a SIP callee (SIPp, which echoes the RTP it gets).
const BRIDGE_TO_SIP: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const callee = VoxEngine.callSIP("sip:echo@127.0.0.1:CALLEE");
  VoxEngine.easyProcess(call, callee, () => Logger.write("bridged"));
  call.addEventListener(CallEvents.Disconnected, (e) => {
    Logger.write(`browser: ${e.reason}`);
    VoxEngine.terminate();
  });
});
"#;

#[test]
fn a_browser_bridged_to_a_sip_callee_hears_its_own_voice_echoed_over_sip() -> Result<()> {
    let _realtime = dialtone_tests::realtime_audio();
    let port = dialtone_tests::peers::free_port()?;
    let callee = dialtone_tests::sip::sipp_callee(port, None)?;
    let scenario = BRIDGE_TO_SIP.replace("CALLEE", &port.to_string());
    let mut server = TestServer::start(&[("^sip$", scenario.as_str())])?;
    let spoken = spoken_wav(
        &server.dir,
        "browser",
        "Hello over there. This goes out over SIP and comes back.",
    )?;
    let speech = samples_8k(&spoken)?;
    let http = server.http();
    let heard = server.block_on(async {
        let mut caller = WebRtcCaller::dial(http, "sip", Offered::Opus, None).await?;
        caller.connected(Duration::from_secs(10)).await?;
        caller.speak(&speech).await?;
        let heard = caller.heard();
        assert_eq!(caller.hang_up().await?, 200);
        caller.close().await;
        anyhow::Ok(heard)
    })?;
    let logs = logs_of(&mut server)?;
    assert_eq!(logs, ["bridged", "browser: the caller hung up"], "{logs:?}");
    let callee = callee.join().expect("callee thread")?;
    assert!(
        callee.status.success(),
        "{}",
        String::from_utf8_lossy(&callee.stdout)
    );
    // Nothing but the echo plays to the browser: what it heard is its own voice, back from
    // SIPp through the bridge (sox measures it).
    let heard_wav = server.dir.join("echo.wav");
    write_wav(&heard_wav, &heard)?;
    let level = sox_rms(&heard_wav, None)?;
    assert!(level > 0.01, "the browser heard no echo (rms {level})");
    Ok(())
}

/// Rings for 12 s before it answers: longer than ICE's own patience before an answer.
const ANSWER_LATE: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.ring();
  setTimeout(() => call.answer(), 12000);
  call.addEventListener(CallEvents.Connected, () => Logger.write("connected"));
  call.addEventListener(CallEvents.Disconnected, (e) => {
    Logger.write(`disconnected: ${e.reason}`);
    VoxEngine.terminate();
  });
});
"#;

/// Never answers.
const NEVER_ANSWER: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Disconnected, (e) => {
    Logger.write(`disconnected: ${e.reason}`);
    VoxEngine.terminate();
  });
});
"#;

#[test]
fn a_scenario_that_rings_12_s_before_answering_still_connects() -> Result<()> {
    let _realtime = dialtone_tests::realtime_audio();
    let mut server = TestServer::start(&[("^late$", ANSWER_LATE)])?;
    let http = server.http();
    server.block_on(async {
        tokio::time::timeout(Duration::from_secs(40), async {
            let mut caller = WebRtcCaller::dial(http, "late", Offered::Opus, None).await?;
            caller.connected(Duration::from_secs(10)).await?;
            assert_eq!(caller.hang_up().await?, 200);
            caller.close().await;
            anyhow::Ok(())
        })
        .await?
    })?;
    let logs = logs_of(&mut server)?;
    assert_eq!(logs, ["connected", "disconnected: the caller hung up"]);
    Ok(())
}

#[test]
fn a_caller_that_stops_waiting_for_the_answer_cancels_the_call() -> Result<()> {
    let mut server = TestServer::start(&[("^never$", NEVER_ANSWER)])?;
    let http = server.http();
    let offer = server.block_on(async {
        // Any WebRTC offer: the webrtc-crate caller's, taken from a call that is then dropped.
        let caller = WebRtcCaller::offer_only().await?;
        anyhow::Ok(caller)
    })?;
    let gave_up = server.block_on(async {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(1))
            .build()?
            .post(format!("http://{http}/v1/webrtc/calls?to=never"))
            .header("content-type", "application/sdp")
            .body(offer)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(anyhow::Error::from)
    });
    assert!(gave_up.is_err(), "the POST was answered: {gave_up:?}");
    let logs = logs_of(&mut server)?;
    assert_eq!(logs, ["disconnected: the caller gave up before the answer"]);
    Ok(())
}

/// A raw HTTP/1.1 POST with `headers` (Host among them): status and body.
async fn raw_post(http: std::net::SocketAddr, headers: &str) -> Result<(u16, String)> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let body = "v=0\r\n";
    let request = format!(
        "POST /v1/webrtc/calls?to=greet HTTP/1.1\r\n{headers}Content-Type: application/sdp\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(http).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    tokio::time::timeout(
        Duration::from_secs(10),
        stream.read_to_string(&mut response),
    )
    .await??;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

#[test]
fn anonymous_calls_come_only_from_this_machines_own_pages() -> Result<()> {
    let server = TestServer::start(&[("^greet$", GREET_AND_LISTEN)])?;
    let http = server.http();
    let port = http.port();
    let (rebound, foreign_page, proxied, own) = server.block_on(async {
        let rebound = raw_post(http, "Host: attacker.example\r\n").await?;
        let foreign_page = raw_post(
            http,
            &format!("Host: 127.0.0.1:{port}\r\nOrigin: http://attacker.example\r\n"),
        )
        .await?;
        let proxied = raw_post(
            http,
            &format!("Host: 127.0.0.1:{port}\r\nX-Forwarded-For: 203.0.113.9\r\n"),
        )
        .await?;
        let own = raw_post(
            http,
            &format!("Host: localhost:{port}\r\nOrigin: http://localhost:{port}\r\n"),
        )
        .await?;
        anyhow::Ok((rebound, foreign_page, proxied, own))
    })?;
    let refused = |why: &str| {
        (
            401,
            format!(
                "anonymous web calls are taken only from this machine ({why}): set [application.webrtc] token_secret, or sign in as an application user"
            ),
        )
    };
    assert_eq!(rebound, refused("the request names another host"));
    assert_eq!(foreign_page, refused("the page comes from another site"));
    assert_eq!(proxied, refused("this request came through a proxy"));
    // The server's own page passes the check; its "offer" is then refused for what it is.
    assert_eq!(
        own,
        (
            400,
            "the offer cannot be answered: the offer has no audio".to_owned()
        )
    );
    Ok(())
}
