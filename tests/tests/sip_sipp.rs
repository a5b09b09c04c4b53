//! Inbound SIP calls from SIPp (Debian sip-tester) against an in-process `dialtone serve`:
//! answered calls with RTP both ways, caller BYE, CANCEL, no route, reject, a scenario that
//! does not load, TCP, re-INVITE hold/move, Record-Route, malformed input, and 100 calls at
//! 20 calls per second.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use dialtone::metrics::CallResult;
use dialtone_tests::sip::{TestServer, caller_hangs_up, sipp, sox_rms};
use dialtone_tests::sipp_xml;

const SIPP_TIMEOUT: Duration = Duration::from_secs(30);
const SESSION_TIMEOUT: Duration = Duration::from_secs(20);

/// Answers, records the caller, speaks, hangs up when the speech ends.
const SPEAK_AND_HANG_UP: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call, callerid, destination, headers }) => {
  Logger.write(`alerting ${callerid} -> ${destination} x=${headers["X-Test-Header"]}`);
  call.addEventListener(CallEvents.Connected, () => {
    call.record();
    call.say("Hello from Dialtone. This sentence is echoed back by the caller.");
  });
  call.addEventListener(CallEvents.PlaybackStarted, (e) => Logger.write(`playing ${e.duration} ms`));
  call.addEventListener(CallEvents.PlaybackFinished, () => call.hangup());
  call.addEventListener(CallEvents.Disconnected, (e) => {
    Logger.write(`disconnected: ${e.reason}`);
    VoxEngine.terminate();
  });
  call.answer();
});
"#;

/// Answers and plays until the caller hangs up.
const ANSWER_AND_WAIT: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Connected, () => call.say("Please hold the line. ".repeat(20)));
  call.addEventListener(CallEvents.Disconnected, (e) => {
    Logger.write(`disconnected: ${e.reason} after ${e.duration} s`);
    VoxEngine.terminate();
  });
  call.answer();
});
"#;

fn assert_sipp_ok(run: &dialtone_tests::sip::SippRun) {
    assert_eq!(run.code, 0, "sipp failed:\n{}", run.output);
}

#[test]
fn answered_call_plays_speech_and_records_the_echo() -> Result<()> {
    let mut server = TestServer::start(&[(".*", SPEAK_AND_HANG_UP)])?;
    let xml = sipp_xml::answered_then_server_bye("", "", "");
    server.call_once(&xml, "2000", &["-rtp_echo"])?;
    let records = server.until_sessions_end(1, SESSION_TIMEOUT)?;
    let logs = records.logs();
    assert_eq!(logs[0], "alerting 1001 -> 2000 x=dialtone", "{logs:?}");
    let names = records.event_names();
    let order = [
        "Application.CallAlerting",
        "Call.Connected",
        "Call.PlaybackStarted",
        "Call.PlaybackFinished",
        "Call.RecordStopped",
        "Call.Disconnected",
    ];
    let mut at = 0;
    for name in order {
        at += names[at..]
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("{name} missing or out of order in {names:?}"));
    }
    let playing: u64 = logs
        .iter()
        .find_map(|l| {
            l.strip_prefix("playing ")?
                .strip_suffix(" ms")?
                .parse()
                .ok()
        })
        .expect("PlaybackStarted duration");
    assert!(
        playing > 2000,
        "espeak speech is seconds long: {playing} ms"
    );
    assert!(
        logs.contains(&"disconnected: hung up by the scenario".to_string()),
        "{logs:?}"
    );
    // The caller (sipp -rtp_echo) sent our speech back; the recording holds it.
    let recording = records.recording().expect("a finished recording");
    let rms = sox_rms(&recording, None)?;
    assert!(rms > 0.01, "recording is silent (rms {rms})");
    assert_eq!(server.metrics().calls(CallResult::Answered), 1);
    let sent = server
        .metrics()
        .rtp
        .sent
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(sent > 100, "RTP packets sent: {sent}");
    Ok(())
}

