//! OAuth against the Python SDK's authorization server routes (`tests/peers/mcp_server.py
//! --oauth`: dynamic registration, PKCE, approval at once, access tokens that expire within
//! the refresh margin, refresh tokens that rotate). The grant is made by the library behind
//! `dialtone mcp login`, with curl as the browser; a call refreshes the token before using it
//! and hands the refreshed grant to the host to store; the stored grant works for the next
//! call; the first grant, whose refresh token was used, ends in ERR_MCP_AUTH_REQUIRED naming
//! the login command. (The official conformance suite covers discovery, registration and the
//! grants: tests/tests/mcp_conformance.rs.)

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use dialtone::console::ConsoleOptions;
use dialtone::secrets::SecretSource;
use dialtone_bindings::mcp::oauth::OAuthGrant;
use dialtone_bindings::mcp::oauth::login::{LoginRequest, login};
use dialtone_bindings::outbound::OutboundPolicy;
use dialtone_tests::admin::Api;
use dialtone_tests::peers::{PyMcp, python_oauth_server, server_everything};
use dialtone_tests::scenario::{Run, run_source};
use dialtone_tests::sip::TestServer;

/// Records the secrets a session changes.
#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<(String, String, String)>>);

impl SecretSource for Recorder {
    fn secrets(&self, _: &str) -> BTreeMap<String, String> {
        BTreeMap::new()
    }
    fn update(&self, application: &str, name: &str, value: &str) -> Result<(), String> {
        let mut updates = self.0.lock().map_err(|e| e.to_string())?;
        updates.push((application.into(), name.into(), value.into()));
        Ok(())
    }
}

const SCENARIO: &str = r#"
require(Modules.MCP);
VoxEngine.addEventListener(AppEvents.CallAlerting, async ({ call }) => {
  call.answer();
  let client;
  try {
    client = await MCP.createClient({ mcpServerConnectionConfig: { transport: "http", endpoint: ENDPOINT, auth: { oauth: "CRM" } } });
  } catch (error) {
    Logger.write(`rejected ${error.code}: ${error.message}`);
    return VoxEngine.terminate();
  }
  client.addEventListener(MCP.ServerEvents.ToolResult, (e) => { Logger.write("result " + e.data.payload.content[0].text); client.close(); VoxEngine.terminate(); });
  client.addEventListener(MCP.ServerEvents.MCPError, (e) => { Logger.write(`error ${e.data.payload.code}: ${e.data.payload.error}`); VoxEngine.terminate(); });
  client.callTool({ name: "echo", arguments: { message: "authorized" } });
});
"#;

fn call(endpoint: &str, grant: &str, store: &Arc<Recorder>) -> Result<Run> {
    let source = SCENARIO.replace("ENDPOINT", &format!("{endpoint:?}"));
    let options = ConsoleOptions {
        secrets: BTreeMap::from([("CRM".to_owned(), grant.to_owned())]),
        secret_store: Some(store.clone()),
        ..ConsoleOptions::default()
    };
    run_source(&source, options)
}

fn request(server: url::Url) -> LoginRequest {
    LoginRequest {
        server,
        scopes: Vec::new(),
        client_id: None,
        client_secret: None,
        client_metadata_url: None,
        client_name: "Dialtone (test)".into(),
        redirect_port: 0,
        timeout: Duration::from_secs(30),
    }
}

/// `login` with curl as the browser (it follows the redirect to the login's loopback port).
fn grant_for(endpoint: &str) -> Result<OAuthGrant> {
    let runtime = tokio::runtime::Runtime::new()?;
    let outbound = Arc::new(OutboundPolicy::open());
    let grant = runtime.block_on(login(request(endpoint.parse()?), &outbound, |url| {
        let url = url.to_owned();
        std::thread::spawn(move || {
            let _ = std::process::Command::new("curl")
                .args(["-s", "-L", "-o", "/dev/null", "--max-time", "20", &url])
                .status();
        });
    }))?;
    Ok(grant)
}

