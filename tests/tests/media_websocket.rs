//! Calls streamed over WebSockets: the VoxEngine media stream format checked message by
//! message by an independent server (Python `websockets`), Pipecat's Twilio serializer echoing
//! a softphone caller back to itself, and the errors a scenario gets for bad input.

use std::time::Duration;

use anyhow::{Context as _, Result};
use dialtone::console::ConsoleOptions;
use dialtone_tests::media::{echo_of, pipecat_echo_bot, voxengine_checker};
use dialtone_tests::scenario::run_source;
use dialtone_tests::sip::{TestServer, caller_wav, pjsua2_call};
use serde_json::Value;

/// Streams the caller to four sockets, one per encoding; stops the first after 1.5 s; closes
/// them all when the caller hangs up and ends once every one has closed.
const FOUR_STREAMS: &str = r#"
const URL = "ws://127.0.0.1:PORT/stream?token=not-in-logs";
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const sockets = [];
  let open = 0;
  call.addEventListener(CallEvents.Connected, () => {
    const plans = [
      ["ulaw", { tag: "caller", encoding: WebSocketAudioEncoding.ULAW, customParameters: { callId: call.id(), n: 1 } }],
      ["pcm8", undefined],
      ["pcm16", { tag: "wide", encoding: WebSocketAudioEncoding.PCM16 }],
      ["alaw", { tag: "a", encoding: WebSocketAudioEncoding.ALAW }],
    ];
    for (const [name, params] of plans) {
      const ws = VoxEngine.createWebSocket(URL, { headers: [{ name: "X-Key", value: "k" }] });
      sockets.push(ws);
      open += 1;
      ws.addEventListener(WebSocketEvents.OPEN, () => {
        Logger.write(`open ${name} ${ws.readyState}`);
        call.sendMediaTo(ws, params);
        ws.send(`hello ${name}`);
      });
      ws.addEventListener(WebSocketEvents.MESSAGE, (e) => Logger.write(`message ${name} ${e.text}`));
      ws.addEventListener(WebSocketEvents.CLOSE, (e) => {
        Logger.write(`close ${name} ${e.code} ${e.wasClean} ${ws.readyState}`);
        if (--open === 0) VoxEngine.terminate();
      });
    }
    setTimeout(() => call.stopMediaTo(sockets[0]), 1500);
  });
  call.addEventListener(CallEvents.Disconnected, () => sockets.forEach((ws) => ws.close()));
  call.answer();
});
"#;

#[test]
fn a_caller_streamed_to_a_voxengine_format_server_passes_its_checks() -> Result<()> {
    let _realtime = dialtone_tests::realtime_audio();
    let mut checker = voxengine_checker(&[])?;
    let scenario = FOUR_STREAMS.replace("PORT", &checker.port.to_string());
    let mut server = TestServer::start(&[(".*", &scenario)])?;
    // SIPp's built-in caller echoes our RTP back: the caller's audio is 160-byte PCMU frames
    // every 20 ms for 3 s.
    server.caller_hangs_up("2000", 3000)?;
    let records = server.until_sessions_end(1, Duration::from_secs(20))?;
    for _ in 0..4 {
        checker.wait_for("CLOSED ", Duration::from_secs(10))?;
    }
    assert_eq!(checker.lines_starting("ERROR"), Vec::<String>::new());
    let mut logs = records.logs();
    logs.sort();
    assert_eq!(
        logs,
        [
            "close alaw 1000 true closed",
            "close pcm16 1000 true closed",
            "close pcm8 1000 true closed",
            "close ulaw 1000 true closed",
            "message alaw echo:hello alaw",
            "message pcm16 echo:hello pcm16",
            "message pcm8 echo:hello pcm8",
            "message ulaw echo:hello ulaw",
            "open alaw open",
            "open pcm16 open",
            "open pcm8 open",
            "open ulaw open",
        ]
    );
    let mut streams: Vec<Value> = checker
        .lines_starting("STREAM ")
        .iter()
        .map(|l| serde_json::from_str(&l["STREAM ".len()..]))
        .collect::<Result<_, _>>()?;
    streams.sort_by_key(|s| s["tag"].as_str().unwrap_or_default().to_owned());
    let summary: Vec<(String, String, u64)> = streams
        .iter()
        .map(|s| {
            (
                s["tag"].as_str().unwrap_or_default().to_owned(),
                s["encoding"].as_str().unwrap_or_default().to_owned(),
                s["sampleRate"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("".into(), "PCM8".into(), 8000),
            ("a".into(), "ALAW".into(), 8000),
            ("caller".into(), "ULAW".into(), 8000),
            ("wide".into(), "PCM16".into(), 16000),
        ]
    );
    let call_id = records
        .event("Application.CallAlerting")
        .and_then(|e| e["id"].as_str().map(str::to_owned))
        .context("CallAlerting")?;
    let caller = &streams[2];
    assert_eq!(
        caller["customParameters"],
        serde_json::json!({"callId": call_id, "n": "1"})
    );
    // stopMediaTo after 1.5 s stopped the first stream early; the others ran until the caller
    // hung up (3 s), each chunk 20 ms of what the caller sent.
    let chunks = |s: &Value| s["chunks"].as_u64().unwrap_or_default();
    eprintln!("streams: {streams:?}");
    assert!(
        (40..=85).contains(&chunks(caller)),
        "caller stream: {caller}"
    );
    for other in [&streams[0], &streams[1], &streams[3]] {
        assert!(other["stopped"] == true && chunks(other) >= 100, "{other}");
        assert!(chunks(other) > chunks(caller) + 40, "{other} vs {caller}");
    }
    Ok(())
}

/// Streams the caller to Pipecat in Twilio's format and plays what Pipecat sends back to the
/// caller (`sendMediaBetween`).
const PIPECAT: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  let ws;
  call.addEventListener(CallEvents.Connected, () => {
    ws = VoxEngine.createWebSocket("URL", { format: "twilio" });
    ws.addEventListener(WebSocketEvents.OPEN, () => VoxEngine.sendMediaBetween(call, ws));
    ws.addEventListener(WebSocketEvents.MEDIA_STARTED, (e) => Logger.write(`media started '${e.tag}' ${e.encoding}`));
    ws.addEventListener(WebSocketEvents.CLOSE, (e) => {
      Logger.write(`close ${e.code}`);
      VoxEngine.terminate();
    });
  });
  call.addEventListener(CallEvents.Disconnected, () => Logger.write("caller hung up"));
  call.answer();
});
"#;