/// Answers and hangs up with the scenario's X- headers; the caller (SIPp) checks them.
const HEADERS_ON_THE_WIRE: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Connected, () => call.hangup({ "X-Reason": "done here" }));
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  try { call.answer({ "Via": "SIP/2.0/UDP 10.0.0.1" }); } catch (e) { Logger.write(`${e.code}: ${e.message}`); }
  call.answer({ "X-Account": 42 });
});
"#;

/// Extra headers of `answer` and `hangup` reach the 200 OK and the BYE (SIPp fails the call
/// when one is missing); a header that is not an X- header is refused before anything is sent.
#[test]
fn extra_headers_reach_the_answer_and_the_bye() -> Result<()> {
    let mut server = TestServer::start(&[(".*", HEADERS_ON_THE_WIRE)])?;
    let check = |header: &str, value: &str| {
        format!(
            r#"<ereg regexp="^ *{value}$" search_in="hdr" header="{header}:" check_it="true" assign_to="seen"/>"#
        )
    };
    let xml = sipp_xml::answered_then_server_bye(
        "",
        &check("X-Account", "42"),
        &check("X-Reason", "done here"),
    );
    let run = server.call_once(&xml, "2000", &[])?;
    assert_sipp_ok(&run);
    let records = server.until_sessions_end(1, SESSION_TIMEOUT)?;
    assert_eq!(
        records.logs(),
        vec!["ERR_INVALID_ARGUMENT: call.answer: extra header 'Via' is not an X- header (a name starting with X- of letters, digits and -.!%*_+`'~)".to_owned()]
    );
    Ok(())
}

#[test]
fn caller_bye_disconnects_with_duration() -> Result<()> {
    let mut server = TestServer::start(&[(".*", ANSWER_AND_WAIT)])?;
    server.caller_hangs_up("2000", 1500)?;
    let records = server.until_sessions_end(1, SESSION_TIMEOUT)?;
    let disconnected = records.event("Call.Disconnected").expect("Disconnected");
    assert_eq!(disconnected["reason"], "caller hung up", "{disconnected}");
    assert_eq!(disconnected["duration"], 1, "{disconnected}");
    Ok(())
}

#[test]
fn cancel_before_answer_gets_487_and_disconnects() -> Result<()> {
    let ring_only = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Disconnected, (e) => {
    Logger.write(`disconnected: ${e.reason}`);
    VoxEngine.terminate();
  });
  call.ring();
});
"#;
    let mut server = TestServer::start(&[(".*", ring_only)])?;
    let xml = sipp_xml::cancel_after_ringing();
    server.call_once(&xml, "2000", &[])?;
    let records = server.until_sessions_end(1, SESSION_TIMEOUT)?;
    assert_eq!(
        records.logs(),
        vec!["disconnected: caller cancelled".to_string()]
    );
    assert_eq!(server.metrics().calls(CallResult::Cancelled), 1);
    Ok(())
}

#[test]
fn a_destination_no_rule_matches_gets_404_and_no_session() -> Result<()> {
    let server = TestServer::start(&[(r"1\d{3}", ANSWER_AND_WAIT)])?;
    let xml = sipp_xml::expect_final(404);
    server.call_once(&xml, "999", &[])?;
    assert_eq!(server.metrics().calls(CallResult::NoRoute), 1);
    assert_eq!(
        server
            .metrics()
            .sessions_total
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    Ok(())
}

#[test]
fn a_scenario_can_reject_with_486() -> Result<()> {
    let busy = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Disconnected, (e) => {
    Logger.write(`disconnected: ${e.reason}`);
    VoxEngine.terminate();
  });
  call.reject(486);
});
"#;
    let mut server = TestServer::start(&[(".*", busy)])?;
    let xml = sipp_xml::expect_final(486);
    server.call_once(&xml, "2000", &[])?;
    let records = server.until_sessions_end(1, SESSION_TIMEOUT)?;
    assert_eq!(
        records.logs(),
        vec!["disconnected: rejected with 486".to_string()]
    );
    Ok(())
}

