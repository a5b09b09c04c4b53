//! Child processes a scenario causes get a clean environment: a stdio MCP server started by
//! a session sees PATH and what the scenario's `env` names, never the host's secrets
//! (`DIALTONE_MASTER_KEY`, `DIALTONE_ADMIN_TOKEN`) or anything else of the host's.
//!
//! The variables are set in this process before anything starts, so this binary holds one
//! test.

use anyhow::Result;
use dialtone::console::ConsoleOptions;
use dialtone_tests::scenario::run_source;

const SCENARIO: &str = r#"
require(Modules.MCP);
VoxEngine.addEventListener(AppEvents.Started, async () => {
  const client = await MCP.createClient({ mcpServerConnectionConfig: {
    transport: "stdio", command: "python3", args: [SCRIPT], env: { NAMED_BY_SCENARIO: "yes" },
  } });
  client.addEventListener(MCP.ServerEvents.ToolResult, (e) => {
    Logger.write(`environment: ${e.data.payload.content[0].text}`);
    client.close();
    VoxEngine.terminate();
  });
  client.callTool({ name: "environ", arguments: {} });
});
"#;

#[test]
fn a_stdio_mcp_server_never_sees_the_hosts_secrets() -> Result<()> {
    // SAFETY: the only test in this binary; no other thread exists yet.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("DIALTONE_MASTER_KEY", "a-master-key");
        std::env::set_var("DIALTONE_ADMIN_TOKEN", "an-admin-token");
        std::env::set_var("SOME_HOST_VARIABLE", "host-only");
    }
    let script = dialtone_tests::workspace_root().join("tests/peers/paged_stdio_server.py");
    let source = SCENARIO.replace("SCRIPT", &format!("{:?}", script.display().to_string()));
    let options = ConsoleOptions {
        mcp: dialtone_bindings::mcp::McpPolicy { allow_stdio: true },
        ..ConsoleOptions::default()
    };
    let run = run_source(&source, options)?;
    let line = run
        .logs()
        .into_iter()
        .find_map(|l| l.strip_prefix("environment: ").map(str::to_owned))
        .unwrap_or_else(|| panic!("no environment line:\n{}", run.transcript));
    let names: Vec<&str> = line.split(',').collect();
    assert!(names.contains(&"NAMED_BY_SCENARIO"), "{names:?}");
    assert!(names.contains(&"PATH"), "{names:?}");
    for host_only in [
        "DIALTONE_MASTER_KEY",
        "DIALTONE_ADMIN_TOKEN",
        "SOME_HOST_VARIABLE",
    ] {
        assert!(!names.contains(&host_only), "{host_only} leaked: {names:?}");
    }
    Ok(())
}
