//! The voice agent end to end: `scenarios/voice-agent.voxengine.js`, unchanged, on a SIP call
//! from a softphone. The caller's voice streams to a voice-AI server over a WebSocket; a key
//! the caller presses makes the server ask for a tool; the scenario calls it on a real MCP
//! server (PyPI `mcp`) and sends the result back; the server speaks it, and the caller hears it.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;
use dialtone_tests::media::{echo_of, voice_agent_server};
use dialtone_tests::peers::{PyMcp, python_server};
use dialtone_tests::sip::{TestServer, caller_wav, pjsua2_call};
use dialtone_tests::workspace_root;

const TOKEN: &str = "voice-agent-token";
const SAID: &str = "Your order ships on Monday.";

#[test]
fn a_key_press_becomes_a_tool_call_whose_result_the_caller_hears() -> Result<()> {
    let mcp = python_server(PyMcp::V2, "streamable-http", Some(TOKEN))?;
    let scratch = std::env::temp_dir().join(format!("dialtone-agent-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let spoken = scratch.join("agent-said.wav");
    let arguments = serde_json::json!({ "message": SAID }).to_string();
    let mut agent = voice_agent_server("echo", &arguments, &spoken)?;
    let secrets = BTreeMap::from([
        ("AGENT_URL".to_owned(), agent.url("/agent")),
        ("MCP_SERVER_URL".to_owned(), mcp.url("/mcp")),
        ("MCP_SERVER_TOKEN".to_owned(), TOKEN.to_owned()),
    ]);
    let scenario =
        std::fs::read_to_string(workspace_root().join("scenarios/voice-agent.voxengine.js"))?;
    let mut server = TestServer::start_with_secrets(&[(".*", &scenario)], secrets)?;
    let sent = caller_wav(&server.dir)?;
    let heard = server.dir.join("heard.wav");
    let output = pjsua2_call(server.sip_port(), &sent, 9, &heard, "5", 2.0)?;
    assert!(output.contains("STATE CONFIRMED 200"), "{output}");
    let records = server.until_sessions_end(1, Duration::from_secs(20))?;
    assert_eq!(agent.wait_for("DTMF ", Duration::from_secs(5))?, "DTMF 5");
    assert_eq!(
        agent.wait_for("TOOL_CALL ", Duration::from_secs(5))?,
        "TOOL_CALL echo"
    );
    assert_eq!(
        agent.wait_for("SPOKE ", Duration::from_secs(5))?,
        format!("SPOKE {SAID}")
    );
    // The agent heard the caller all along (9 s of 20 ms frames, less the connect time).
    let caller = agent.wait_for("CALLER ", Duration::from_secs(5))?;
    let frames: u32 = caller["CALLER ".len()..].parse()?;
    assert!(frames > 300, "{caller}");
    assert!(
        records.logs().contains(&"agent calls tool echo".to_owned()),
        "{}",
        records.describe()
    );
    // The caller heard what the agent said: its speech is in the caller's recording.
    let (lag, peak) = echo_of(&spoken, &heard, 9000)?;
    eprintln!("agent's speech in the caller's recording: at {lag} ms, peak {peak}");
    assert!(
        peak > 0.6,
        "the caller did not hear the agent: peak {peak} at {lag} ms"
    );
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}