#[test]
fn a_scenario_that_does_not_compile_gets_500_with_the_reason_logged() -> Result<()> {
    let mut server =
        TestServer::start(&[(".*", "VoxEngine.addEventListener(AppEvents.CallAlerting, (")])?;
    let xml = sipp_xml::expect_final(500);
    server.call_once(&xml, "2000", &[])?;
    let records = server.until_sessions_end(1, SESSION_TIMEOUT)?;
    let ended = records.describe();
    assert!(ended.contains("LoadError"), "{ended}");
    assert!(ended.contains("SyntaxError"), "{ended}");
    // The server goes on taking calls.
    server.call_once(&xml, "2000", &[])?;
    Ok(())
}

#[test]
fn calls_over_tcp() -> Result<()> {
    let mut server = TestServer::start(&[(".*", ANSWER_AND_WAIT)])?;
    let run = sipp(
        server.sip_port(),
        None,
        &[
            "-sn", "uac", "-t", "t1", "-s", "2000", "-m", "2", "-d", "500",
        ],
        SIPP_TIMEOUT,
    )?;
    assert_sipp_ok(&run);
    let records = server.until_sessions_end(2, SESSION_TIMEOUT)?;
    let reasons: Vec<_> = records
        .events()
        .into_iter()
        .filter(|(n, _)| n == "Call.Disconnected")
        .map(|(_, p)| p["reason"].clone())
        .collect();
    assert_eq!(reasons, vec!["caller hung up", "caller hung up"]);
    Ok(())
}

/// Answers, then hangs up at once.
const ANSWER_AND_HANG_UP: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Connected, () => call.hangup());
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
"#;

#[test]
fn a_tcp_call_gets_a_tcp_contact_and_the_bye_over_tcp() -> Result<()> {
    let mut server = TestServer::start(&[(".*", ANSWER_AND_HANG_UP)])?;
    // SIPp fails the call if the 200's Contact lacks transport=tcp; on -t t1 it listens on TCP
    // only, so the server's BYE must come over TCP too.
    let on_ok = r#"<ereg regexp=";transport=(tcp|TCP)" search_in="hdr" header="Contact:" check_it="true" assign_to="tcp"/>"#;
    let xml = sipp_xml::answered_then_server_bye("", on_ok, "").replace(
        "</scenario>",
        "  <Reference variables=\"tcp\"/>\n</scenario>",
    );
    let run = sipp(
        server.sip_port(),
        Some(&xml),
        &["-t", "t1", "-s", "2000", "-m", "1"],
        SIPP_TIMEOUT,
    )?;
    assert_sipp_ok(&run);
    server.until_sessions_end(1, SESSION_TIMEOUT)?;
    Ok(())
}

/// A video stream, then audio with PCMU and telephone-event as payload type 98.
const VIDEO_THEN_AUDIO: &str = "      v=0\n      o=sipp 1 1 IN IP4 [local_ip]\n      s=-\n      \
    c=IN IP4 [media_ip]\n      t=0 0\n      m=video 6000 RTP/AVP 96\n      a=rtpmap:96 VP8/90000\n      \
    m=audio [media_port] RTP/AVP 0 98\n      a=rtpmap:0 PCMU/8000\n      a=rtpmap:98 telephone-event/8000";

#[test]
fn the_answer_mirrors_the_offered_media_lines() -> Result<()> {
    let mut server = TestServer::start(&[(".*", ANSWER_AND_HANG_UP)])?;
    // SIPp fails the call unless the 200's SDP refuses the video with port 0 and answers the
    // audio with the offer's payload type numbers.
    let on_ok = r#"<ereg regexp="m=video 0 RTP/AVP 96" search_in="body" check_it="true" assign_to="video"/><ereg regexp="m=audio [1-9][0-9]* RTP/AVP 0 98" search_in="body" check_it="true" assign_to="audio"/>"#;
    let xml = sipp_xml::answered_then_server_bye("", on_ok, "")
        .replace(
            &sipp_xml::offer("[media_port]", "sendrecv"),
            VIDEO_THEN_AUDIO,
        )
        .replace(
            "</scenario>",
            "  <Reference variables=\"video,audio\"/>\n</scenario>",
        );
    assert!(xml.contains("m=video 6000"), "the offer was replaced");
    server.call_once(&xml, "2000", &[])?;
    server.until_sessions_end(1, SESSION_TIMEOUT)?;
    Ok(())
}

