//! Real calls from a softphone (pjsua2, PyPI pjsua2-python) and the VoxEngine reference MCP
//! scenario on a real SIP call.

use std::collections::BTreeMap;

use std::time::Duration;

use anyhow::Result;
use dialtone_tests::peers::{PyMcp, python_server};
use dialtone_tests::scenario::reference_mcp_scenario;
use dialtone_tests::sip::{TestServer, caller_wav, pjsua2_call, sox_channels, sox_rms};
use dialtone_tests::sipp_xml;

/// Answers, records the caller, speaks, and reports the caller's keys.
const RECORD_SPEAK_AND_LISTEN: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Connected, () => {
    call.record({ stereo: true });
    call.handleTones(true);
    call.say("Hello caller. This is Dialtone speaking to you over RTP. Please press some keys.");
  });
  call.addEventListener(CallEvents.ToneReceived, (e) => Logger.write(`tone ${e.tone} type ${e.type}`));
  call.addEventListener(CallEvents.Disconnected, (e) => {
    Logger.write(`disconnected: ${e.reason}`);
    VoxEngine.terminate();
  });
  call.answer();
});
"#;

#[test]
fn a_softphone_call_carries_audio_both_ways_and_dtmf() -> Result<()> {
    let _realtime = dialtone_tests::realtime_audio();
    let mut server = TestServer::start(&[(".*", RECORD_SPEAK_AND_LISTEN)])?;
    let wav = caller_wav(&server.dir)?;
    let heard = server.dir.join("heard.wav");
    let output = pjsua2_call(server.sip_port(), &wav, 7, &heard, "123#", 3.5)?;
    assert!(output.contains("STATE CONFIRMED 200"), "{output}");
    // pjmedia's RTCP session read our sender reports (SR + SDES) and kept our CNAME.
    let cname = output
        .lines()
        .find_map(|l| l.strip_prefix("RTCP CNAME "))
        .unwrap_or_default();
    assert!(
        cname.starts_with("dialtone-") && cname.ends_with("@127.0.0.1"),
        "{output}"
    );
    let records = server.until_sessions_end(1, Duration::from_secs(20))?;
    let logs = records.logs();
    let tones: Vec<&String> = logs.iter().filter(|l| l.starts_with("tone ")).collect();
    assert_eq!(
        tones,
        [
            "tone 1 type 1",
            "tone 2 type 1",
            "tone 3 type 1",
            "tone # type 1"
        ],
        "{logs:?}"
    );
    assert!(
        logs.contains(&"disconnected: caller hung up".to_string()),
        "{logs:?}"
    );
    // Dialtone recorded both directions in stereo: its greeting left, the caller right
    // (measured with sox, channel by channel) ...
    let recording = records.recording().expect("a finished recording");
    assert_eq!(sox_channels(&recording)?, 2);
    let greeting = sox_rms(&recording, Some(1))?;
    let caller = sox_rms(&recording, Some(2))?;
    assert!(
        greeting > 0.01,
        "no greeting in the left channel (rms {greeting})"
    );
    assert!(
        caller > 0.01,
        "no caller in the right channel (rms {caller})"
    );
    // ... and the caller heard Dialtone's greeting.
    let theirs = sox_rms(&heard, None)?;
    assert!(theirs > 0.01, "the caller heard silence (rms {theirs})");
    Ok(())
}

/// Over both HTTP transports: the scenario says "sse"; against a streamable-HTTP server the
/// client switches (its SSE GET is refused), as it would for a VoxEngine user whose server
/// moved on.
#[test]
fn the_reference_mcp_scenario_runs_unchanged_on_a_sip_call() -> Result<()> {
    let _realtime = dialtone_tests::realtime_audio();
    const TOKEN: &str = "sip-call-token";
    for (server_transport, path, used) in [
        ("sse", "/sse", "HTTP GET /sse"),
        ("streamable-http", "/mcp", "HTTP POST /mcp"),
    ] {
        let mcp = python_server(PyMcp::V2, server_transport, Some(TOKEN))?;
        let secrets = BTreeMap::from([
            ("MCP_SERVER_URL".to_string(), mcp.url(path)),
            ("MCP_SERVER_TOKEN".to_string(), TOKEN.to_string()),
        ]);
        let mut server =
            TestServer::start_with_secrets(&[(".*", &reference_mcp_scenario()?)], secrets)?;
        // The scenario terminates its session after the tool result; Dialtone then hangs up.
        let xml = sipp_xml::answered_then_server_bye("", "", "");
        server.call_once(&xml, "2000", &["-rtp_echo"])?;
        let records = server.until_sessions_end(1, Duration::from_secs(20))?;
        let logs = records.logs();
        let at = |marker: &str| {
            logs.iter()
                .position(|l| l == marker)
                .unwrap_or_else(|| panic!("{server_transport}: no {marker} in {logs:?}"))
        };
        let listed = at("===MCP_TOOLS_LIST===");
        let result = at("===MCP_TOOL_RESULT===");
        assert!(at("===MCP_CONNECTED===") < listed && listed < result);
        let data: serde_json::Value = serde_json::from_str(&logs[result + 1])?;
        let text = data["payload"]["content"][0]["text"]
            .as_str()
            .unwrap_or_default();
        assert!(
            text.starts_with("2d6 + 1d4 = "),
            "{server_transport}: {data}"
        );
        assert!(
            records.event("Call.Connected").is_some(),
            "{}",
            records.describe()
        );
        assert!(
            mcp.log().contains(used),
            "{server_transport}: {}",
            mcp.log()
        );
    }
    Ok(())
}
