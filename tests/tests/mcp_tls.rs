//! MCP over HTTPS against the Python SDK's server (uvicorn with TLS): a server whose
//! certificate chains to a trusted root works over both HTTP transports; one signed by an
//! unknown authority is refused with a reason that says so.
//!
//! Dialtone reads the trusted roots once per process (on Linux from `SSL_CERT_FILE` when it
//! is set), so this binary holds one test, which points `SSL_CERT_FILE` at test authority A
//! before any MCP client exists.

use anyhow::Result;
use dialtone::console::ConsoleOptions;
use dialtone_tests::peers::{PyMcp, make_test_certificates, python_server_tls};
use dialtone_tests::scenario::run_source;

/// Lists the tools of each endpoint in turn; logs `TOOLS <label> <names>` or
/// `REFUSED <label> <message>`.
const SCENARIO: &str = r#"
require(Modules.MCP);
const listTools = (label, transport, endpoint) =>
  MCP.createClient({ mcpServerConnectionConfig: { transport, endpoint } }).then(
    (client) => new Promise((resolve) => {
      client.addEventListener(MCP.ServerEvents.ToolsList, (e) => {
        Logger.write(`TOOLS ${label} ${e.data.payload.tools.map((t) => t.name).join(",")}`);
        client.close();
        resolve();
      });
      client.addEventListener(MCP.ServerEvents.MCPError, (e) => {
        Logger.write(`MCPERROR ${label} ${e.data.payload.error}`);
        resolve();
      });
      client.listTools();
    }),
    (error) => Logger.write(`REFUSED ${label} ${error.code}: ${error.message}`),
  );
VoxEngine.addEventListener(AppEvents.Started, async () => {
  for (const [label, transport, endpoint] of ENDPOINTS) await listTools(label, transport, endpoint);
  VoxEngine.terminate();
});
"#;

#[test]
fn https_works_with_a_trusted_root_and_names_an_untrusted_one() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("dialtone-tls-{}", std::process::id()));
    make_test_certificates(&dir)?;
    // SAFETY: the only test in this binary, and no other thread has started that could read
    // the environment (servers start after this; the session starts later still).
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("SSL_CERT_FILE", dir.join("ca-a.pem"));
    }
    let (a_cert, a_key) = (dir.join("a.pem"), dir.join("a.key"));
    let streamable = python_server_tls(PyMcp::V2, "streamable-http", &a_cert, &a_key)?;
    let sse = python_server_tls(PyMcp::V2, "sse", &a_cert, &a_key)?;
    let untrusted = python_server_tls(
        PyMcp::V2,
        "streamable-http",
        &dir.join("b.pem"),
        &dir.join("b.key"),
    )?;
    let endpoints = serde_json::json!([
        [
            "streamable",
            "http",
            format!("https://127.0.0.1:{}/mcp", streamable.port)
        ],
        ["sse", "sse", format!("https://127.0.0.1:{}/sse", sse.port)],
        [
            "untrusted",
            "http",
            format!("https://127.0.0.1:{}/mcp", untrusted.port)
        ],
    ]);
    let source = SCENARIO.replace("ENDPOINTS", &endpoints.to_string());
    let run = run_source(&source, ConsoleOptions::default())?;
    let _ = std::fs::remove_dir_all(&dir);

    let logs = run.logs();
    let line = |prefix: &str| {
        logs.iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no '{prefix}' line in:\n{}", run.transcript))
            .clone()
    };
    for label in ["streamable", "sse"] {
        let tools = line(&format!("TOOLS {label} "));
        assert!(tools.split([' ', ',']).any(|t| t == "roll"), "{tools}");
    }
    let refused = line("REFUSED untrusted ");
    let expected = format!(
        "REFUSED untrusted ERR_MCP_TLS: TLS with MCP server https://127.0.0.1:{}/mcp failed: invalid peer certificate: UnknownIssuer",
        untrusted.port
    );
    assert_eq!(refused, expected);
    assert!(
        !logs.iter().any(|l| l.starts_with("MCPERROR")),
        "{}",
        run.transcript
    );
    Ok(())
}
