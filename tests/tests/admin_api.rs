//! Secrets, redaction and the admin API against an in-process `dialtone serve` with its
//! encrypted store, SQLite history and config file, driven by SIPp calls and by schemathesis.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use dialtone_tests::admin::{Api, Reply};
use dialtone_tests::sip::{TestServer, caller_hangs_up};
use reqwest::Method;
use serde_json::{Value, json};

const TOKEN: &str = "test-admin-token-5f1c";
const SESSION_TIMEOUT: Duration = Duration::from_secs(20);

/// Answers, logs what it can see of two secrets; ends when the caller hangs up.
const READS_SECRETS: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const own = VoxEngine.getSecretValue("MCP_SERVER_TOKEN");
  const other = VoxEngine.getSecretValue("OTHER_TOKEN");
  Logger.write(`own token ${own} has ${own.length} chars`);
  Logger.write(`other application's token: ${other}`);
  call.answer();
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
});
"#;

fn version_scenario(version: u32) -> String {
    format!(
        r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({{ call }}) => {{
  Logger.write("version {version} answers");
  call.answer();
  call.addEventListener(CallEvents.Disconnected, () => {{
    Logger.write("version {version} ends");
    VoxEngine.terminate();
  }});
}});
"#
    )
}

fn expect(reply: Reply, status: u16) -> Result<Value> {
    if reply.status != status {
        bail!("expected {status}, got {}: {}", reply.status, reply.body);
    }
    Ok(reply.body)
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle)?);
        } else if std::fs::read(&path)?
            .windows(needle.len())
            .any(|w| w == needle)
        {
            found.push(path.display().to_string());
        }
    }
    Ok(found)
}

#[test]
fn secrets_are_encrypted_scoped_to_their_application_and_redacted() -> Result<()> {
    let mut server = TestServer::start_managed(&[(".*", READS_SECRETS)], TOKEN, "")?;
    let api = Api::new(server.http(), Some(TOKEN))?;
    let own = "sk-live-7f3a9c1e5b";
    let other = "other-app-secret-42d8";
    expect(
        api.json(
            Method::POST,
            "/applications",
            Some(json!({"name": "other"})),
        )?,
        201,
    )?;
    let set = api.json(
        Method::PUT,
        "/applications/default/secrets/MCP_SERVER_TOKEN",
        Some(json!({"value": own, "description": "MCP bearer"})),
    )?;
    let info = expect(set, 201)?;
    assert_eq!(info["name"], "MCP_SERVER_TOKEN");
    assert!(info.get("value").is_none(), "{info}");
    let set = api.json(
        Method::PUT,
        "/applications/other/secrets/OTHER_TOKEN",
        Some(json!({"value": other})),
    )?;
    expect(set, 201)?;
    let bad = api.json(
        Method::PUT,
        "/applications/default/secrets/1BAD",
        Some(json!({"value": "x"})),
    )?;
    assert_eq!(expect(bad, 422)?["code"], "invalid");
    let listed = expect(api.get("/applications/default/secrets")?, 200)?;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert!(!listed.to_string().contains(own), "{listed}");

    server.caller_hangs_up("2000", 500)?;
    let records = server.until_sessions_end(1, SESSION_TIMEOUT)?;
    let logs = records.logs();
    // The scenario read its own application's value (18 chars), never saw it in a log line,
    // and cannot read the other application's secret.
    assert!(
        logs.contains(&format!("own token *** has {} chars", own.len())),
        "{logs:?}"
    );
    assert!(
        logs.contains(&"other application's token: undefined".to_string()),
        "{logs:?}"
    );
    assert!(!logs.iter().any(|l| l.contains(own) || l.contains(other)));

    // The sessions API has the session and its redacted log lines.
    let sessions = expect(
        api.get("/sessions?application=default&destination=2000")?,
        200,
    )?;
    let session = &sessions[0];
    assert_eq!(session["end_kind"], "terminated", "{sessions}");
    let id = session["id"].as_str().context("session id")?;
    let lines = expect(api.get(&format!("/sessions/{id}/logs"))?, 200)?;
    assert!(lines.to_string().contains("own token ***"), "{lines}");
    assert!(!lines.to_string().contains(own), "{lines}");
    let none = expect(api.get("/sessions?application=other")?, 200)?;
    assert_eq!(none, json!([]));
    expect(api.get("/sessions/no-such-session/logs")?, 404)?;

    // Neither value is anywhere on disk in the clear: store, key, history, config.
    for value in [own, other] {
        let found = files_containing(&server.dir, value.as_bytes())?;
        assert!(found.is_empty(), "{value} found in {found:?}");
    }

    // Metrics count the call under its application.
    let metrics = api.get("/metrics")?;
    let text = metrics.body.as_str().unwrap_or_default().to_owned();
    assert!(
        text.contains("dialtone_calls_total{application=\"default\",result=\"answered\"} 1"),
        "{text}"
    );
    // Deleting works once; the second time there is nothing to delete.
    let path = "/applications/default/secrets/MCP_SERVER_TOKEN";
    expect(api.json(Method::DELETE, path, None)?, 204)?;
    expect(api.json(Method::DELETE, path, None)?, 404)?;
    Ok(())
}