#[test]
fn pipecat_echoes_a_softphone_caller_through_twilio_media_streams() -> Result<()> {
    let _realtime = dialtone_tests::realtime_audio();
    let mut bot = pipecat_echo_bot()?;
    let scenario = PIPECAT.replace("URL", &bot.url("/media"));
    let mut server = TestServer::start(&[(".*", &scenario)])?;
    let sent = caller_wav(&server.dir)?;
    let heard = server.dir.join("heard.wav");
    let output = pjsua2_call(server.sip_port(), &sent, 8, &heard, "5", 3.0)?;
    assert!(output.contains("STATE CONFIRMED 200"), "{output}");
    let records = server.until_sessions_end(1, Duration::from_secs(20))?;
    let start = bot.wait_for("START ", Duration::from_secs(5))?;
    let call_id = records
        .event("Application.CallAlerting")
        .and_then(|e| e["id"].as_str().map(str::to_owned))
        .context("CallAlerting")?;
    assert!(start.ends_with(&format!(" {call_id}")), "{start}");
    // The key the caller pressed reached Pipecat as a DTMF frame.
    assert_eq!(bot.wait_for("DTMF ", Duration::from_secs(5))?, "DTMF 5");
    // Hanging up stopped the stream, and the Twilio stream's stop closed the socket.
    bot.wait_for("CLOSED", Duration::from_secs(5))?;
    let logs = records.logs();
    assert_eq!(
        logs,
        ["media started '' ULAW", "caller hung up", "close 1000"],
        "{}",
        records.describe()
    );
    // What the caller heard is what it said, later: measured by cross-correlation with numpy
    // on files read by Python's wave module.
    let (lag, peak) = echo_of(&sent, &heard, 3000)?;
    eprintln!("caller's echo through Pipecat: {lag} ms, peak {peak}");
    assert!(
        peak > 0.6,
        "the caller did not hear itself back: peak {peak} at {lag} ms"
    );
    assert!(
        lag < 400.0,
        "echo round trip over 400 ms: {lag} ms (peak {peak})"
    );
    Ok(())
}

/// Every synchronous error of the WebSocket and media-link API, with its whole message.
const BAD_INPUT: &str = r#"
const attempt = (label, f) => {
  try { f(); Logger.write(`${label}: no error`); }
  catch (e) { Logger.write(`${label}: ${e.name} ${e.code} ${e.message}`); }
};
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  attempt("http url", () => VoxEngine.createWebSocket("http://127.0.0.1/"));
  attempt("no url", () => VoxEngine.createWebSocket());
  attempt("bad format", () => VoxEngine.createWebSocket("ws://127.0.0.1:1/", { format: "sip" }));
  attempt("bad headers", () => VoxEngine.createWebSocket("ws://127.0.0.1:1/", { headers: ["X: y"] }));
  attempt("not a unit", () => call.sendMediaTo({}));
  attempt("itself", () => call.sendMediaTo(call));
  attempt("opus", () => VoxEngine.sendMediaBetween(call, VoxEngine.createWebSocket("ws://127.0.0.1:1/")) || call.sendMediaTo(call, { encoding: "OPUS" }));
  attempt("bad encoding", () => call.sendMediaTo(call, { encoding: "MP3" }));
  attempt("binary send", () => VoxEngine.createWebSocket("ws://127.0.0.1:1/").send(new Uint8Array(2)));
  attempt("require undefined", () => require(Modules.WebSocket));
  const ws = VoxEngine.createWebSocket("ws://127.0.0.1:1/x?token=abc");
  ws.onerror = (e) => Logger.write(`onerror ${e.error}`);
  ws.addEventListener(WebSocketEvents.CLOSE, (e) => {
    Logger.write(`close ${e.code} ${e.wasClean} ${e.reason}`);
    VoxEngine.terminate();
  });
});
"#;

