//! The outbound policy on a real SIP call: an application without `[application.outbound]`
//! cannot reach loopback, private or link-local addresses from a scenario (MCP endpoints,
//! playback URLs, WebSockets), by address or by a name that resolves to one; an allow-list
//! admits its hosts and only them.

use std::time::Duration;

use anyhow::Result;
use dialtone_tests::sip::TestServer;

const SESSION_TIMEOUT: Duration = Duration::from_secs(20);

/// Tries each kind of outbound connection once and logs how it ended, then hangs up.
const REACH_OUT: &str = r#"
require(Modules.MCP);
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  let pending = 4;
  const done = (line) => {
    Logger.write(line);
    if (--pending === 0) call.hangup();
  };
  const mcp = (endpoint) =>
    MCP.createClient({ mcpServerConnectionConfig: { transport: "http", endpoint, connectTimeout: 3 } })
      .then(() => done(`mcp ${endpoint}: connected`))
      .catch((e) => done(`mcp ${endpoint}: ${e.code}: ${e.message}`));
  call.addEventListener(CallEvents.Connected, () => {
    mcp("http://127.0.0.1:9/mcp");
    mcp("http://localhost:9/mcp");
    const ws = VoxEngine.createWebSocket("ws://169.254.169.254/stream");
    ws.addEventListener(WebSocketEvents.CLOSE, (e) => done(`websocket: ${e.reason}`));
    call.startPlayback("http://localhost:9/prompt.wav");
  });
  call.addEventListener(CallEvents.PlaybackFinished, (e) => done(`playback: ${e.error}`));
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
"#;

fn logs_of(server: &mut TestServer) -> Result<Vec<String>> {
    let xml = dialtone_tests::sipp_xml::answered_then_server_bye("", "", "");
    server.call_once(&xml, "2000", &[])?;
    let mut logs = server.until_sessions_end(1, SESSION_TIMEOUT)?.logs();
    logs.sort();
    Ok(logs)
}

#[test]
fn by_default_a_scenario_cannot_reach_the_box_s_own_networks() -> Result<()> {
    let mut server = TestServer::start_with_application(&[(".*", REACH_OUT)], "")?;
    let logs = logs_of(&mut server)?;
    let private = |host: &str, ip: &str| {
        format!(
            "{host} is {ip}, a loopback, private or link-local address, which application 'default' may not reach (set allow_private = true or list the host in its [application.outbound] allow_hosts)"
        )
    };
    assert_eq!(
        logs,
        vec![
            format!(
                "mcp http://127.0.0.1:9/mcp: ERR_MCP_OUTBOUND_FORBIDDEN: MCP.createClient: {}",
                private("127.0.0.1", "127.0.0.1")
            ),
            format!(
                "mcp http://localhost:9/mcp: ERR_MCP_OUTBOUND_FORBIDDEN: MCP.createClient: {}",
                private("localhost", "127.0.0.1")
            ),
            format!(
                "playback: cannot fetch 'http://localhost:9/prompt.wav': {}",
                private("localhost", "127.0.0.1")
            ),
            format!(
                "websocket: cannot connect to ws://169.254.169.254: {}",
                private("169.254.169.254", "169.254.169.254")
            ),
        ]
    );
    Ok(())
}

#[test]
fn an_allow_list_admits_its_hosts_and_only_them() -> Result<()> {
    let application = "[application.outbound]\nallow_hosts = [\"127.0.0.1\", \"localhost\"]\n";
    let mut server = TestServer::start_with_application(&[(".*", REACH_OUT)], application)?;
    let logs = logs_of(&mut server)?;
    let not_listed = |host: &str| {
        format!(
            "{host} is not among the hosts application 'default' may reach (its [application.outbound] allow_hosts)"
        )
    };
    // The listed hosts are reached (nothing listens on port 9: the connection is refused).
    assert!(
        logs[0].starts_with("mcp http://127.0.0.1:9/mcp: ERR_MCP_REFUSED: "),
        "{logs:?}"
    );
    assert!(
        logs[1].starts_with("mcp http://localhost:9/mcp: ERR_MCP_REFUSED: "),
        "{logs:?}"
    );
    assert!(
        logs[2].starts_with("playback: cannot fetch 'http://localhost:9/prompt.wav': ")
            && !logs[2].contains("allow"),
        "{logs:?}"
    );
    assert_eq!(
        logs[3],
        format!(
            "websocket: cannot connect to ws://169.254.169.254: {}",
            not_listed("169.254.169.254")
        )
    );
    Ok(())
}
