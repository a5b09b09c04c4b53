//! The MCP client against npm @modelcontextprotocol/server-everything: every content type,
//! structured content, progress, resources, prompts, the tools/list_changed notification, and
//! results in request order with their request ids, sequential calls on one keep-alive
//! connection, and MCP under `--sim-time`.

use anyhow::Result;
use dialtone::console::ConsoleOptions;
use dialtone_bindings::host::EndReason;
use dialtone_tests::peers::server_everything;
use dialtone_tests::proxy::CountingProxy;
use dialtone_tests::scenario::{Run, run_source};

/// A scenario that exercises the server and logs one JSON line per event it sees.
const SCENARIO: &str = r#"
require(Modules.MCP);
const E = MCP.ServerEvents;
const log = (tag, value) => Logger.write(tag + " " + JSON.stringify(value));
VoxEngine.addEventListener(AppEvents.CallAlerting, async ({ call }) => {
  call.answer();
  const client = await MCP.createClient({
    mcpServerConnectionConfig: { transport: TRANSPORT, endpoint: ENDPOINT, clientName: "dialtone-test", clientVersion: "9.9.9" },
    onWebSocketClose: (e) => { log("closed", e); VoxEngine.terminate(); },
  });
  const ids = [];
  for (const name of Object.keys(E)) {
    client.addEventListener(E[name], (e) => {
      if (e.name !== E[name] || e.client !== client) log("bad-event", { name, got: e.name });
      if (name === "ToolsList") log(name, { requestId: e.data.requestId, names: e.data.payload.tools.map((t) => t.name), nextCursor: e.data.payload.nextCursor });
      else if (name === "ConnectorInformation") log(name, { serverInfo: e.data.payload.serverInfo.name, protocolVersion: e.data.payload.protocolVersion, transport: e.data.payload.transport, hasTools: !!e.data.payload.capabilities.tools });
      else log(name, e.data);
      if (name === "ToolResult" || name === "MCPError" || name === "ResourcesList" || name === "ResourceContent" || name === "PromptsList" || name === "PromptResult" || name === "ToolsList") {
        ids.push(e.data.requestId);
        if (ids.length === sent.length) {
          log("order", { sent, received: ids });
          client.close();
        }
      }
    });
  }
  const sent = [
    client.callTool({ name: "trigger-long-running-operation", arguments: { duration: 1, steps: 4 }, progress: true }),
    client.callTool({ name: "echo", arguments: { message: "hello" } }),
    client.listTools({}),
    client.callTool({ name: "get-sum", arguments: { a: 2, b: 3 } }),
    client.callTool({ name: "get-tiny-image", arguments: {} }),
    client.callTool({ name: "get-structured-content", arguments: { location: "New York" } }),
    client.callTool({ name: "get-annotated-message", arguments: { messageType: "error", includeImage: true } }),
    client.callTool({ name: "get-resource-links", arguments: { count: 2 } }),
    client.callTool({ name: "get-resource-reference", arguments: { resourceType: "Text", resourceId: 1 } }),
    client.callTool({ name: "no-such-tool", arguments: {} }),
    client.listResources({ all: true }),
    client.readResource({ uri: "demo://resource/static/document/architecture.md" }),
    client.listPrompts({}),
    client.getPrompt({ name: "args-prompt", arguments: { city: "Paris", state: "Texas" } }),
  ];
});
"#;

fn run(mode: &str, transport: &str, path: &str) -> Result<Run> {
    let server = server_everything(mode)?;
    let source = SCENARIO
        .replace("TRANSPORT", &format!("{transport:?}"))
        .replace("ENDPOINT", &format!("{:?}", server.url(path)));
    run_source(&source, ConsoleOptions::default())
}

fn events(run: &Run, tag: &str) -> Vec<serde_json::Value> {
    run.logs()
        .iter()
        .filter_map(|l| l.strip_prefix(&format!("{tag} ")))
        .map(|j| serde_json::from_str(j).expect("logged JSON"))
        .collect()
}