#[test]
fn a_call_refreshes_the_grant_and_the_host_stores_it() -> Result<()> {
    let server = python_oauth_server(PyMcp::V2, 40)?;
    let endpoint = server.url("/mcp");
    let first = grant_for(&endpoint)?;
    assert!(
        server.log().contains("TOKEN authorization_code"),
        "{}",
        server.log()
    );
    // The grant as if made 15 s ago: its 40 s token is within the 30 s refresh margin.
    let mut aged = serde_json::to_value(&first)?;
    let received = aged["credentials"]["token_received_at"]
        .as_u64()
        .context("received at")?;
    aged["credentials"]["token_received_at"] = (received - 15).into();
    let first_json = aged.to_string();

    // The call refreshes first.
    let store = Arc::new(Recorder::default());
    let run = call(&endpoint, &first_json, &store)?;
    assert_eq!(
        run.logs(),
        vec!["result authorized".to_owned()],
        "{}\n{}",
        run.transcript,
        server.log()
    );
    assert!(
        server.log().contains("TOKEN refresh_token"),
        "{}",
        server.log()
    );
    let updates = store.0.lock().expect("updates").clone();
    assert!(
        !updates.is_empty(),
        "no grant was stored:\n{}",
        run.transcript
    );
    for (application, name, _) in &updates {
        assert_eq!((application.as_str(), name.as_str()), ("default", "CRM"));
    }
    let (_, _, latest) = updates.last().context("an update")?;
    let stored: OAuthGrant = serde_json::from_str(latest)?;
    assert_eq!(stored.server, endpoint);
    assert_eq!(stored.client_id, first.client_id);
    let refresh = |g: &OAuthGrant| {
        serde_json::to_value(&g.credentials).map(|c| c["token_response"]["refresh_token"].clone())
    };
    assert_ne!(
        refresh(&stored)?,
        refresh(&first)?,
        "the refresh token rotated"
    );
    assert!(
        run.transcript
            .contains("secret 'CRM' updated in the store (refreshed OAuth grant)"),
        "{}",
        run.transcript
    );

    // The stored grant works for the next call.
    let again = call(&endpoint, latest, &Arc::new(Recorder::default()))?;
    assert_eq!(
        again.logs(),
        vec!["result authorized".to_owned()],
        "{}",
        again.transcript
    );

    // The first grant's refresh token was used: its call is told to log in again.
    let stale = call(&endpoint, &first_json, &Arc::new(Recorder::default()))?;
    assert_eq!(
        stale.logs(),
        vec![format!(
            "rejected ERR_MCP_AUTH_REQUIRED: MCP server {endpoint} needs a new authorization: the grant in secret 'CRM' is no longer accepted; make it again with `dialtone mcp login default CRM {endpoint}`"
        )],
        "{}",
        stale.transcript
    );
    assert!(server.log().contains("TOKEN refused"), "{}", server.log());
    Ok(())
}

#[test]
fn login_says_when_a_server_needs_none() -> Result<()> {
    let server = server_everything("streamableHttp")?;
    let endpoint = server.url("/mcp");
    let runtime = tokio::runtime::Runtime::new()?;
    let outbound = Arc::new(OutboundPolicy::open());
    let error = runtime
        .block_on(login(request(endpoint.parse()?), &outbound, |_| {}))
        .expect_err("no authorization");
    assert_eq!(
        error.to_string(),
        format!(
            "the MCP server at {endpoint} answered without asking for authorization and publishes no OAuth metadata: it needs no login"
        )
    );
    Ok(())
}