#[test]
fn without_the_token_every_endpoint_answers_401() -> Result<()> {
    let server = TestServer::start_managed(&[(".*", READS_SECRETS)], TOKEN, "")?;
    let api = Api::new(server.http(), Some(TOKEN))?;
    let spec = expect(api.get("/openapi.json")?, 200)?;
    let paths = spec["paths"].as_object().context("paths")?;
    let anonymous = Api::new(server.http(), None)?;
    let wrong = Api::new(server.http(), Some("not-the-token"))?;
    let mut checked = 0;
    for (path, operations) in paths {
        let concrete = path
            .replace("{app}", "default")
            .replace("{rule}", "rule0")
            .replace("{name}", "X.js")
            .replace("{id}", "x");
        for method in operations.as_object().context("operations")?.keys() {
            let method: Method = method.to_uppercase().parse()?;
            for (who, client) in [("no token", &anonymous), ("wrong token", &wrong)] {
                let reply = client.json(method.clone(), &concrete, Some(json!({})))?;
                let expected = match path.as_str() {
                    "/health" => 200,
                    // Loopback clients may read metrics without the token.
                    "/metrics" => 200,
                    // The browser's way back from an OAuth login: the state is the key, and
                    // no login waits for this one.
                    "/mcp-logins/callback" => 404,
                    _ => 401,
                };
                assert_eq!(
                    reply.status, expected,
                    "{who}: {method} {concrete}: {}",
                    reply.body
                );
                if expected == 401 {
                    assert_eq!(reply.body["code"], "unauthorized");
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 40, "only {checked} requests checked");
    // Paths that do not exist are 401 too without the token, 404 with it.
    assert_eq!(anonymous.get("/no/such/path")?.status, 401);
    assert_eq!(api.get("/no/such/path")?.status, 404);
    Ok(())
}

#[test]
fn route_test_explains_matches_misses_and_problems() -> Result<()> {
    let server = TestServer::start_managed(
        &[("100", READS_SECRETS), (r"\+?1\d{3}", READS_SECRETS)],
        TOKEN,
        "",
    )?;
    let api = Api::new(server.http(), Some(TOKEN))?;
    let route = |destination: &str| {
        api.json(
            Method::POST,
            "/route-test",
            Some(json!({"destination": destination})),
        )
    };
    let hit = expect(route("+1555")?, 200)?;
    assert_eq!(hit["matched"], true, "{hit}");
    assert_eq!(hit["rule"], "rule1");
    assert_eq!(hit["scenarios"], json!(["rule1.voxengine.js"]));
    assert_eq!(hit["problem"], Value::Null);
    let miss = expect(route("alice")?, 200)?;
    assert_eq!(miss["matched"], false, "{miss}");
    assert_eq!(
        miss["misses"],
        json!([
            "rule 'rule0': pattern '100' does not match the whole destination",
            "rule 'rule1': pattern '\\+?1\\d{3}' does not match the whole destination"
        ])
    );
    let unknown = api.json(
        Method::POST,
        "/route-test",
        Some(json!({"destination": "1", "application": "nope"})),
    )?;
    assert_eq!(expect(unknown, 404)?["code"], "not_found");
    // A scenario edited by hand applies after a reload; one that no longer compiles is then
    // reported before a call finds out.
    std::fs::write(server.dir.join("rule0.voxengine.js"), "let x = ;")?;
    let still = expect(route("100")?, 200)?;
    assert_eq!(still["problem"], serde_json::Value::Null, "{still}");
    expect(api.json(Method::POST, "/reload", None)?, 200)?;
    let broken = expect(route("100")?, 200)?;
    let problem = broken["problem"].as_str().unwrap_or_default();
    assert!(problem.contains("SyntaxError"), "{broken}");
    Ok(())
}

#[test]
fn a_change_reaches_the_next_call_while_a_call_in_progress_keeps_its_scenario() -> Result<()> {
    let mut server = TestServer::start_managed(&[(".*", &version_scenario(1))], TOKEN, "")?;
    let api = Api::new(server.http(), Some(TOKEN))?;
    let port = server.sip_port();
    // A call that stays up for 3 s while the scenario is replaced under it.
    let long_call = std::thread::spawn(move || caller_hangs_up(port, "2000", 3000));
    let started = server.until_logged("version 1 answers", SESSION_TIMEOUT)?;
    assert!(started, "the first call did not start");
    let uploaded = api.text(
        Method::PUT,
        "/scenarios/rule0.voxengine.js",
        &version_scenario(2),
    )?;
    expect(uploaded, 200)?;
    let refused = api.text(Method::PUT, "/scenarios/rule0.voxengine.js", "let x = ;")?;
    assert_eq!(expect(refused, 422)?["code"], "compile_error");
    server.caller_hangs_up("2000", 200)?;
    long_call
        .join()
        .map_err(|_| anyhow::anyhow!("sipp thread"))??;
    let logs = server.until_sessions_end(2, SESSION_TIMEOUT)?.logs();
    for line in ["version 1 ends", "version 2 answers", "version 2 ends"] {
        assert!(logs.contains(&line.to_string()), "{line} missing: {logs:?}");
    }

    // A new rule in front, through the API: the next call to 555 takes it.
    let v3 = api.text(
        Method::PUT,
        "/scenarios/v3.voxengine.js",
        &version_scenario(3),
    )?;
    expect(v3, 201)?;
    let rule =
        json!({"name": "five", "pattern": "555", "scenarios": ["v3.voxengine.js"], "position": 0});
    expect(
        api.json(Method::POST, "/applications/default/rules", Some(rule))?,
        201,
    )?;
    server.caller_hangs_up("555", 200)?;
    let logs = server.until_sessions_end(1, SESSION_TIMEOUT)?.logs();
    assert!(logs.contains(&"version 3 answers".to_string()), "{logs:?}");
    let rules = expect(api.get("/applications/default/rules")?, 200)?;
    assert_eq!(rules[0]["name"], "five", "{rules}");
    let config = std::fs::read_to_string(server.dir.join("dialtone.toml"))?;
    assert!(config.contains("name = \"five\""), "{config}");
    let in_use = api.json(Method::DELETE, "/scenarios/v3.voxengine.js", None)?;
    assert_eq!(expect(in_use, 409)?["code"], "conflict");

    // An edit of the file itself, picked up by a reload (what SIGHUP does).
    let edited = config.replace("pattern = \"555\"", "pattern = \"556\"");
    std::fs::write(server.dir.join("dialtone.toml"), edited)?;
    server.reload()?;
    server.caller_hangs_up("556", 200)?;
    let logs = server.until_sessions_end(1, SESSION_TIMEOUT)?.logs();
    assert!(logs.contains(&"version 3 answers".to_string()), "{logs:?}");
    // A broken file is refused and the catalog stays as it was.
    std::fs::write(server.dir.join("dialtone.toml"), "[[application]]\nname = ")?;
    assert!(server.reload().is_err());
    server.caller_hangs_up("556", 200)?;
    let logs = server.until_sessions_end(1, SESSION_TIMEOUT)?.logs();
    assert!(logs.contains(&"version 3 answers".to_string()), "{logs:?}");
    Ok(())
}

#[test]
fn schemathesis_finds_no_server_error_and_no_schema_violation() -> Result<()> {
    let server = TestServer::start_managed(&[(".*", READS_SECRETS)], TOKEN, "")?;
    let st = dialtone_tests::workspace_root().join("target/peers/venv-schemathesis/bin/st");
    if !st.exists() {
        bail!(
            "schemathesis is not installed: run tests/peers/install-api-peers.sh (tests/run does)"
        );
    }
    let url = format!("http://{}/openapi.json", server.http());
    let auth = format!("Authorization: Bearer {TOKEN}");
    // Files, not pipes: a long report must not fill a pipe nobody reads while we wait.
    let log = server.dir.join("schemathesis.out");
    let errors = server.dir.join("schemathesis.err");
    let mut child = std::process::Command::new(&st)
        .args([
            "run",
            &url,
            "--header",
            &auth,
            "--checks",
            "not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance",
            "--max-examples",
            "25",
            "--generation-database",
            "none",
            "--request-timeout",
            "10",
            "--no-color",
        ])
        // Its working files (.schemathesis/) go to the server's temp dir, removed on drop.
        .current_dir(&server.dir)
        .stdout(std::fs::File::create(&log)?)
        .stderr(std::fs::File::create(&errors)?)
        .spawn()
        .context("starting schemathesis")?;
    let deadline = std::time::Instant::now() + Duration::from_secs(600);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("schemathesis ran longer than 10 minutes");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let text = format!(
        "{}{}",
        std::fs::read_to_string(&log).unwrap_or_default(),
        std::fs::read_to_string(&errors).unwrap_or_default()
    );
    assert!(status.success(), "schemathesis found problems:\n{text}");
    Ok(())
}

#[test]
fn the_scheme_is_case_insensitive_and_durations_must_be_numbers() -> Result<()> {
    let server = TestServer::start_managed(&[(".*", READS_SECRETS)], TOKEN, "")?;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let api = Api::with_authorization(server.http(), &format!("{scheme} {TOKEN}"))?;
        assert_eq!(api.get("/sessions")?.status, 200, "{scheme}");
    }
    let api = Api::new(server.http(), Some(TOKEN))?;
    for (query, value) in [
        ("min_duration=NaN", "NaN"),
        ("max_duration=inf", "inf"),
        ("min_duration=-1", "-1"),
    ] {
        let reply = api.get(&format!("/sessions?{query}"))?;
        assert_eq!(reply.status, 400, "{query}");
        let name = &query[..query.find('=').unwrap_or(0)];
        assert_eq!(
            reply.body["error"],
            format!("{name} must be a number of seconds, 0 or more (got {value})"),
            "{query}"
        );
    }
    Ok(())
}