#[test]
fn bad_input_gets_whole_messages_and_a_refused_connection_closes_with_1006() -> Result<()> {
    let run = run_source(BAD_INPUT, ConsoleOptions::default())?;
    let refused = "cannot connect to ws://127.0.0.1:1: Connection refused (os error 111)";
    assert_eq!(
        run.logs(),
        [
            "http url: TypeError ERR_INVALID_ARGUMENT VoxEngine.createWebSocket: url must be a ws:// or wss:// URL, got 'http://127.0.0.1/'".to_owned(),
            "no url: TypeError ERR_INVALID_ARGUMENT VoxEngine.createWebSocket: url must be a ws:// or wss:// URL, got undefined".to_owned(),
            "bad format: TypeError ERR_INVALID_ARGUMENT VoxEngine.createWebSocket: format must be \"voxengine\" or \"twilio\", got 'sip'".to_owned(),
            "bad headers: TypeError ERR_INVALID_ARGUMENT VoxEngine.createWebSocket: headers must be an array of {name, value}".to_owned(),
            "not a unit: TypeError ERR_INVALID_ARGUMENT Call.sendMediaTo: expected a media unit (a Call, a WebSocket, a player, a recorder, an ASR or a conference), got an object".to_owned(),
            "itself: Error ERR_INVALID_ARGUMENT Call.sendMediaTo: a unit cannot send media to itself".to_owned(),
            "opus: Error ERR_MEDIA_UNSUPPORTED Call.sendMediaTo: the OPUS encoding is not available in Dialtone yet; use PCM8, PCM16, ULAW or ALAW".to_owned(),
            "bad encoding: TypeError ERR_INVALID_ARGUMENT Call.sendMediaTo: encoding must be a WebSocketAudioEncoding member (PCM8, PCM16, ALAW, ULAW), got 'MP3'".to_owned(),
            "binary send: TypeError ERR_INVALID_ARGUMENT WebSocket.send: only text can be sent, got an object".to_owned(),
            "require undefined: no error".to_owned(),
            format!("onerror {refused}"),
            format!("close 1006 false {refused}"),
        ]
    );
    Ok(())
}

/// A TTS-like server sends 3 s of audio at once; the scenario hears it start, clears it after
/// half a second (barge-in), and hears it end.
const BARGE_IN: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const ws = VoxEngine.createWebSocket("URL");
  ws.addEventListener(WebSocketEvents.OPEN, () => {
    ws.sendMediaTo(call, { tag: "bot", encoding: WebSocketAudioEncoding.ULAW });
    ws.send("play");
  });
  ws.addEventListener(WebSocketEvents.MEDIA_STARTED, (e) => {
    Logger.write(`started ${e.tag} ${e.encoding}`);
    setTimeout(() => ws.clearMediaBuffer({ tag: "bot" }), 500);
  });
  ws.addEventListener(WebSocketEvents.MEDIA_ENDED, (e) => {
    Logger.write(`ended ${e.tag} after ${e.mediaInfo.duration >= 0.4 && e.mediaInfo.duration <= 0.8 ? "about 0.5" : e.mediaInfo.duration} s`);
    ws.close();
  });
  ws.addEventListener(WebSocketEvents.CLOSE, () => VoxEngine.terminate());
});
"#;

#[test]
fn clear_media_buffer_cuts_server_audio_and_media_ended_says_how_much_played() -> Result<()> {
    let _realtime = dialtone_tests::realtime_audio();
    let dir = std::env::temp_dir().join(format!("dialtone-barge-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let audio = dir.join("three-seconds.ulaw");
    std::fs::write(&audio, vec![0x80u8; 3 * 8000])?;
    let audio_path = audio.display().to_string();
    let checker = voxengine_checker(&[
        "--say-file",
        &audio_path,
        "--say-tag",
        "bot",
        "--say-encoding",
        "ULAW",
    ])?;
    let source = BARGE_IN.replace("URL", &checker.url("/bot"));
    let run = run_source(&source, ConsoleOptions::default())?;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        run.logs(),
        ["started bot ULAW", "ended bot after about 0.5 s"],
        "{}",
        run.transcript
    );
    Ok(())
}