#[test]
fn auth_config_errors_name_the_secret_and_the_fix() -> Result<()> {
    let server = server_everything("streamableHttp")?;
    let endpoint = server.url("/mcp");
    let cases = [
        (r#"{ oauth: "NOPE" }"#, BTreeMap::new(), format!("auth.oauth: application 'default' has no secret 'NOPE'; make the grant with `dialtone mcp login default NOPE {endpoint}`")),
        (r#"{ oauth: "CRM" }"#, BTreeMap::from([("CRM".to_owned(), "s3cret".to_owned())]), format!("auth.oauth: secret 'CRM' is not a grant made by `dialtone mcp login`; make one with `dialtone mcp login default CRM {endpoint}`")),
        (r#"{ clientCredentials: "M2M" }"#, BTreeMap::from([("M2M".to_owned(), r#"{"client_id":"x"}"#.to_owned())]), "auth.clientCredentials: secret 'M2M' needs one of client_secret and private_key_pem".to_owned()),
        (r#"{ token: "x" }"#, BTreeMap::new(), "auth must be {oauth: \"SECRET_NAME\"}, {clientCredentials: \"SECRET_NAME\"} or {enterprise: \"SECRET_NAME\"}".to_owned()),
    ];
    for (auth, secrets, message) in cases {
        let source = format!(
            r#"
require(Modules.MCP);
VoxEngine.addEventListener(AppEvents.CallAlerting, async ({{ call }}) => {{
  try {{ await MCP.createClient({{ mcpServerConnectionConfig: {{ transport: "http", endpoint: {endpoint:?}, auth: {auth} }} }}); }}
  catch (error) {{ Logger.write(`${{error.code}}: ${{error.message}}`); }}
  VoxEngine.terminate();
}});
"#
        );
        let run = run_source(
            &source,
            ConsoleOptions {
                secrets,
                ..ConsoleOptions::default()
            },
        )?;
        assert_eq!(
            run.logs(),
            vec![format!("ERR_MCP_CONFIG: MCP.createClient: {message}")],
            "{auth}"
        );
    }
    Ok(())
}

#[test]
fn the_admin_api_makes_the_same_grant() -> Result<()> {
    const TOKEN: &str = "admin-token-for-logins";
    let mcp = python_oauth_server(PyMcp::V2, 3600)?;
    let endpoint = mcp.url("/mcp");
    let server = TestServer::start_managed(&[(".*", "VoxEngine.terminate();")], TOKEN, "")?;
    let api = Api::new(server.http(), Some(TOKEN))?;
    let started = api.json(
        reqwest::Method::POST,
        "/applications/default/mcp-logins",
        Some(serde_json::json!({ "name": "CRM", "url": endpoint })),
    )?;
    assert_eq!(started.status, 201, "{}", started.body);
    let id = started.body["id"].as_str().context("id")?.to_owned();
    assert_eq!(started.body["status"], "pending");
    assert_eq!(
        started.body["redirect_uri"],
        format!("http://{}/mcp-logins/callback", server.http())
    );
    // The browser: the authorization server approves and sends it back to the callback.
    let url = started.body["authorization_url"].as_str().context("url")?;
    let page = std::process::Command::new("curl")
        .args(["-s", "-L", "--max-time", "20", url])
        .output()?;
    let page = String::from_utf8_lossy(&page.stdout);
    assert!(
        page.contains(
            "Dialtone: authorized. Application 'default' keeps the grant as secret 'CRM'"
        ),
        "{page}"
    );
    let login = api.get(&format!("/applications/default/mcp-logins/{id}"))?;
    assert_eq!(login.body["status"], "authorized", "{}", login.body);
    let secrets = api.get("/applications/default/secrets")?;
    let crm = secrets
        .body
        .as_array()
        .context("list")?
        .iter()
        .find(|s| s["name"] == "CRM")
        .cloned();
    assert_eq!(
        crm.context("the grant is stored")?["description"],
        format!("OAuth grant for {endpoint}")
    );
    // The same redirect again finds no login waiting.
    let replay = std::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "20",
        ])
        .arg(format!(
            "http://{}/mcp-logins/callback?state=nope&code=x",
            server.http()
        ))
        .output()?;
    assert_eq!(String::from_utf8_lossy(&replay.stdout), "404");
    Ok(())
}
