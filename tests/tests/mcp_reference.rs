//! The VoxEngine reference MCP scenario (shared/seeds/004_*), unchanged, against the Python
//! SDK's servers (mcp 2.x and 1.x) over legacy SSE and streamable HTTP, with a Bearer token.

use std::collections::BTreeMap;

use anyhow::Result;
use dialtone::console::ConsoleOptions;
use dialtone_bindings::host::EndReason;
use dialtone_tests::peers::{PyMcp, python_server};
use dialtone_tests::scenario::{Run, reference_mcp_scenario, run_source};

const TOKEN: &str = "s3cret-token";

fn run_reference(url: &str, token: &str) -> Result<Run> {
    let options = ConsoleOptions {
        secrets: BTreeMap::from([
            ("MCP_SERVER_URL".to_string(), url.to_string()),
            ("MCP_SERVER_TOKEN".to_string(), token.to_string()),
        ]),
        ..ConsoleOptions::default()
    };
    run_source(&reference_mcp_scenario()?, options)
}

fn assert_rolled(run: &Run) {
    let logs = run.logs();
    let at = |marker: &str| {
        logs.iter()
            .position(|l| l == marker)
            .unwrap_or_else(|| panic!("no {marker} in:\n{}", run.transcript))
    };
    let connected = at("===MCP_CONNECTED===");
    let listed = at("===MCP_TOOLS_LIST===");
    let result = at("===MCP_TOOL_RESULT===");
    assert!(connected < listed && listed < result, "{}", run.transcript);
    let tools: Vec<String> = serde_json::from_str(&logs[listed + 1]).expect("tool names as JSON");
    assert!(tools.contains(&"roll".to_string()), "{tools:?}");
    let data: serde_json::Value =
        serde_json::from_str(&logs[result + 1]).expect("event.data as JSON");
    let text = data["payload"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(text.starts_with("2d6 + 1d4 = "), "{data}");
    assert_eq!(
        data["payload"]["isError"],
        serde_json::json!(false),
        "{data}"
    );
    assert!(data["requestId"].is_number(), "{data}");
    // close() in cleanup fires onWebSocketClose once, cleanly.
    let closed = at("===MCP_CONNECTION_CLOSED===");
    assert_eq!(
        logs[closed + 1],
        r#"{"websocket":null,"code":1000,"reason":"closed by the scenario","wasClean":true}"#
    );
    assert_eq!(run.end, EndReason::Terminated, "{}", run.transcript);
    assert_eq!(run.tasks_left, 0, "tasks left behind");
}

#[test]
fn reference_scenario_over_sse_mcp2() -> Result<()> {
    let server = python_server(PyMcp::V2, "sse", Some(TOKEN))?;
    let run = run_reference(&server.url("/sse"), TOKEN)?;
    assert_rolled(&run);
    assert!(
        run.transcript.contains(r#""transport":"sse""#),
        "{}",
        run.transcript
    );
    Ok(())
}

#[test]
fn reference_scenario_over_streamable_http_mcp2() -> Result<()> {
    // The scenario says transport "sse"; the endpoint speaks streamable HTTP, and the client
    // switches transports instead of failing.
    let server = python_server(PyMcp::V2, "streamable-http", Some(TOKEN))?;
    let run = run_reference(&server.url("/mcp"), TOKEN)?;
    assert_rolled(&run);
    assert!(
        run.transcript.contains(r#""transport":"http""#),
        "{}",
        run.transcript
    );
    Ok(())
}

#[test]
fn reference_scenario_over_sse_mcp1() -> Result<()> {
    let server = python_server(PyMcp::V1, "sse", Some(TOKEN))?;
    assert_rolled(&run_reference(&server.url("/sse"), TOKEN)?);
    Ok(())
}

#[test]
fn reference_scenario_over_streamable_http_mcp1() -> Result<()> {
    let server = python_server(PyMcp::V1, "streamable-http", Some(TOKEN))?;
    assert_rolled(&run_reference(&server.url("/mcp"), TOKEN)?);
    Ok(())
}

#[test]
fn wrong_token_rejects_create_client_with_the_challenge() -> Result<()> {
    for transport in ["sse", "streamable-http"] {
        let server = python_server(PyMcp::V2, transport, Some(TOKEN))?;
        let path = if transport == "sse" { "/sse" } else { "/mcp" };
        let run = run_reference(&server.url(path), "wrong")?;
        let logs = run.logs();
        let at = logs
            .iter()
            .position(|l| l == "===MCP_CLIENT_ERROR===")
            .unwrap_or_else(|| panic!("{}", run.transcript));
        let error = &logs[at + 1];
        assert!(error.contains("answered HTTP 401"), "{transport}: {error}");
        assert!(
            error.contains("WWW-Authenticate: Bearer"),
            "{transport}: {error}"
        );
        assert_eq!(run.end, EndReason::Terminated);
        assert_eq!(run.tasks_left, 0);
    }
    Ok(())
}
