//! `ApplicationStorage` on a running server: scenarios write and read keys (with VoxEngine's
//! result shapes and limits), the admin API and `dialtone storage` see and edit the same keys,
//! and the keys survive a restart.

use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, Result};
use dialtone_tests::admin::Api;
use dialtone_tests::scenario::{labelled, shown};
use dialtone_tests::sip::TestServer;
use reqwest::Method;
use serde_json::{Value, json};

const TOKEN: &str = "storage-test-token-0123456789";
const SESSION_TIMEOUT: Duration = Duration::from_secs(30);

/// What the session does comes from its custom data: `write` or `read`.
const STORE: &str = r#"
require(Modules.ApplicationStorage);
const show = (label, value) => Logger.write(label + " " + JSON.stringify(value));
const now = () => Math.floor(Date.now() / 1000);
const failure = async (label, attempt) => {
  try { await attempt(); show(label, "no error"); }
  catch (e) { show(label, { name: e.name, code: e.code, message: e.message }); }
};
VoxEngine.addEventListener(AppEvents.Started, async () => {
  if (VoxEngine.customData() === "write") {
    const put = await ApplicationStorage.put("visits:1", "one", 3600);
    show("put", { key: put.key, value: put.value, inAnHour: Math.abs(put.expireAt - now() - 3600) <= 2 });
    await ApplicationStorage.put("visits:2", "two", 3600);
    await ApplicationStorage.put("visits", "self", 3600);
    await ApplicationStorage.put("other", 42);
    show("keys", await ApplicationStorage.keys("visits"));
    show("all", await ApplicationStorage.keys());
    show("first", await ApplicationStorage.keys(undefined, 1));
    const got = await ApplicationStorage.get("other");
    show("got", { value: got.value, in90Days: Math.abs(got.expireAt - now() - 7776000) <= 2 });
    show("missing", await ApplicationStorage.get("nope"));
    show("removed", await ApplicationStorage.remove("visits:2"));
    show("deleted", await ApplicationStorage.delete("visits"));
    show("gone", await ApplicationStorage.remove("visits"));
    await failure("long-key", () => ApplicationStorage.put("k".repeat(201), "v"));
    await failure("long-value", () => ApplicationStorage.put("k", "v".repeat(2001)));
    await failure("ttl", () => ApplicationStorage.put("k", "v", -1));
    await failure("no-key", () => ApplicationStorage.get(""));
  } else {
    show("greeting", await ApplicationStorage.get("greeting").then((k) => k && k.value));
    show("visits:1", await ApplicationStorage.get("visits:1").then((k) => k && k.value));
    show("all", await ApplicationStorage.keys());
  }
  VoxEngine.terminate();
});
"#;

/// Starts a session of the storage rule with `custom_data` and returns its log lines as
/// `label -> value`.
fn session(server: &mut TestServer, custom_data: &str) -> Result<Vec<(String, Value)>> {
    let api = Api::new(server.http(), Some(TOKEN))?;
    let started = api.json(
        Method::POST,
        "/applications/default/sessions",
        Some(json!({"rule": "rule0", "customData": custom_data})),
    )?;
    assert_eq!(started.status, 201, "{:?}", started.body);
    let records = server.until_sessions_end(1, SESSION_TIMEOUT)?;
    labelled(&records.logs())
}

fn cli(
    server: Option<&TestServer>,
    dir: &std::path::Path,
    args: &[&str],
) -> Result<(bool, String)> {
    let mut command = Command::new(dialtone_tests::dialtone_binary()?);
    command
        .arg("storage")
        .args(args)
        .arg("--config")
        .arg(dir.join("dialtone.toml"));
    if let Some(server) = server {
        command
            .arg("--server")
            .arg(format!("http://{}", server.http()));
    }
    let output = command.output()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok((output.status.success(), text))
}