#[test]
fn an_srtp_only_offer_gets_488() -> Result<()> {
    let server = TestServer::start(&[(".*", ANSWER_AND_HANG_UP)])?;
    let offer = sipp_xml::offer("[media_port]", "sendrecv");
    let srtp = offer.replace("RTP/AVP", "RTP/SAVP")
        + "\n      a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";
    let xml = sipp_xml::expect_final(488).replace(&offer, &srtp);
    assert!(xml.contains("RTP/SAVP"), "the offer was replaced");
    server.call_once(&xml, "2000", &[])?;
    Ok(())
}

#[test]
fn reinvite_holds_and_moves_the_media() -> Result<()> {
    let mut server = TestServer::start(&[(".*", ANSWER_AND_WAIT)])?;
    let receiver = std::net::UdpSocket::bind("127.0.0.1:0")?;
    receiver.set_read_timeout(Some(Duration::from_millis(200)))?;
    let new_port = receiver.local_addr()?.port().to_string();
    let xml = sipp_xml::reinvite_hold_and_move(1500);
    let port = server.sip_port();
    let caller = std::thread::spawn(move || {
        sipp(
            port,
            Some(&xml),
            &["-s", "2000", "-m", "1", "-set", "newport", &new_port],
            SIPP_TIMEOUT,
        )
    });
    // After the move, our speech arrives at the new address.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut packets = 0;
    let mut buf = [0u8; 2048];
    while packets < 20 && Instant::now() < deadline {
        if let Ok((len, _)) = receiver.recv_from(&mut buf)
            && len == 172
        {
            packets += 1;
        }
    }
    let run = caller.join().expect("sipp thread")?;
    assert_sipp_ok(&run);
    assert!(packets >= 20, "RTP at the new address: {packets}");
    let records = server.until_sessions_end(1, SESSION_TIMEOUT)?;
    let disconnected = records.event("Call.Disconnected").expect("Disconnected");
    assert_eq!(disconnected["reason"], "caller hung up");
    Ok(())
}

#[test]
fn record_route_is_echoed_and_the_bye_follows_the_route() -> Result<()> {
    let quick = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Connected, () => setTimeout(() => call.hangup(), 300));
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
"#;
    let mut server = TestServer::start(&[(".*", quick)])?;
    // The "proxy" is sipp itself, so the in-dialog BYE reaches it only through the route set.
    let extra = "      Record-Route: <sip:127.0.0.1:[local_port];lr;x-proxy=dialtone-test>\n";
    let on_ok = r#"<ereg regexp="x-proxy=dialtone-test" search_in="hdr" header="Record-Route:" check_it="true" assign_to="rr"/>"#;
    let on_bye = r#"<ereg regexp="x-proxy=dialtone-test" search_in="hdr" header="Route:" check_it="true" assign_to="route"/>"#;
    let xml = sipp_xml::answered_then_server_bye(extra, on_ok, on_bye).replace(
        "</scenario>",
        "  <Reference variables=\"rr,route\"/>\n</scenario>",
    );
    server.call_once(&xml, "2000", &[])?;
    server.until_sessions_end(1, SESSION_TIMEOUT)?;
    Ok(())
}

#[test]
fn malformed_messages_are_dropped_and_the_server_goes_on() -> Result<()> {
    let mut server = TestServer::start(&[(".*", ANSWER_AND_WAIT)])?;
    let port = server.sip_port();
    let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    let junk: [&[u8]; 5] = [
        b"\x00\x01\x02garbage",
        b"INVITE sip:2000@127.0.0.1 SIP/2.0\r\nVia: nonsense\r\n\r\n",
        b"INVITE sip:2000@127.0.0.1 SIP/2.0\r\nContent-Length: 99999\r\n\r\nv=0",
        b"SIP/2.0 200 OK\r\n\r\n",
        &[0xff; 1400],
    ];
    for datagram in junk {
        socket.send_to(datagram, ("127.0.0.1", port))?;
    }
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port))?;
    std::io::Write::write_all(&mut tcp, b"BYE garbage\r\n\r\n\x00\x00\r\n\r\n")?;
    drop(tcp);
    // A proper call still works.
    let run = sipp(
        port,
        None,
        &["-sn", "uac", "-s", "2000", "-m", "1", "-d", "300"],
        SIPP_TIMEOUT,
    )?;
    assert_sipp_ok(&run);
    server.until_sessions_end(1, SESSION_TIMEOUT)?;
    Ok(())
}

