//! The MCP client when things go wrong: every fault ends in a rejected `createClient` or an
//! `MCPError` with a clear reason while the call goes on, and leaves no task behind.

use std::time::Duration;

use anyhow::Result;
use dialtone::console::{CallerScript, ConsoleOptions};
use dialtone_bindings::host::EndReason;
use dialtone_tests::peers::{Peer, PyMcp, bad_http_server, free_port, python_server};
use dialtone_tests::scenario::{Run, run_source};

/// Connects with `config` (a JS object literal); logs `rejected <code>: <message>` or
/// `connected <protocolVersion> <transport>`, then runs `then(client)` (JS statements).
fn connect_then(config: &str, then: &str) -> String {
    format!(
        r#"
require(Modules.MCP);
const log = (tag, value) => Logger.write(tag + " " + (typeof value === "string" ? value : JSON.stringify(value)));
VoxEngine.addEventListener(AppEvents.CallAlerting, async ({{ call }}) => {{
  call.answer();
  call.addEventListener(CallEvents.Disconnected, () => {{ log("call", "disconnected"); VoxEngine.terminate(); }});
  let client;
  try {{
    client = await MCP.createClient({{
      mcpServerConnectionConfig: {config},
      onWebSocketClose: (e) => log("closed", e),
    }});
  }} catch (e) {{
    log("rejected", e.code + ": " + e.message);
    call.say("Sorry, the service is unavailable.");
    call.addEventListener(CallEvents.PlaybackFinished, () => call.hangup());
    return;
  }}
  client.addEventListener(MCP.ServerEvents.ConnectorInformation, (e) => {{
    log("connected", e.data.payload.protocolVersion + " " + e.data.payload.transport);
    {then}
  }});
}});
"#
    )
}

/// Calls `first` (a callTool argument), expects an MCPError for it, then shows the client is
/// still usable: an echo of `message` comes back, and the call hangs up.
fn error_then_echo(first: &str, message: &str) -> String {
    format!(
        r#"
      client.addEventListener(MCP.ServerEvents.MCPError, (e) => {{
        log("error", e.data.payload);
        client.callTool({{ name: "echo", arguments: {{ message: "{message}" }} }});
      }});
      client.addEventListener(MCP.ServerEvents.ToolResult, (e) => {{
        log("result", e.data.payload.content[0].text);
        client.close();
        call.hangup();
      }});
      client.callTool({first});
    "#
    )
}

fn run(source: &str) -> Result<Run> {
    run_source(source, ConsoleOptions::default())
}

fn logged(run: &Run, tag: &str) -> Vec<String> {
    run.logs()
        .iter()
        .filter_map(|l| l.strip_prefix(&format!("{tag} ")).map(str::to_owned))
        .collect()
}

/// The call went on after the fault: the scenario spoke and hung up, and the session ended
/// normally with no task left.
fn call_went_on(run: &Run) {
    assert!(
        run.transcript.contains("cmd    call-1 hangup"),
        "{}",
        run.transcript
    );
    assert_eq!(run.end, EndReason::Terminated, "{}", run.transcript);
    assert_eq!(run.tasks_left, 0, "tasks left behind:\n{}", run.transcript);
}

/// [`call_went_on`], and the client left no connection to the server at `port` busy: what the
/// process's pool keeps idle goes within two of its 10 s idle periods.
fn call_went_on_and_let_go(run: &Run, port: u16) {
    call_went_on(run);
    let open = dialtone_tests::peers::connections_closed_within(port, Duration::from_secs(25))
        .expect("reading /proc/net/tcp");
    assert_eq!(
        open, 0,
        "connections to the MCP server left open:\n{}",
        run.transcript
    );
}

fn rejected(run: &Run) -> String {
    logged(run, "rejected")
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("not rejected:\n{}", run.transcript))
}