fn check(run: &Run, transport: &str) {
    let t = &run.transcript;
    assert!(events(run, "bad-event").is_empty(), "{t}");
    let info = &events(run, "ConnectorInformation")[0];
    assert_eq!(info["serverInfo"], "mcp-servers/everything", "{t}");
    assert_eq!(info["transport"], transport, "{t}");
    assert_eq!(info["hasTools"], true, "{t}");
    let version = info["protocolVersion"].as_str().unwrap_or_default();
    assert!(
        ["2025-11-25", "2025-06-18", "2025-03-26"].contains(&version),
        "{t}"
    );

    // Results arrive in request order, each once, with the request id the method returned.
    let order = &events(run, "order")[0];
    assert_eq!(order["sent"], order["received"], "{t}");
    assert_eq!(order["sent"].as_array().map(Vec::len), Some(14), "{t}");

    let results = events(run, "ToolResult");
    let text = |i: usize| {
        results[i]["payload"]["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(text(0).contains("Long running operation completed"), "{t}");
    assert_eq!(text(1), "Echo: hello");
    assert!(text(2).contains("The sum of 2 and 3 is 5"), "{t}");
    let image = &results[3]["payload"]["content"];
    assert!(
        image
            .as_array()
            .is_some_and(|c| c.iter().any(|x| x["type"] == "image"
                && x["mimeType"] == "image/png"
                && x["data"].as_str().is_some_and(|d| d.len() > 100))),
        "{t}"
    );
    assert!(
        results[4]["payload"]["structuredContent"].is_object(),
        "structuredContent: {t}"
    );
    let annotated = &results[5]["payload"]["content"];
    assert!(
        annotated
            .as_array()
            .is_some_and(|c| c.iter().any(|x| x["annotations"]["priority"].is_number())),
        "annotations: {t}"
    );
    assert!(
        results[6]["payload"]["content"]
            .as_array()
            .is_some_and(|c| c.iter().any(|x| x["type"] == "resource_link")),
        "resource links: {t}"
    );
    assert!(
        results[7]["payload"]["content"]
            .as_array()
            .is_some_and(|c| c
                .iter()
                .any(|x| x["type"] == "resource" && x["resource"]["uri"].is_string())),
        "embedded resource: {t}"
    );
    // A tool the server does not have: a JSON-RPC error or a tool error, never silence.
    let unknown_tool = events(run, "MCPError")
        .into_iter()
        .chain(results.iter().skip(8).cloned())
        .count();
    assert!(unknown_tool >= 1, "{t}");

    let progress = events(run, "Progress");
    assert!(progress.len() >= 3, "progress events: {t}");
    assert_eq!(progress[0]["payload"]["requestId"], order["sent"][0], "{t}");
    assert!(progress.iter().all(|p| p["payload"]["total"] == 4), "{t}");

    let tools = &events(run, "ToolsList")[0];
    assert!(
        tools["names"]
            .as_array()
            .is_some_and(|n| n.iter().any(|x| x == "echo")),
        "{t}"
    );
    // server-everything sends tools/list_changed while it handles notifications/initialized.
    // Over streamable HTTP that goes to the session's GET stream, which the client opens
    // before it sends the notification (bindings/src/mcp/early_stream.rs).
    assert!(
        !events(run, "ToolsListChanged").is_empty(),
        "tools/list_changed after initialize: {t}"
    );
    let resources = &events(run, "ResourcesList")[0];
    assert!(
        resources["payload"]["resources"]
            .as_array()
            .is_some_and(|r| r.len() >= 7),
        "{t}"
    );
    let content = &events(run, "ResourceContent")[0];
    assert!(
        content["payload"]["contents"][0]["text"]
            .as_str()
            .is_some_and(|x| !x.is_empty()),
        "{t}"
    );
    assert!(
        events(run, "PromptsList")[0]["payload"]["prompts"]
            .as_array()
            .is_some_and(|p| p.iter().any(|x| x["name"] == "args-prompt")),
        "{t}"
    );
    let prompt = &events(run, "PromptResult")[0];
    assert!(
        prompt["payload"]["messages"][0]["content"]["text"]
            .as_str()
            .is_some_and(|x| x.contains("Paris")),
        "{t}"
    );

    assert_eq!(events(run, "closed")[0]["code"], 1000, "{t}");
    assert_eq!(run.end, EndReason::Terminated, "{t}");
    assert_eq!(run.tasks_left, 0, "tasks left behind");
}

#[test]
fn everything_over_streamable_http() -> Result<()> {
    let run = run("streamableHttp", "http", "/mcp")?;
    check(&run, "http");
    Ok(())
}

#[test]
fn everything_over_legacy_sse() -> Result<()> {
    let run = run("sse", "sse", "/sse")?;
    check(&run, "sse");
    Ok(())
}

/// Sequential calls, each started from the previous result (as a voice agent makes them).
const SEQUENTIAL: &str = r#"
require(Modules.MCP);
VoxEngine.addEventListener(AppEvents.CallAlerting, async ({ call }) => {
  call.answer();
  const client = await MCP.createClient({ mcpServerConnectionConfig: { transport: TRANSPORT, endpoint: ENDPOINT } });
  let left = CALLS;
  client.addEventListener(MCP.ServerEvents.ToolResult, (e) => {
    if (e.data.payload.content[0].text !== "Echo: hi") Logger.write("unexpected " + JSON.stringify(e.data.payload));
    if (--left > 0) return client.callTool({ name: "echo", arguments: { message: "hi" } });
    Logger.write("done");
    client.close();
    VoxEngine.terminate();
  });
  client.addEventListener(MCP.ServerEvents.MCPError, (e) => {
    Logger.write("error " + JSON.stringify(e.data));
    VoxEngine.terminate();
  });
  client.callTool({ name: "echo", arguments: { message: "hi" } });
});
"#;

/// Calls made one after the other share one keep-alive connection. A client that opens a
/// connection per request pays a TCP handshake on every call and costs the server more (rmcp
/// with its default client and protocol revision does that against server-everything, whose
/// POST responses carry SSE event ids). Counted at a relay in front of the server.
fn keeps_connections(mode: &str, transport: &str, path: &str) -> Result<()> {
    const CALLS: usize = 30;
    let server = server_everything(mode)?;
    let proxy = CountingProxy::start(server.port)?;
    let source = SEQUENTIAL
        .replace("TRANSPORT", &format!("{transport:?}"))
        .replace(
            "ENDPOINT",
            &format!("\"http://127.0.0.1:{}{path}\"", proxy.port),
        )
        .replace("CALLS", &CALLS.to_string());
    let run = run_source(&source, ConsoleOptions::default())?;
    let t = &run.transcript;
    assert_eq!(run.logs(), vec!["done".to_owned()], "{t}");
    // One for the POSTs, one for the server's stream (the GET), one spare for a pool race.
    let connections = proxy.connections();
    assert!(
        connections <= 3,
        "{CALLS} sequential calls over {transport} opened {connections} connections\n{t}"
    );
    assert_eq!(run.tasks_left, 0, "tasks left behind");
    Ok(())
}

#[test]
fn sequential_calls_keep_one_connection_over_streamable_http() -> Result<()> {
    keeps_connections("streamableHttp", "http", "/mcp")
}

#[test]
fn sequential_calls_keep_one_connection_over_legacy_sse() -> Result<()> {
    keeps_connections("sse", "sse", "/sse")
}

/// Sessions one after the other share the process's connection pool: each opens its own
/// event stream (a GET held for the session), but their POSTs go over one kept-alive
/// connection. With a pool per session, each session would open two.
#[test]
fn sessions_share_the_process_connection_pool() -> Result<()> {
    const SESSIONS: usize = 5;
    let server = server_everything("streamableHttp")?;
    let proxy = CountingProxy::start(server.port)?;
    let source = SEQUENTIAL
        .replace("TRANSPORT", "\"http\"")
        .replace(
            "ENDPOINT",
            &format!("\"http://127.0.0.1:{}/mcp\"", proxy.port),
        )
        .replace("CALLS", "3");
    for _ in 0..SESSIONS {
        let run = run_source(&source, ConsoleOptions::default())?;
        assert_eq!(run.logs(), vec!["done".to_owned()], "{}", run.transcript);
    }
    // One GET per session, one connection for every POST, one spare for a pool race.
    let connections = proxy.connections();
    assert!(
        connections <= SESSIONS + 2,
        "{SESSIONS} sessions opened {connections} connections"
    );
    Ok(())
}

/// `dialtone console --sim-time`: timers before the first MCP client run on the simulated clock;
/// the client then switches the session to real time (and says so), so its connect and
/// requests are not timed out by a clock that jumps while the network answers.
#[test]
fn simulated_time_gives_way_to_real_time_for_mcp() -> Result<()> {
    let server = server_everything("streamableHttp")?;
    let source = r#"
require(Modules.MCP);
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.answer();
  setTimeout(async () => {
    Logger.write("an hour later");
    const client = await MCP.createClient({ mcpServerConnectionConfig: { transport: "http", endpoint: ENDPOINT } });
    client.addEventListener(MCP.ServerEvents.ToolResult, (e) => {
      Logger.write("result " + e.data.payload.content[0].text);
      client.close();
      VoxEngine.terminate();
    });
    client.addEventListener(MCP.ServerEvents.MCPError, (e) => { Logger.write("error " + JSON.stringify(e.data)); VoxEngine.terminate(); });
    client.callTool({ name: "echo", arguments: { message: "hi" } });
  }, 3600 * 1000);
});
"#
    .replace("ENDPOINT", &format!("{:?}", server.url("/mcp")));
    let started = std::time::Instant::now();
    let options = ConsoleOptions {
        simulated_time: true,
        ..ConsoleOptions::default()
    };
    let run = run_source(&source, options)?;
    let t = &run.transcript;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "the hour was not simulated\n{t}"
    );
    assert_eq!(run.logs(), ["an hour later", "result Echo: hi"], "{t}");
    assert!(
        run.lines_of("warn")
            .iter()
            .any(|l| l.contains("simulated time ends here")),
        "{t}"
    );
    assert!(run.end.is_normal(), "{t}");
    Ok(())
}