#[test]
fn a_hundred_calls_at_20_per_second_all_succeed() -> Result<()> {
    let mut server = TestServer::start(&[(".*", ANSWER_AND_WAIT)])?;
    let run = sipp(
        server.sip_port(),
        None,
        &[
            "-sn",
            "uac",
            "-s",
            "2000",
            "-r",
            "20",
            "-m",
            "100",
            "-l",
            "40",
            "-d",
            "1000",
            "-rtp_echo",
        ],
        Duration::from_secs(60),
    )?;
    assert_sipp_ok(&run);
    assert!(run.output.contains("Successful call"), "{}", run.output);
    server.until_sessions_end(100, Duration::from_secs(30))?;
    assert_eq!(server.metrics().calls(CallResult::Answered), 100);
    assert_eq!(
        server
            .metrics()
            .calls_active
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    Ok(())
}

#[test]
fn an_unanswered_call_gets_480_when_the_limit_passes() -> Result<()> {
    let never_answers = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Disconnected, (e) => {
    Logger.write(`disconnected: ${e.reason}`);
    VoxEngine.terminate();
  });
});
"#;
    let mut server = TestServer::start_with_config(
        &[(".*", never_answers)],
        "[limits]\nunanswered_call_timeout_s = 1\n",
        Default::default(),
    )?;
    let xml = sipp_xml::expect_final(480);
    server.call_once(&xml, "2000", &[])?;
    server.until_sessions_end(1, SESSION_TIMEOUT)?;
    Ok(())
}

#[test]
fn past_max_calls_an_invite_gets_503_with_retry_after() -> Result<()> {
    let holds = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Connected, () => Logger.write("first call up"));
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
"#;
    let mut server = TestServer::start_with_server(&[(".*", holds)], "max_calls = 1\n")?;
    let port = server.sip_port();
    let first = std::thread::spawn(move || caller_hangs_up(port, "2000", 4000));
    assert!(
        server.until_logged("first call up", SESSION_TIMEOUT)?,
        "the first call never connected"
    );
    let xml = sipp_xml::expect_final_with_header(503, "Retry-After");
    server.call_once(&xml, "2000", &[])?;
    let first = first
        .join()
        .map_err(|_| anyhow::anyhow!("first caller panicked"))??;
    assert_eq!(first.code, 0, "{}", first.output);
    assert_eq!(
        server
            .metrics()
            .calls_refused_overload
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    // The place is free again once the first call is over.
    server.until_sessions_end(1, SESSION_TIMEOUT)?;
    server.caller_hangs_up("2000", 200)?;
    Ok(())
}

#[test]
fn a_graceful_shutdown_ends_live_calls_with_bye_after_terminating() -> Result<()> {
    let lives = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Connected, () => Logger.write("call up"));
  call.answer();
});
VoxEngine.addEventListener(AppEvents.Terminating, (e) => Logger.write(`terminating: ${e.systemError || "no error"}`));
"#;
    let mut server = TestServer::start(&[(".*", lives)])?;
    let port = server.sip_port();
    // This caller waits for the server's BYE (and answers it 200).
    let caller = std::thread::spawn(move || {
        let xml = sipp_xml::answered_then_server_bye("", "", "");
        sipp(
            port,
            Some(&xml),
            &["-s", "2000", "-m", "1"],
            Duration::from_secs(30),
        )
    });
    assert!(
        server.until_logged("call up", SESSION_TIMEOUT)?,
        "the call never connected"
    );
    server.shut_down(Duration::from_secs(10));
    let caller = caller
        .join()
        .map_err(|_| anyhow::anyhow!("caller panicked"))??;
    assert_eq!(caller.code, 0, "the caller got BYE: {}", caller.output);
    let records = server.until_sessions_end(1, SESSION_TIMEOUT)?;
    assert!(
        records.logs().contains(&"terminating: no error".to_owned()),
        "{}",
        records.describe()
    );
    Ok(())
}

