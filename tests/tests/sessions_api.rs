//! Sessions started without a call (VoxEngine's StartScenarios) and their access URLs, as a
//! call-back service uses them: the admin API starts the rule with custom data naming two
//! parties (SIPp callees); the scenario calls the first, then the second, and links them; an
//! HTTP request to the session's access URL reads their state (`AppEvents.HttpRequest`, the
//! handler's return value as the answer), another ends the call; both callees get a BYE.

use std::time::Duration;

use anyhow::{Context as _, Result};
use dialtone_tests::admin::Api;
use dialtone_tests::peers::free_port;
use dialtone_tests::sip::{TestServer, sipp_callee};
use reqwest::Method;
use serde_json::json;

const TOKEN: &str = "sessions-test-token-0123456789";
const SESSION_TIMEOUT: Duration = Duration::from_secs(30);

const CALL_BACK: &str = r#"
let agent, customer;
VoxEngine.addEventListener(AppEvents.Started, (e) => {
  Logger.write(`started with ${e.customData}, access URL ${e.accessURL === e.accessSecureURL ? "given" : "missing"}`);
  const parties = JSON.parse(VoxEngine.customData());
  agent = VoxEngine.callSIP(parties.agent, { callerid: "callback" });
  agent.addEventListener(CallEvents.Connected, () => {
    customer = VoxEngine.callSIP(parties.customer, { callerid: "callback" });
    customer.addEventListener(CallEvents.Connected, () => {
      VoxEngine.sendMediaBetween(agent, customer);
      Logger.write("bridged");
    });
  });
});
VoxEngine.addEventListener(AppEvents.HttpRequest, async (e) => {
  if (e.path.startsWith("/hangup")) {
    agent.hangup();
    customer.hangup();
    setTimeout(() => VoxEngine.terminate(), 200);
    return `bye ${e.content}`;
  }
  const test = e.headers.find((h) => h.key === "x-test");
  return { method: e.method, path: e.path, agent: agent.state(), customer: customer.state(), test: test && test.value };
});
VoxEngine.addEventListener(AppEvents.CallAlerting, () => Logger.write("no call should alert"));
"#;

#[test]
fn a_call_back_session_started_over_http_calls_both_parties_and_answers_its_access_url()
-> Result<()> {
    let (agent_port, customer_port) = (free_port()?, free_port()?);
    let agent = sipp_callee(agent_port, None)?;
    let customer = sipp_callee(customer_port, None)?;
    let mut server = TestServer::start_managed(&[("callback", CALL_BACK)], TOKEN, "")?;
    let api = Api::new(server.http(), Some(TOKEN))?;
    let custom_data = json!({
        "agent": format!("sip:agent@127.0.0.1:{agent_port}"),
        "customer": format!("sip:customer@127.0.0.1:{customer_port}"),
    })
    .to_string();
    let started = api.json(
        Method::POST,
        "/applications/default/sessions",
        Some(json!({"rule": "rule0", "customData": custom_data})),
    )?;
    assert_eq!(started.status, 201, "{:?}", started.body);
    let url = started.body["accessURL"]
        .as_str()
        .context("accessURL")?
        .to_owned();
    let session_id = started.body["sessionId"].as_str().context("sessionId")?;
    let base = format!("http://{}", server.http());
    assert!(
        url.starts_with(&format!("{base}/request/{session_id}/")),
        "{url}"
    );
    let path = url.trim_start_matches(&base).to_owned();
    assert!(
        server.until_logged("bridged", SESSION_TIMEOUT)?,
        "never bridged"
    );

    let anonymous = Api::new(server.http(), None)?;
    let status = anonymous.text_with_headers(
        Method::GET,
        &format!("{path}/status?verbose=1"),
        &[("X-Test", "yes")],
        "",
    )?;
    assert_eq!(status.status, 200, "{:?}", status.body);
    assert_eq!(
        status.body,
        json!({"method": "GET", "path": "/status?verbose=1", "agent": "CONNECTED", "customer": "CONNECTED", "test": "yes"})
    );
    let wrong = anonymous.get(&format!("/request/{session_id}/not-the-key"))?;
    assert_eq!(wrong.status, 404);
    assert_eq!(
        wrong.body,
        json!("no such session (it ended, or the URL is wrong)")
    );
    let bye = anonymous.text(Method::POST, &format!("{path}/hangup"), "now")?;
    assert_eq!((bye.status, bye.body), (200, json!("bye now")));

    let records = server.until_sessions_end(1, SESSION_TIMEOUT)?;
    for (who, callee) in [("agent", agent), ("customer", customer)] {
        let output = callee.join().expect("callee thread").context("sipp")?;
        assert!(
            output.status.success(),
            "the {who} (SIPp UAS) did not get its BYE:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            records.describe()
        );
    }
    let gone = anonymous.get(&path)?;
    assert_eq!(gone.status, 404);
    Ok(())
}

#[test]
fn starting_a_session_names_what_is_wrong() -> Result<()> {
    let server = TestServer::start_managed(&[("callback", CALL_BACK)], TOKEN, "")?;
    let api = Api::new(server.http(), Some(TOKEN))?;
    let no_rule = api.json(
        Method::POST,
        "/applications/default/sessions",
        Some(json!({"rule": "nope"})),
    )?;
    assert_eq!(no_rule.status, 422);
    assert_eq!(
        no_rule.body["error"],
        "application 'default' has no rule named 'nope' (rules: rule0)"
    );
    let no_app = api.json(
        Method::POST,
        "/applications/elsewhere/sessions",
        Some(json!({"rule": "rule0"})),
    )?;
    assert_eq!(no_app.status, 404);
    assert_eq!(no_app.body["error"], "no application named 'elsewhere'");
    let long = api.json(
        Method::POST,
        "/applications/default/sessions",
        Some(json!({"rule": "rule0", "customData": "x".repeat(201)})),
    )?;
    assert_eq!(long.status, 422);
    assert_eq!(
        long.body["error"],
        "customData is 201 bytes, more than the 200 allowed"
    );
    Ok(())
}
