//! Requests of the server answered by the scenario, against npm
//! @modelcontextprotocol/server-everything: `elicitation/create` (answered after a timer, with
//! the schema's defaults filled in), `sampling/createMessage`, `roots/list` from the config;
//! with no listener, elicitation is declined and sampling refused at once; capabilities are
//! offered only when the scenario enables them (the server registers its tools by them).

use anyhow::Result;
use dialtone::console::ConsoleOptions;
use dialtone_tests::peers::server_everything;
use dialtone_tests::scenario::{Run, run_source};
use serde_json::Value;

const SCENARIO: &str = r#"
require(Modules.MCP);
const E = MCP.ServerEvents;
const log = (tag, value) => Logger.write(tag + " " + JSON.stringify(value));
VoxEngine.addEventListener(AppEvents.CallAlerting, async ({ call }) => {
  call.answer();
  const client = await MCP.createClient({
    mcpServerConnectionConfig: { transport: "http", endpoint: ENDPOINT, CAPABILITIES },
    onWebSocketClose: () => VoxEngine.terminate(),
  });
  if (LISTEN) {
    client.addEventListener(E.ElicitationRequest, (e) => {
      log("elicitation", { requestId: e.data.requestId, message: e.data.payload.message, required: e.data.payload.requestedSchema.required });
      // As if the caller answered by voice a moment later.
      setTimeout(() => client.respond(e.data.requestId, { action: "accept", content: { name: "Ada Lovelace", check: true } }), 50);
    });
    client.addEventListener(E.SamplingRequest, (e) => {
      log("sampling", { text: e.data.payload.messages[0].content.text, maxTokens: e.data.payload.maxTokens });
      try { client.respond(e.data.requestId, { role: "assistant" }); } catch (error) { log("refused", { code: error.code, message: error.message }); }
      client.respond(e.data.requestId, { role: "assistant", content: { type: "text", text: "It is sunny." }, model: "scenario-llm", stopReason: "endTurn" });
    });
  }
  const calls = CALLS;
  let left = calls.length;
  const done = (e) => {
    log("result", { requestId: e.data.requestId, payload: e.data.payload });
    if (--left === 0) client.close();
  };
  client.addEventListener(E.ToolResult, done);
  client.addEventListener(E.MCPError, done);
  client.addEventListener(E.ToolsList, done);
  for (const c of calls) {
    if (c === "list") client.listTools({});
    else client.callTool(c);
  }
});
"#;

const ELICIT: &str = r#"{ name: "trigger-elicitation-request", arguments: {} }"#;
const SAMPLE: &str = r#"{ name: "trigger-sampling-request", arguments: { prompt: "weather in Paris?", maxTokens: 20 } }"#;
const ROOTS: &str = r#"{ name: "get-roots-list", arguments: {} }"#;
const ALL_ON: &str = r#"elicitation: true, sampling: true, roots: [{ uri: "file:///srv/calls", name: "call recordings" }]"#;