#[test]
fn a_flood_of_key_presses_is_cut_to_20_a_second_with_a_warning() -> Result<()> {
    let counts = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  let tones = 0;
  call.addEventListener(CallEvents.Connected, () => {
    call.handleTones(true);
    setTimeout(() => {
      Logger.write(`tones ${tones}`);
      call.hangup();
    }, 1500);
  });
  call.addEventListener(CallEvents.ToneReceived, () => { tones += 1; });
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
"#;
    let mut server = TestServer::start(&[(".*", counts)])?;
    server.call_once(&sipp_xml::info_flood(60), "2000", &[])?;
    let records = server.until_sessions_end(1, SESSION_TIMEOUT)?;
    let logs = records.logs();
    let tones: u32 = logs
        .iter()
        .find_map(|l| l.strip_prefix("tones "))
        .context("tones line")?
        .parse()?;
    // 20 at once, and the bucket refills while SIPp sends (about a second's worth at most).
    assert!((20..=40).contains(&tones), "{logs:?}");
    assert!(
        logs.iter()
            .any(|l| l.starts_with("key presses from the caller dropped: ")
                && l.ends_with(" (at most 20 a second reach the scenario)")),
        "{logs:?}"
    );
    Ok(())
}

#[test]
fn a_caller_who_sends_no_media_is_hung_up_after_the_media_timeout() -> Result<()> {
    let waits = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Disconnected, (e) => {
    Logger.write(`disconnected: ${e.reason}`);
    VoxEngine.terminate();
  });
  call.answer();
});
"#;
    let mut server = TestServer::start_with_server(&[(".*", waits)], "media_timeout_s = 1\n")?;
    // This caller sends no RTP and waits for the server's BYE.
    let xml = sipp_xml::answered_then_server_bye("", "", "");
    server.call_once(&xml, "2000", &[])?;
    let records = server.until_sessions_end(1, SESSION_TIMEOUT)?;
    assert_eq!(
        records.logs(),
        ["disconnected: media timeout"],
        "{}",
        records.describe()
    );
    Ok(())
}

#[test]
fn playback_from_an_http_url_and_a_missing_file() -> Result<()> {
    // A one-shot HTTP server with a 0.5 s μ-law WAV.
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}/prompt.wav", listener.local_addr()?);
    let body =
        dialtone::media::wav::encode(dialtone::media::wav::FORMAT_ULAW, 1, 8000, 8, &[0x55; 4000]);
    let http = std::thread::spawn(move || -> Result<()> {
        let (mut stream, _) = listener.accept()?;
        let mut request = [0u8; 1024];
        let _ = std::io::Read::read(&mut stream, &mut request)?;
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        std::io::Write::write_all(&mut stream, head.as_bytes())?;
        std::io::Write::write_all(&mut stream, &body)?;
        Ok(())
    });
    let scenario = format!(
        r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({{ call }}) => {{
  let step = 0;
  call.addEventListener(CallEvents.Connected, () => call.startPlayback("{url}"));
  call.addEventListener(CallEvents.PlaybackStarted, (e) => Logger.write(`started ${{e.duration}}`));
  call.addEventListener(CallEvents.PlaybackFinished, (e) => {{
    Logger.write(`finished ${{e.error || "ok"}}`);
    if (step++ === 0) call.startPlayback("no-such-file.wav"); else call.hangup();
  }});
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
}});
"#
    );
    let mut server = TestServer::start(&[(".*", &scenario)])?;
    let xml = sipp_xml::answered_then_server_bye("", "", "");
    server.call_once(&xml, "2000", &[])?;
    let records = server.until_sessions_end(1, SESSION_TIMEOUT)?;
    http.join().expect("http thread")?;
    let logs = records.logs();
    assert_eq!(logs[0], "started 500", "{logs:?}");
    assert_eq!(logs[1], "finished ok", "{logs:?}");
    assert!(
        logs[2].starts_with("finished cannot read 'no-such-file.wav'"),
        "{logs:?}"
    );
    Ok(())
}