#[test]
fn server_not_running_is_refused() -> Result<()> {
    let port = free_port()?;
    let run = run(&connect_then(
        &format!(r#"{{ transport: "http", endpoint: "http://127.0.0.1:{port}/mcp" }}"#),
        "",
    ))?;
    assert_eq!(
        rejected(&run),
        format!("ERR_MCP_REFUSED: MCP server http://127.0.0.1:{port}/mcp refused the connection")
    );
    call_went_on(&run);
    Ok(())
}

#[test]
fn unresolvable_host_is_a_dns_error() -> Result<()> {
    let run = run(&connect_then(
        r#"{ transport: "sse", endpoint: "http://no-such-host.invalid/sse", connectTimeout: 5 }"#,
        "",
    ))?;
    // The resolver's words: no such name, or (a machine without DNS) no answer.
    let error = rejected(&run);
    let says = |detail: &str| {
        format!(
            "ERR_MCP_DNS: cannot resolve the host of MCP server http://no-such-host.invalid/sse: failed to lookup address information: {detail}"
        )
    };
    assert!(
        error == says("Name or service not known")
            || error == says("Temporary failure in name resolution"),
        "{error}"
    );
    call_went_on(&run);
    Ok(())
}

#[test]
fn silent_server_times_out_the_connect() -> Result<()> {
    let server = bad_http_server("silent")?;
    // requestTimeout stays at its 60 s: the abandoned handshake POST must end with the
    // connect, not hold rmcp's worker task and its socket for a minute (tasks_left).
    let run = run(&connect_then(
        &format!(
            r#"{{ transport: "http", endpoint: "{}", connectTimeout: 1 }}"#,
            server.url("/mcp")
        ),
        "",
    ))?;
    assert_eq!(
        rejected(&run),
        format!(
            "ERR_MCP_TIMEOUT: MCP server {} did not complete the connection within 1 s (connectTimeout)",
            server.url("/mcp")
        )
    );
    call_went_on_and_let_go(&run, server.port);
    Ok(())
}

#[test]
fn malformed_json_and_html_fail_the_handshake() -> Result<()> {
    for mode in ["malformed", "html"] {
        let server = bad_http_server(mode)?;
        let run = run(&connect_then(
            &format!(
                r#"{{ transport: "http", endpoint: "{}" }}"#,
                server.url("/mcp")
            ),
            "",
        ))?;
        let why = if mode == "html" {
            "the MCP server answered with content type text/html, not application/json or text/event-stream"
        } else {
            r#"the MCP server's answer is not JSON-RPC: EOF while parsing a value: {"jsonrpc": "2.0", "id": "#
        };
        assert_eq!(
            rejected(&run),
            format!(
                "ERR_MCP_HANDSHAKE: MCP handshake with {} failed: {why}",
                server.url("/mcp")
            ),
            "{mode}"
        );
        call_went_on_and_let_go(&run, server.port);
    }
    Ok(())
}

/// The close events a run logged, parsed.
fn closes(run: &Run) -> Result<Vec<serde_json::Value>> {
    logged(run, "closed")
        .iter()
        .map(|c| Ok(serde_json::from_str(c)?))
        .collect()
}

#[test]
fn a_bad_answer_fails_one_request_and_the_client_stays_open() -> Result<()> {
    let cases = [
        (
            "streamable-http",
            "http",
            "/mcp",
            "http-500",
            "http_status",
            "the MCP server answered HTTP 500",
        ),
        (
            "streamable-http",
            "http",
            "/mcp",
            "not-json",
            "bad_response",
            "the MCP server's answer is not JSON-RPC: key must be a string: {oops",
        ),
        (
            "sse",
            "sse",
            "/sse",
            "http-500",
            "http_status",
            "the MCP server answered HTTP 500",
        ),
    ];
    for (server_transport, transport, path, fault, code, says) in cases {
        let server = python_server(PyMcp::V2, server_transport, None)?;
        let then = error_then_echo(
            &format!(r#"{{ name: "{fault}", arguments: {{}} }}"#),
            "still open",
        );
        let run = run(&connect_then(
            &format!(
                r#"{{ transport: "{transport}", endpoint: "{}" }}"#,
                server.url(path)
            ),
            &then,
        ))?;
        let case = format!("{fault} over {transport}");
        let error: serde_json::Value = serde_json::from_str(&logged(&run, "error")[0])?;
        assert_eq!(error["code"], code, "{case}: {error}");
        assert_eq!(error["error"], says, "{case}: {error}");
        assert_eq!(logged(&run, "result"), ["still open"], "{case}");
        let closes = closes(&run)?;
        assert_eq!(closes.len(), 1, "{case}: {closes:?}");
        assert_eq!(
            closes[0]["code"], 1000,
            "{case}: closed by the scenario, not the fault"
        );
        call_went_on(&run);
    }
    Ok(())
}

#[test]
fn a_stream_that_is_not_json_rpc_closes_the_sse_client_with_1011() -> Result<()> {
    let server = python_server(PyMcp::V2, "sse", None)?;
    let then = r#"
      client.addEventListener(MCP.ServerEvents.MCPError, (e) => log("error", e.data.payload));
      client.callTool({ name: "garble-stream", arguments: {} });
    "#;
    let source = connect_then(
        &format!(
            r#"{{ transport: "sse", endpoint: "{}" }}"#,
            server.url("/sse")
        ),
        then,
    )
    .replace(
        r#"onWebSocketClose: (e) => log("closed", e),"#,
        r#"onWebSocketClose: (e) => { log("closed", e); call.hangup(); },"#,
    );
    let run = run(&source)?;
    let error: serde_json::Value = serde_json::from_str(&logged(&run, "error")[0])?;
    assert_eq!(error["code"], "transport_closed", "{error}");
    let closes = closes(&run)?;
    assert_eq!(closes.len(), 1, "onWebSocketClose fires once: {closes:?}");
    assert_eq!(closes[0]["code"], 1011, "{closes:?}");
    assert_eq!(closes[0]["wasClean"], false);
    for reason in [&error["error"], &closes[0]["reason"]] {
        assert_eq!(
            reason, "malformed JSON-RPC message from the server: key must be a string in '{oops'",
            "the reason names the fault"
        );
    }
    call_went_on_and_let_go(&run, server.port);
    Ok(())
}

#[test]
fn an_sse_endpoint_event_naming_another_origin_is_refused() -> Result<()> {
    let server = python_server(PyMcp::V2, "sse", Some("s3cret"))?;
    let run = run(&connect_then(
        &format!(
            r#"{{ transport: "sse", endpoint: "{}", headers: {{ Authorization: "Bearer s3cret" }} }}"#,
            server.url("/sse?foreign=1")
        ),
        "",
    ))?;
    // The session id the server put in its endpoint event is its own choice.
    let error = rejected(&run);
    let (before, after) = error
        .split_once("session_id=")
        .expect("the endpoint event's URL");
    let after = after.trim_start_matches(|c: char| c.is_ascii_hexdigit());
    let port = server.port;
    assert_eq!(
        format!("{before}session_id=*{after}"),
        format!(
            "ERR_MCP_HANDSHAKE: MCP handshake with http://127.0.0.1:{port}/sse?foreign=1 failed: \
             SSE stream: the endpoint event names http://localhost:{port}/messages/?session_id=*, \
             not a URL of http://127.0.0.1:{port}; refusing to send requests (and their headers) there"
        )
    );
    assert!(
        !server.log().contains("HTTP POST"),
        "nothing (no token) was sent to the named endpoint:\n{}",
        server.log()
    );
    call_went_on(&run);
    Ok(())
}

#[test]
fn a_streamable_http_config_falls_back_to_a_legacy_sse_server() -> Result<()> {
    let server = python_server(PyMcp::V2, "sse", None)?;
    let then = r#"
      client.addEventListener(MCP.ServerEvents.ToolResult, (e) => {
        log("result", e.data.payload.content[0].text);
        client.close();
        call.hangup();
      });
      client.callTool({ name: "echo", arguments: { message: "over sse" } });
    "#;
    let run = run(&connect_then(
        &format!(
            r#"{{ transport: "http", endpoint: "{}" }}"#,
            server.url("/sse")
        ),
        then,
    ))?;
    let connected = logged(&run, "connected");
    assert!(
        connected.len() == 1 && connected[0].ends_with(" sse"),
        "{}",
        run.transcript
    );
    assert_eq!(logged(&run, "result"), ["over sse"]);
    call_went_on(&run);
    Ok(())
}

/// Runs `then` (see [`connect_then`]) against the Python SDK server once over streamable HTTP
/// and once over legacy SSE; each run with the transport it used.
fn on_both_http_transports(then: &str) -> Result<Vec<(&'static str, Run)>> {
    let mut runs = Vec::new();
    for (server_transport, transport, path) in
        [("streamable-http", "http", "/mcp"), ("sse", "sse", "/sse")]
    {
        let server = python_server(PyMcp::V2, server_transport, None)?;
        let config = format!(
            r#"{{ transport: "{transport}", endpoint: "{}" }}"#,
            server.url(path)
        );
        runs.push((transport, run(&connect_then(&config, then))?));
    }
    Ok(runs)
}

#[test]
fn a_log_message_inside_a_request_is_a_logging_message_event() -> Result<()> {
    let then = r#"
          client.addEventListener(MCP.ServerEvents.LoggingMessage, (e) => log("server-log", e.data.payload));
          client.addEventListener(MCP.ServerEvents.ToolResult, (e) => {
            log("result", e.data.payload.content[0].text);
            client.close();
            call.hangup();
          });
          client.callTool({ name: "tell", arguments: { message: "rolling now" } });
        "#;
    for (transport, run) in on_both_http_transports(then)? {
        let logs = logged(&run, "server-log");
        assert_eq!(logs.len(), 1, "{transport}: {}", run.transcript);
        let message: serde_json::Value = serde_json::from_str(&logs[0])?;
        assert_eq!(message["level"], "info", "{transport}: {message}");
        assert_eq!(message["data"], "rolling now", "{transport}: {message}");
        assert_eq!(logged(&run, "result"), ["told"], "{transport}");
        call_went_on(&run);
    }
    Ok(())
}

#[test]
fn call_tool_meta_reaches_the_server() -> Result<()> {
    let then = r#"
      client.addEventListener(MCP.ServerEvents.ToolResult, (e) => {
        log("result", e.data.payload.content[0].text);
        client.close();
        call.hangup();
      });
      client.callTool({ name: "meta", arguments: {}, _meta: { traceId: "call-42" } });
    "#;
    for (transport, run) in on_both_http_transports(then)? {
        let sent: serde_json::Value = serde_json::from_str(&logged(&run, "result")[0])?;
        assert_eq!(sent["traceId"], "call-42", "{transport}: {sent}");
        call_went_on(&run);
    }
    Ok(())
}

#[test]
fn a_failing_tool_is_a_tool_result_with_is_error() -> Result<()> {
    let then = r#"
          client.addEventListener(MCP.ServerEvents.MCPError, (e) => log("error", e.data.payload));
          client.addEventListener(MCP.ServerEvents.ToolResult, (e) => {
            log("result", e.data.payload);
            client.close();
            call.hangup();
          });
          client.callTool({ name: "fail", arguments: { message: "the dice fell off the table" } });
        "#;
    for (transport, run) in on_both_http_transports(then)? {
        assert!(
            logged(&run, "error").is_empty(),
            "{transport}: {}",
            run.transcript
        );
        let result: serde_json::Value = serde_json::from_str(&logged(&run, "result")[0])?;
        assert_eq!(result["isError"], true, "{transport}: {result}");
        assert!(
            result["content"][0]["text"]
                .as_str()
                .is_some_and(|t| t.contains("the dice fell off the table")),
            "{transport}: {result}"
        );
        call_went_on(&run);
    }
    Ok(())
}

#[test]
fn request_timeout_yields_mcp_error_and_the_client_stays_usable() -> Result<()> {
    let server = python_server(PyMcp::V2, "streamable-http", None)?;
    let then = error_then_echo(r#"{ name: "hang", arguments: {} }"#, "still here");
    let run = run(&connect_then(
        &format!(
            r#"{{ transport: "http", endpoint: "{}", requestTimeout: 1 }}"#,
            server.url("/mcp")
        ),
        &then,
    ))?;
    let error: serde_json::Value = serde_json::from_str(&logged(&run, "error")[0])?;
    assert_eq!(error["code"], "timeout", "{}", run.transcript);
    assert_eq!(error["method"], "tools/call");
    assert_eq!(
        error["error"],
        "no result within 1 s (requestTimeout); the request was cancelled on the server"
    );
    assert_eq!(logged(&run, "result"), ["still here"]);
    assert!(
        server.log().contains("CANCELLED hang"),
        "the timed-out request was cancelled on the server:\n{}",
        server.log()
    );
    call_went_on_and_let_go(&run, server.port);
    Ok(())
}

/// `source` (from [`connect_then`]) with a close listener that also tells the caller and hangs up.
fn goodbye_on_close(source: &str) -> String {
    source.replace(
        r#"onWebSocketClose: (e) => log("closed", e),"#,
        r#"onWebSocketClose: (e) => { log("closed", e); call.say("The service went away."); call.addEventListener(CallEvents.PlaybackFinished, () => call.hangup()); },"#,
    )
}

#[test]
fn server_killed_mid_call() -> Result<()> {
    let mut server = python_server(PyMcp::V2, "streamable-http", None)?;
    let url = server.url("/mcp");
    let port = server.port;
    let then = r#"
      client.addEventListener(MCP.ServerEvents.MCPError, (e) => log("error", e.data.payload));
      client.callTool({ name: "hang", arguments: {} });
    "#;
    let source = goodbye_on_close(&connect_then(
        &format!(r#"{{ transport: "http", endpoint: "{url}" }}"#),
        then,
    ));
    // Killed once the request is in flight on the server (its "STARTED hang" line).
    let killer = std::thread::spawn(move || {
        let started = server.wait_for_log("STARTED hang", 1, Duration::from_secs(30));
        server.kill();
        started
    });
    let run = run(&source)?;
    assert!(
        killer.join().expect("killer thread"),
        "the hang request never reached the server"
    );
    let error: serde_json::Value = serde_json::from_str(&logged(&run, "error")[0])?;
    let closed: serde_json::Value = serde_json::from_str(&logged(&run, "closed")[0])?;
    // Killed with the request's answer stream open: the stream breaks (or, when the kill
    // lands between reads, simply ends); either way the request and the client say so.
    let broken = "the connection was reset";
    let ended = "the connection to the MCP server closed";
    let says = (
        error["code"].as_str().unwrap_or_default(),
        error["error"].as_str().unwrap_or_default(),
    );
    assert!(
        says == ("transport_error", broken) || says == ("transport_closed", ended),
        "{error}"
    );
    assert_eq!(closed["reason"], error["error"], "{closed}");
    assert!(closed["code"] == 1006 || closed["code"] == 1011, "{closed}");
    assert_eq!(closed["wasClean"], false);
    assert_eq!(
        logged(&run, "closed").len(),
        1,
        "onWebSocketClose fires once"
    );
    call_went_on_and_let_go(&run, port);
    Ok(())
}

#[test]
fn an_idle_client_learns_that_its_server_is_gone() -> Result<()> {
    // No request is in flight when the server dies: the client notices by itself, over
    // streamable HTTP when its event stream cannot be reopened (bindings/src/mcp/http.rs,
    // `Reconnect`), over legacy SSE when its one stream ends.
    for (server_transport, transport, path) in
        [("streamable-http", "http", "/mcp"), ("sse", "sse", "/sse")]
    {
        let mut server = python_server(PyMcp::V2, server_transport, None)?;
        let config = format!(
            r#"{{ transport: "{transport}", endpoint: "{}" }}"#,
            server.url(path)
        );
        let port = server.port;
        let source = goodbye_on_close(&connect_then(&config, ""));
        // Killed once the handshake is over: the server has answered notifications/initialized
        // with 202 (over legacy SSE, initialize's POST is answered 202 too).
        let (answered, count) = if transport == "http" {
            ("HTTP DONE POST /mcp 202", 1)
        } else {
            ("HTTP DONE POST /messages/ 202", 2)
        };
        let killer = std::thread::spawn(move || {
            let connected = server.wait_for_log(answered, count, Duration::from_secs(30));
            server.kill();
            connected
        });
        let run = run(&source)?;
        assert!(
            killer.join().expect("killer thread"),
            "{transport}: the client never finished its handshake"
        );
        let t = &run.transcript;
        assert_eq!(logged(&run, "connected").len(), 1, "{transport}: {t}");
        let closes = closes(&run)?;
        assert_eq!(
            closes.len(),
            1,
            "{transport}: onWebSocketClose fires once: {t}"
        );
        assert_eq!(closes[0]["code"], 1006, "{transport}: {t}");
        assert_eq!(closes[0]["wasClean"], false, "{transport}: {t}");
        let reason = if transport == "http" {
            format!(
                "the MCP server stopped accepting connections (4 attempts to reopen its event \
                 stream failed): error sending request for url (http://127.0.0.1:{port}/mcp): \
                 tcp connect error: connection refused"
            )
        } else {
            "the MCP server closed the connection".to_owned()
        };
        assert_eq!(closes[0]["reason"], reason, "{transport}: {t}");
        call_went_on_and_let_go(&run, port);
    }
    Ok(())
}

#[test]
fn ten_megabyte_result_is_refused_and_the_call_goes_on() -> Result<()> {
    let server = python_server(PyMcp::V2, "streamable-http", None)?;
    let then = error_then_echo(r#"{ name: "big", arguments: { megabytes: 10 } }"#, "small");
    let run = run(&connect_then(
        &format!(
            r#"{{ transport: "http", endpoint: "{}" }}"#,
            server.url("/mcp")
        ),
        &then,
    ))?;
    let error: serde_json::Value = serde_json::from_str(&logged(&run, "error")[0])?;
    assert_eq!(error["code"], "result_too_large", "{error}");
    assert_eq!(logged(&run, "result"), ["small"]);
    call_went_on_and_let_go(&run, server.port);
    Ok(())
}

#[test]
fn allowed_tools_filters_the_list_and_refuses_other_calls() -> Result<()> {
    let server = python_server(PyMcp::V2, "sse", None)?;
    let then = r#"
      client.addEventListener(MCP.ServerEvents.ToolsList, (e) => {
        log("tools", e.data.payload.tools.map((t) => t.name));
        client.callTool({ name: "roll", arguments: { diceRollExpression: "1d6" } });
      });
      client.addEventListener(MCP.ServerEvents.MCPError, (e) => {
        log("error", e.data.payload);
        client.close();
        call.hangup();
      });
      client.listTools({});
    "#;
    let run = run(&connect_then(
        &format!(
            r#"{{ transport: "sse", endpoint: "{}", allowedTools: ["echo"] }}"#,
            server.url("/sse")
        ),
        then,
    ))?;
    assert_eq!(logged(&run, "tools"), [r#"["echo"]"#]);
    let error: serde_json::Value = serde_json::from_str(&logged(&run, "error")[0])?;
    assert_eq!(error["code"], "tool_not_allowed");
    assert_eq!(error["error"], "tool 'roll' is not in allowedTools");
    call_went_on(&run);
    Ok(())
}

#[test]
fn negotiates_every_tested_protocol_revision() -> Result<()> {
    for (version, transport, path) in [
        ("2025-11-25", "http", "/mcp"),
        ("2025-06-18", "http", "/mcp"),
        ("2025-03-26", "http", "/mcp"),
        ("2024-11-05", "sse", "/sse"),
    ] {
        let py_transport = if transport == "http" {
            "streamable-http"
        } else {
            "sse"
        };
        for py in [PyMcp::V2, PyMcp::V1] {
            let server = python_server(py, py_transport, None)?;
            let then = r#"
              client.addEventListener(MCP.ServerEvents.ToolResult, (e) => { log("result", e.data.payload.content[0].text); client.close(); call.hangup(); });
              client.callTool({ name: "echo", arguments: { message: "v" } });
            "#;
            let config = format!(
                r#"{{ transport: "{transport}", endpoint: "{}", protocolVersion: "{version}" }}"#,
                server.url(path)
            );
            let run = run(&connect_then(&config, then))?;
            assert_eq!(
                logged(&run, "connected"),
                [format!("{version} {transport}")],
                "{py:?}: {}",
                run.transcript
            );
            assert_eq!(logged(&run, "result"), ["v"]);
            call_went_on(&run);
        }
    }
    Ok(())
}

#[test]
fn stdio_needs_the_application_to_allow_it() -> Result<()> {
    let run = run(&connect_then(
        r#"{ transport: "stdio", command: "python3", args: ["-c", "pass"] }"#,
        "",
    ))?;
    assert_eq!(
        rejected(&run),
        "ERR_MCP_STDIO_FORBIDDEN: MCP.createClient: the stdio transport is not allowed for \
         application 'default' (set allow_stdio = true in its [application.mcp] config)"
    );
    call_went_on(&run);
    Ok(())
}

#[test]
fn expired_session_reinitializes_once_and_retries() -> Result<()> {
    // The server restarts on the same port between two calls: the old session id gets 404.
    let port = free_port()?;
    let mut server = dialtone_tests::peers::python_server_on(PyMcp::V2, "streamable-http", port)?;
    let then = r#"
      let n = 0;
      client.addEventListener(MCP.ServerEvents.ToolResult, (e) => {
        log("result", e.data.payload.content[0].text);
        if (++n === 1) setTimeout(() => client.callTool({ name: "echo", arguments: { message: "after restart" } }), 3000);
        else { client.close(); call.hangup(); }
      });
      client.addEventListener(MCP.ServerEvents.MCPError, (e) => { log("error", e.data.payload); client.close(); call.hangup(); });
      client.callTool({ name: "echo", arguments: { message: "before restart" } });
    "#;
    let source = connect_then(
        &format!(r#"{{ transport: "http", endpoint: "http://127.0.0.1:{port}/mcp" }}"#),
        then,
    );
    // Restarted once the first call was served (the scenario waits 3 s before the second);
    // the new server lives until the run is over.
    let restarter = std::thread::spawn(move || -> Result<Peer> {
        anyhow::ensure!(
            server.wait_for_log("ECHO before restart", 1, Duration::from_secs(20)),
            "the first call never reached the server"
        );
        server.kill();
        dialtone_tests::peers::python_server_on(PyMcp::V2, "streamable-http", port)
    });
    let run = run(&source)?;
    let restarted = restarter.join().expect("restarter thread")?;
    assert!(
        restarted.wait_for_log("ECHO after restart", 1, Duration::from_secs(1)),
        "the retried call reached the restarted server:\n{}",
        restarted.log()
    );
    assert_eq!(
        logged(&run, "result"),
        ["before restart", "after restart"],
        "{}",
        run.transcript
    );
    assert!(
        logged(&run, "closed").iter().all(|c| c.contains("1000")),
        "{}",
        run.transcript
    );
    call_went_on(&run);
    Ok(())
}

/// The Python server saw the in-flight request cancelled and the session DELETEd.
fn server_was_told_and_let_go(server: &Peer) {
    let log = server.log();
    assert!(
        log.contains("CANCELLED"),
        "the server saw notifications/cancelled:\n{log}"
    );
    assert!(
        log.contains("HTTP DELETE /mcp"),
        "the server saw the session DELETE:\n{log}"
    );
}

#[test]
fn hangup_cancels_in_flight_requests_and_closes_the_transport() -> Result<()> {
    let server = python_server(PyMcp::V2, "streamable-http", None)?;
    let then = r#" client.callTool({ name: "hang", arguments: {} }); "#;
    let options = ConsoleOptions {
        caller: CallerScript {
            hangup_after: Some(Duration::from_secs(2)),
            ..CallerScript::default()
        },
        ..ConsoleOptions::default()
    };
    let source = connect_then(
        &format!(
            r#"{{ transport: "http", endpoint: "{}" }}"#,
            server.url("/mcp")
        ),
        then,
    );
    let run = run_source(&source, options)?;
    assert_eq!(run.end, EndReason::Terminated, "{}", run.transcript);
    assert_eq!(run.tasks_left, 0);
    assert_eq!(
        dialtone_tests::peers::connections_closed_within(server.port, Duration::from_secs(25))?,
        0,
        "connections left open"
    );
    // Nothing fires after the session ends: no onWebSocketClose, no MCPError.
    assert!(logged(&run, "closed").is_empty(), "{}", run.transcript);
    server_was_told_and_let_go(&server);
    Ok(())
}

#[test]
fn close_with_a_request_in_flight_is_clean_and_cancels_it() -> Result<()> {
    let server = python_server(PyMcp::V2, "streamable-http", None)?;
    let then = r#"
      client.addEventListener(MCP.ServerEvents.ToolResult, (e) => log("result", e.data));
      client.addEventListener(MCP.ServerEvents.MCPError, (e) => log("error", e.data));
      client.callTool({ name: "hang", arguments: {} });
      setTimeout(() => { client.close(); client.close(); setTimeout(() => call.hangup(), 1000); }, 500);
    "#;
    let config = format!(
        r#"{{ transport: "http", endpoint: "{}" }}"#,
        server.url("/mcp")
    );
    let run = run(&connect_then(&config, then))?;
    let t = &run.transcript;
    let closes = closes(&run)?;
    assert_eq!(closes.len(), 1, "onWebSocketClose fires once: {t}");
    assert_eq!(closes[0]["code"], 1000, "{t}");
    assert_eq!(closes[0]["wasClean"], true, "{t}");
    // The request ends with the client: the server is told, the scenario hears nothing more.
    assert!(
        logged(&run, "result").is_empty() && logged(&run, "error").is_empty(),
        "{t}"
    );
    server_was_told_and_let_go(&server);
    call_went_on_and_let_go(&run, server.port);
    Ok(())
}

/// Runs `then` (see [`connect_then`]) against the SDK-free stdio peer, in an application that
/// allows stdio, with one optional environment variable for the peer.
fn run_on_paged_stdio(env: Option<(&str, &str)>, then: &str) -> Result<Run> {
    let script = dialtone_tests::workspace_root().join("tests/peers/paged_stdio_server.py");
    let env = env
        .map(|(name, value)| format!(", env: {{ {name}: {value:?} }}"))
        .unwrap_or_default();
    let config = format!(
        r#"{{ transport: "stdio", command: "python3", args: [{:?}]{env} }}"#,
        script.display().to_string()
    );
    let options = ConsoleOptions {
        mcp: dialtone_bindings::mcp::McpPolicy { allow_stdio: true },
        ..ConsoleOptions::default()
    };
    run_source(&connect_then(&config, then), options)
}

#[test]
fn stdio_server_pages_and_notifies_when_the_application_allows_it() -> Result<()> {
    let then = r#"
      let lists = 0;
      client.addEventListener(MCP.ServerEvents.ToolsList, (e) => {
        log("tools", { names: e.data.payload.tools.map((t) => t.name), nextCursor: e.data.payload.nextCursor || null });
        if (++lists === 2) client.callTool({ name: "notify", arguments: {} });
      });
      client.addEventListener(MCP.ServerEvents.ToolsListChanged, () => log("changed", "tools"));
      client.addEventListener(MCP.ServerEvents.LoggingMessage, (e) => log("server-log", e.data.payload));
      client.addEventListener(MCP.ServerEvents.Unknown, (e) => log("unknown", e.data.payload));
      const removed = () => log("removed-listener-fired", "LoggingMessage");
      client.addEventListener(MCP.ServerEvents.LoggingMessage, removed);
      client.removeEventListener(MCP.ServerEvents.LoggingMessage, removed);
      const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
      log("ids", { id: uuid.test(client.id()), webSocketId: uuid.test(client.webSocketId()), distinct: client.id() !== client.webSocketId() });
      client.addEventListener(MCP.ServerEvents.ToolResult, (e) => {
        log("result", e.data.payload.content[0].text);
        client.close();
        call.hangup();
      });
      client.listTools({});
      client.listTools({ all: true });
    "#;
    let run = run_on_paged_stdio(None, then)?;
    assert_eq!(
        logged(&run, "connected"),
        ["2025-11-25 stdio"],
        "{}",
        run.transcript
    );
    assert_eq!(
        logged(&run, "tools"),
        [
            r#"{"names":["tool-1","tool-2","tool-3"],"nextCursor":"3"}"#,
            r#"{"names":["tool-1","tool-2","tool-3","tool-4","tool-5","tool-6","notify"],"nextCursor":null}"#,
        ]
    );
    assert_eq!(logged(&run, "changed"), ["tools"]);
    assert_eq!(
        logged(&run, "unknown"),
        [r#"{"method":"notifications/dialtone/weather","params":{"sky":"clear"}}"#]
    );
    assert!(logged(&run, "removed-listener-fired").is_empty());
    assert_eq!(
        logged(&run, "ids"),
        [r#"{"id":true,"webSocketId":true,"distinct":true}"#]
    );
    let server_log: serde_json::Value = serde_json::from_str(&logged(&run, "server-log")[0])?;
    assert_eq!(server_log["data"], "hello from the server");
    assert_eq!(server_log["level"], "info");
    assert_eq!(logged(&run, "result"), ["called notify"]);
    call_went_on(&run);
    Ok(())
}

#[test]
fn list_all_stops_at_64_pages_and_says_where_the_rest_starts() -> Result<()> {
    let then = r#"
      client.addEventListener(MCP.ServerEvents.ToolsList, (e) => {
        log("tools", { count: e.data.payload.tools.length, nextCursor: e.data.payload.nextCursor || null });
        client.close();
        call.hangup();
      });
      client.listTools({ all: true });
    "#;
    let run = run_on_paged_stdio(Some(("PAGED_TOOLS", "300")), then)?;
    // 64 pages of 3 tools; the rest of the 301 starts at 192.
    assert_eq!(
        logged(&run, "tools"),
        [r#"{"count":192,"nextCursor":"192"}"#],
        "{}",
        run.transcript
    );
    call_went_on(&run);
    Ok(())
}

#[test]
fn a_server_answering_an_older_revision_is_spoken_to_in_it() -> Result<()> {
    let then = r#"
      client.addEventListener(MCP.ServerEvents.ToolResult, (e) => {
        log("result", e.data.payload.content[0].text);
        client.close();
        call.hangup();
      });
      client.callTool({ name: "notify", arguments: {} });
    "#;
    let run = run_on_paged_stdio(Some(("ANSWER_REVISION", "2025-03-26")), then)?;
    // Offered 2025-11-25, answered 2025-03-26: the client takes the server's word.
    assert_eq!(
        logged(&run, "connected"),
        ["2025-03-26 stdio"],
        "{}",
        run.transcript
    );
    assert_eq!(logged(&run, "result"), ["called notify"]);
    call_went_on(&run);
    Ok(())
}

#[test]
fn progress_keeps_a_long_call_alive_past_the_request_timeout() -> Result<()> {
    let server = python_server(PyMcp::V2, "streamable-http", None)?;
    let then = r#"
      let progress = 0;
      client.addEventListener(MCP.ServerEvents.Progress, () => progress++);
      client.addEventListener(MCP.ServerEvents.ToolResult, (e) => {
        log("result", e.data.payload.content[0].text + " after " + (progress > 3 ? "progress" : "no progress"));
        client.close();
        call.hangup();
      });
      client.addEventListener(MCP.ServerEvents.MCPError, (e) => { log("error", e.data.payload); client.close(); call.hangup(); });
      client.callTool({ name: "slow", arguments: { seconds: 2.5 }, progress: true });
    "#;
    let run = run(&connect_then(
        &format!(
            r#"{{ transport: "http", endpoint: "{}", requestTimeout: 1 }}"#,
            server.url("/mcp")
        ),
        then,
    ))?;
    assert_eq!(
        logged(&run, "result"),
        ["slept 2.5 after progress"],
        "{}",
        run.transcript
    );
    call_went_on(&run);
    Ok(())
}