fn run(capabilities: &str, listen: bool, calls: &[&str]) -> Result<Run> {
    let server = server_everything("streamableHttp")?;
    let source = SCENARIO
        .replace("ENDPOINT", &format!("{:?}", server.url("/mcp")))
        .replace("CAPABILITIES", capabilities)
        .replace("LISTEN", &listen.to_string())
        .replace(
            "CALLS",
            &format!(
                "[{}]",
                calls
                    .iter()
                    .map(|c| if *c == "list" { "\"list\"" } else { c })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    run_source(&source, ConsoleOptions::default())
}

fn logged(run: &Run, tag: &str) -> Vec<Value> {
    run.logs()
        .iter()
        .filter_map(|l| l.strip_prefix(&format!("{tag} ")))
        .map(|j| serde_json::from_str(j).expect("logged JSON"))
        .collect()
}

/// The text of a tool result's content items, joined.
fn text(result: &Value) -> String {
    result["payload"]["content"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_else(|| result["payload"].to_string())
}

/// The `Raw result:` JSON the elicitation tool echoes back.
fn raw_elicit_result(text: &str) -> Value {
    let raw = text.split("Raw result: ").nth(1).expect("a raw result");
    serde_json::from_str(raw.trim()).expect("raw result JSON")
}

#[test]
fn the_scenario_answers_elicitation_sampling_and_roots() -> Result<()> {
    let run = run(ALL_ON, true, &[ELICIT, SAMPLE, ROOTS])?;
    let t = &run.transcript;
    let results = logged(&run, "result");
    assert_eq!(results.len(), 3, "{t}");

    let asked = logged(&run, "elicitation");
    assert_eq!(asked.len(), 1, "{t}");
    assert_eq!(
        asked[0]["message"],
        "Please provide inputs for the following fields:"
    );
    assert_eq!(asked[0]["required"], serde_json::json!(["name"]));
    // The server got the scenario's fields and the schema's defaults for the rest.
    let raw = raw_elicit_result(&text(&results[0]));
    assert_eq!(raw["action"], "accept", "{t}");
    let content = &raw["content"];
    assert_eq!(content["name"], "Ada Lovelace", "{t}");
    assert_eq!(content["check"], true);
    assert_eq!(content["firstLine"], "It was a dark and stormy night.");
    assert_eq!(content["integer"], 42);
    // The schema default of server-everything's "number" field (not pi).
    assert_eq!(content["number"].to_string(), "3.14");
    assert_eq!(
        content["untitledMultipleSelectEnum"],
        serde_json::json!(["Guitar"])
    );
    assert!(
        content.get("email").is_none(),
        "no default, not given: {content}"
    );

    let sampled = logged(&run, "sampling");
    assert_eq!(
        sampled,
        vec![
            serde_json::json!({ "text": "Resource trigger-sampling-request context: weather in Paris?", "maxTokens": 20 })
        ],
        "{t}"
    );
    assert_eq!(
        logged(&run, "refused"),
        vec![
            serde_json::json!({ "code": "ERR_INVALID_ARGUMENT", "message": "respond: a sampling answer needs role (\"assistant\"), content ({type: \"text\", text}) and model" })
        ]
    );
    let sample = text(&results[1]);
    assert!(sample.starts_with("LLM sampling result: "), "{sample}");
    let echoed: Value = serde_json::from_str(sample.trim_start_matches("LLM sampling result: "))?;
    assert_eq!(echoed["model"], "scenario-llm");
    assert_eq!(echoed["content"]["text"], "It is sunny.");
    assert_eq!(echoed["stopReason"], "endTurn");

    let roots = text(&results[2]);
    assert!(
        roots.starts_with(
            "Current MCP Roots (1 total):\n\n1. call recordings\n   URI: file:///srv/calls\n"
        ),
        "{roots}"
    );
    Ok(())
}

#[test]
fn with_no_listener_elicitation_is_declined_and_sampling_refused() -> Result<()> {
    let run = run(ALL_ON, false, &[ELICIT, SAMPLE])?;
    let t = &run.transcript;
    let results = logged(&run, "result");
    assert_eq!(results.len(), 2, "{t}");
    let raw = raw_elicit_result(&text(&results[0]));
    assert_eq!(raw, serde_json::json!({ "action": "decline" }), "{t}");
    // The server's tool fails with our JSON-RPC error in its words.
    let sample = &results[1];
    assert!(
        text(sample).contains("sampling is not supported by this scenario"),
        "{sample}"
    );
    Ok(())
}

#[test]
fn capabilities_are_offered_only_when_enabled() -> Result<()> {
    let names = |run: &Run| -> Vec<String> {
        let listed = logged(run, "result");
        listed[0]["payload"]["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .filter_map(|t| t["name"].as_str().map(str::to_owned))
            .filter(|n| {
                [
                    "trigger-elicitation-request",
                    "trigger-sampling-request",
                    "get-roots-list",
                ]
                .contains(&n.as_str())
            })
            .collect()
    };
    let off = run("clientName: \"plain\"", false, &["list"])?;
    assert_eq!(names(&off), Vec::<String>::new(), "{}", off.transcript);
    let on = run(ALL_ON, false, &["list"])?;
    let mut got = names(&on);
    got.sort();
    assert_eq!(
        got,
        [
            "get-roots-list",
            "trigger-elicitation-request",
            "trigger-sampling-request",
        ],
        "{}",
        on.transcript
    );
    Ok(())
}