#[test]
fn scenarios_the_admin_api_and_the_cli_share_keys_that_survive_a_restart() -> Result<()> {
    let mut server = TestServer::start_managed(&[(".*", STORE)], TOKEN, "")?;
    let written = session(&mut server, "write")?;
    assert_eq!(
        shown(&written, "put"),
        &json!({"key": "visits:1", "value": "one", "inAnHour": true})
    );
    assert_eq!(
        shown(&written, "keys"),
        &json!({"keys": ["visits", "visits:1", "visits:2"]})
    );
    assert_eq!(
        shown(&written, "all"),
        &json!({"keys": ["other", "visits", "visits:1", "visits:2"]})
    );
    assert_eq!(shown(&written, "first"), &json!({"keys": ["other"]}));
    assert_eq!(
        shown(&written, "got"),
        &json!({"value": "42", "in90Days": true})
    );
    assert_eq!(shown(&written, "missing"), &Value::Null);
    assert_eq!(
        shown(&written, "removed"),
        &json!({"key": "visits:2", "value": "two", "expireAt": 0})
    );
    assert_eq!(
        shown(&written, "deleted"),
        &json!({"key": "visits", "value": "self", "expireAt": 0})
    );
    assert_eq!(shown(&written, "gone"), &Value::Null);
    assert_eq!(
        shown(&written, "long-key"),
        &json!({"name": "Error", "code": "ERR_STORAGE_LIMIT", "message": "ApplicationStorage: the key is 201 characters long; the most is 200"})
    );
    assert_eq!(
        shown(&written, "long-value"),
        &json!({"name": "Error", "code": "ERR_STORAGE_LIMIT", "message": "ApplicationStorage: the value is 2001 characters long; the most is 2000"})
    );
    assert_eq!(
        shown(&written, "ttl"),
        &json!({"name": "TypeError", "code": "ERR_INVALID_ARGUMENT", "message": "ApplicationStorage.put: the ttl must be a whole number of seconds from 0 to 7776000 (90 days)"})
    );
    assert_eq!(
        shown(&written, "no-key"),
        &json!({"name": "TypeError", "code": "ERR_INVALID_ARGUMENT", "message": "ApplicationStorage.get: the key must be a non-empty string"})
    );

    // The admin API sees what the scenario wrote, and writes for the next one.
    let api = Api::new(server.http(), Some(TOKEN))?;
    let listed = api.get("/applications/default/storage?namespace=visits")?;
    assert_eq!(listed.status, 200);
    let keys: Vec<&str> = listed
        .body
        .as_array()
        .context("a list")?
        .iter()
        .filter_map(|k| k["key"].as_str())
        .collect();
    assert_eq!(keys, ["visits:1"]);
    assert_eq!(listed.body[0]["value"], "one");
    let put = api.json(
        Method::PUT,
        "/applications/default/storage/greeting",
        Some(json!({"value": "hello", "ttl": 600})),
    )?;
    assert_eq!((put.status, &put.body["value"]), (200, &json!("hello")));
    let missing = api.json(Method::DELETE, "/applications/default/storage/nope", None)?;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body["error"],
        "application 'default' has no key 'nope'"
    );
    let too_long = api.json(
        Method::PUT,
        "/applications/default/storage/k",
        Some(json!({"value": "v".repeat(2001)})),
    )?;
    assert_eq!(too_long.status, 422);
    assert_eq!(
        too_long.body["error"],
        "the value is 2001 characters long; the most is 2000"
    );
    let (ok, out) = cli(Some(&server), &server.dir, &["get", "default", "greeting"])?;
    assert!(ok, "{out}");
    assert_eq!(out, "hello\n");

    // A restart keeps them.
    server.restart()?;
    let read = session(&mut server, "read")?;
    assert_eq!(shown(&read, "greeting"), &json!("hello"));
    assert_eq!(shown(&read, "visits:1"), &json!("one"));
    assert_eq!(
        shown(&read, "all"),
        &json!({"keys": ["greeting", "other", "visits:1"]})
    );

    // With no server running, the CLI works on the data directory.
    server.shut_down(Duration::from_secs(5));
    let dir = server.dir.clone();
    let (ok, out) = cli(
        None,
        &dir,
        &["put", "default", "cli:1", "from the cli", "--ttl", "60"],
    )?;
    assert!(ok, "{out}");
    assert_eq!(out, "key 'cli:1' of application 'default' stored\n");
    let (ok, out) = cli(None, &dir, &["ls", "default", "cli"])?;
    assert!(ok, "{out}");
    assert!(out.starts_with("cli:1\tfrom the cli\t(expires "), "{out}");
    let (ok, out) = cli(None, &dir, &["rm", "default", "cli:1"])?;
    assert!(ok, "{out}");
    assert_eq!(out, "key 'cli:1' of application 'default' deleted\n");
    let (ok, out) = cli(None, &dir, &["get", "default", "cli:1"])?;
    assert!(!ok);
    assert_eq!(out, "dialtone: application 'default' has no key 'cli:1'\n");
    Ok(())
}