/// A scenario that ends the session in its ConnectorInformation handler sees nothing after:
/// the tools/list_changed server-everything sends during the handshake is not delivered. A
/// control run without terminate shows the notification is sent and delivered otherwise.
#[test]
fn nothing_is_delivered_after_terminate_in_connector_information() -> Result<()> {
    let server = server_everything("sse")?;
    let source = r#"
require(Modules.MCP);
VoxEngine.addEventListener(AppEvents.CallAlerting, async ({ call }) => {
  call.answer();
  const client = await MCP.createClient({ mcpServerConnectionConfig: { transport: "sse", endpoint: ENDPOINT } });
  client.addEventListener(MCP.ServerEvents.ToolsListChanged, () => Logger.write("late tools/list_changed"));
  client.addEventListener(MCP.ServerEvents.ConnectorInformation, () => {
    Logger.write("connected");
    VoxEngine.terminate();
  });
});
"#
    .replace("ENDPOINT", &format!("{:?}", server.url("/sse")));
    let run = run_source(&source, ConsoleOptions::default())?;
    assert_eq!(run.logs(), ["connected"], "{}", run.transcript);
    assert_eq!(run.end, EndReason::Terminated);
    // The same handshake without terminate: the notification is sent, and delivered (so the
    // run above proves something was held back).
    let control = source
        .replace(
            "Logger.write(\"connected\");\n    VoxEngine.terminate();",
            "Logger.write(\"connected\");\n    setTimeout(() => VoxEngine.terminate(), 5000);",
        )
        .replace(
            "() => Logger.write(\"late tools/list_changed\")",
            "() => { Logger.write(\"late tools/list_changed\"); VoxEngine.terminate(); }",
        );
    assert_ne!(control, source, "the control scenario differs");
    let run = run_source(&control, ConsoleOptions::default())?;
    assert_eq!(
        run.logs(),
        ["connected", "late tools/list_changed"],
        "{}",
        run.transcript
    );
    Ok(())
}
