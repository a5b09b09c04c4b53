//! The shared store: the session history and ApplicationStorage suite run on both backends
//! (SQLite in a data directory, PostgreSQL), two nodes sharing one PostgreSQL database, and
//! the schema's migrations (`dialtone store migrate`, a node refusing an unmigrated store).

use std::sync::Arc;

use anyhow::{Result, ensure};
use chrono::Utc;
use dialtone::app_storage::AppStore;
use dialtone::history::{History, LogRow, SessionFilter, SessionRow, Write};
use dialtone::store::{PgPool, postgres};
use dialtone_bindings::host::storage::AppStorage as _;
use dialtone_tests::postgres::Postgres;

fn session(id: &str, application: &str, started_at: chrono::DateTime<Utc>) -> SessionRow {
    SessionRow::started(
        id,
        application,
        "r",
        &format!("call-{id}"),
        "1001",
        "2000",
        started_at,
    )
}

fn log(session_id: &str, text: &str) -> Write {
    Write::Log {
        session_id: session_id.into(),
        line: LogRow {
            at: Utc::now(),
            level: "info".into(),
            text: text.into(),
        },
    }
}

/// What every backend's history must do: starts, log lines in order, ends, filters, paging.
fn history_suite(history: &History) -> Result<()> {
    let now = Utc::now();
    history.write(Write::Start(session("s1", "a", now)));
    history.write(Write::Start(session(
        "s2",
        "b",
        now + chrono::Duration::seconds(1),
    )));
    for text in ["one", "two", "three"] {
        history.write(log("s1", text));
    }
    history.write(Write::End {
        session_id: "s1".into(),
        at: now + chrono::Duration::seconds(3),
        kind: "terminated".into(),
        reason: "terminated by the scenario".into(),
    });
    let all = history.list(&SessionFilter::default())?;
    let ids: Vec<&str> = all.iter().map(|s| s.id.as_str()).collect();
    ensure!(ids == ["s2", "s1"], "newest first: {ids:?}");
    let ended = &all[1];
    ensure!(
        ended.duration == Some(3.0),
        "duration: {:?}",
        ended.duration
    );
    ensure!(ended.end_kind.as_deref() == Some("terminated"));
    ensure!(ended.end_reason.as_deref() == Some("terminated by the scenario"));
    ensure!(
        ended.call_id == "call-s1" && ended.started_at.timestamp_millis() == now.timestamp_millis()
    );
    let filter = SessionFilter {
        application: Some("a".into()),
        min_duration: Some(2.5),
        reason: Some("terminated".into()),
        ..Default::default()
    };
    let found = history.list(&filter)?;
    ensure!(found.len() == 1 && found[0].id == "s1", "{found:?}");
    let none = history.list(&SessionFilter {
        max_duration: Some(2.0),
        ..Default::default()
    })?;
    ensure!(none.is_empty(), "{none:?}");
    let page = history.list(&SessionFilter {
        limit: Some(1),
        offset: Some(1),
        ..Default::default()
    })?;
    ensure!(page.len() == 1 && page[0].id == "s1", "{page:?}");
    let since = history.list(&SessionFilter {
        start: Some(now + chrono::Duration::milliseconds(500)),
        ..Default::default()
    })?;
    ensure!(since.len() == 1 && since[0].id == "s2", "{since:?}");
    let logs = history.logs("s1")?.expect("s1 exists");
    let texts: Vec<&str> = logs.iter().map(|l| l.text.as_str()).collect();
    ensure!(texts == ["one", "two", "three"], "{texts:?}");
    ensure!(history.logs("s2")? == Some(vec![]));
    ensure!(history.logs("nope")?.is_none());
    Ok(())
}

/// What every backend's ApplicationStorage must do: per application, expiry, namespaces in
/// byte order, remove.
fn storage_suite(store: &AppStore) -> Result<()> {
    let put = store.put("a", "user:1", "one", 60)?;
    ensure!((put.key.as_str(), put.value.as_str()) == ("user:1", "one"));
    ensure!((put.expire_at - Utc::now().timestamp() - 60).abs() <= 1);
    store.put("a", "user:2", "two", 60)?;
    store.put("a", "user", "self", 60)?;
    store.put("a", "users:3", "other namespace", 60)?;
    store.put(
        "a",
        "User:9",
        "capital letters sort first in byte order",
        60,
    )?;
    store.put("a", "gone", "expired", 0)?;
    store.put("b", "user:1", "b's", 60)?;
    ensure!(store.get("a", "gone")?.is_none());
    ensure!(store.get("b", "user:1")?.map(|k| k.value) == Some("b's".into()));
    let replaced = store.put("a", "user:2", "TWO", 60)?;
    ensure!(replaced.value == "TWO");
    ensure!(store.get("a", "user:2")?.map(|k| k.value) == Some("TWO".into()));
    let namespace = store.keys("a", Some("user"), 1000)?;
    ensure!(namespace == ["user", "user:1", "user:2"], "{namespace:?}");
    let first = store.keys("a", None, 3)?;
    ensure!(first == ["User:9", "user", "user:1"], "{first:?}");
    let entries = store.entries("a", Some("users"), 10)?;
    ensure!(
        entries.len() == 1 && entries[0].value == "other namespace",
        "{entries:?}"
    );
    let removed = store.remove("a", "user:1")?;
    ensure!(removed.map(|k| k.value) == Some("one".into()));
    ensure!(store.remove("a", "user:1")?.is_none());
    ensure!(
        store.remove("a", "gone")?.is_none(),
        "an expired key is not returned by remove"
    );
    let left = store.keys("a", None, 1000)?;
    ensure!(left == ["User:9", "user", "user:2", "users:3"], "{left:?}");
    Ok(())
}

fn migrated_pool(server: &Postgres) -> Result<Arc<PgPool>> {
    postgres::migrate(&server.url())?;
    Ok(Arc::new(PgPool::connect(&server.url(), 4)?))
}

#[test]
fn the_suite_passes_on_the_embedded_sqlite_store() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("dialtone-store-sqlite-{}", std::process::id()));
    let history = History::open(&dir, 7)?;
    history_suite(&history)?;
    storage_suite(&AppStore::open(&dir)?)?;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

#[test]
fn the_suite_passes_on_postgresql() -> Result<()> {
    let server = Postgres::start()?;
    let pool = migrated_pool(&server)?;
    history_suite(&History::open_postgres(pool.clone(), 7)?)?;
    storage_suite(&AppStore::postgres(pool))?;
    Ok(())
}

#[test]
fn a_listener_hears_each_announcement_and_idles_once_a_second_without_spinning() -> Result<()> {
    use dialtone::store::listen::{Heard, announce, listen};
    use std::time::{Duration, Instant};

    let server = Postgres::start()?;
    let pool = migrated_pool(&server)?;
    let (heard_tx, heard) = std::sync::mpsc::channel();
    listen(&pool, "dialtone_test", move |what| {
        heard_tx.send((what, Instant::now())).is_ok()
    })?;
    let next = || heard.recv_timeout(Duration::from_secs(10));
    assert_eq!(next()?.0, Heard::Everything);
    announce(&pool, "dialtone_test", "one")?;
    let mut changes = Vec::new();
    let mut idles = Vec::new();
    while idles.len() < 3 {
        match next()? {
            (Heard::Change(payload), _) => changes.push(payload),
            (Heard::Idle, at) => idles.push(at),
            (Heard::Everything, _) => anyhow::bail!("the listener reconnected"),
        }
    }
    assert_eq!(changes, ["one"]);
    // A listener whose wait ran out once must still wait a second for the next one.
    for pair in idles.windows(2) {
        let gap = pair[1] - pair[0];
        ensure!(
            gap >= Duration::from_millis(900),
            "idle again after {gap:?}"
        );
    }
    Ok(())
}

#[test]
fn two_nodes_on_one_postgresql_share_history_and_storage() -> Result<()> {
    let server = Postgres::start()?;
    let (pool_a, pool_b) = (migrated_pool(&server)?, migrated_pool(&server)?);
    let (history_a, history_b) = (
        History::open_postgres(pool_a.clone(), 7)?,
        History::open_postgres(pool_b.clone(), 7)?,
    );
    history_a.write(Write::Start(session("on-a", "app", Utc::now())));
    history_a.write(log("on-a", "written on node A"));
    history_a.flush()?;
    history_b.write(Write::Start(session("on-b", "app", Utc::now())));
    let seen_by_b: Vec<String> = history_b
        .list(&SessionFilter::default())?
        .into_iter()
        .map(|s| s.id)
        .collect();
    ensure!(
        seen_by_b.contains(&"on-a".into()) && seen_by_b.contains(&"on-b".into()),
        "{seen_by_b:?}"
    );
    let lines = history_b
        .logs("on-a")?
        .expect("node B reads node A's session");
    ensure!(lines.len() == 1 && lines[0].text == "written on node A");

    let (store_a, store_b) = (AppStore::postgres(pool_a), AppStore::postgres(pool_b));
    store_a.put("app", "room:42", "pin 1234", 60)?;
    ensure!(store_b.get("app", "room:42")?.map(|k| k.value) == Some("pin 1234".into()));
    store_b.remove("app", "room:42")?;
    ensure!(store_a.get("app", "room:42")?.is_none());
    Ok(())
}

#[test]
fn a_node_refuses_an_unmigrated_store_and_store_migrate_brings_it_up_to_date() -> Result<()> {
    let server = Postgres::start()?;
    let url = server.url();
    let shown = format!("postgres://dialtone@127.0.0.1:{}/dialtone", server.port());
    let refused = PgPool::connect(&url, 2).expect_err("no schema yet");
    assert_eq!(
        refused.to_string(),
        format!(
            "the store at {shown} has schema version 0, this build needs 5: run `dialtone store migrate` first"
        )
    );

    let binary = dialtone_tests::dialtone_binary()?;
    let migrate = |args: &[&str]| -> Result<std::process::Output> {
        Ok(std::process::Command::new(&binary)
            .args(["store", "migrate"])
            .args(args)
            .output()?)
    };
    let first = migrate(&["--url", &url])?;
    ensure!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&first.stdout),
        format!("{shown}: schema version 0 -> 5\n")
    );
    let again = migrate(&["--url", &url])?;
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        format!("{shown}: schema version 5 (up to date)\n")
    );
    PgPool::connect(&url, 2)?;

    // A password in the URL is never printed.
    let with_password = url.replace("dialtone@", "dialtone:hunter2@");
    let shown_password = migrate(&["--url", &with_password])?;
    let out = String::from_utf8_lossy(&shown_password.stdout);
    ensure!(
        !out.contains("hunter2") && out.contains("dialtone:***@"),
        "{out}"
    );

    // Not a PostgreSQL URL; no store configured.
    let mysql = migrate(&["--url", "mysql://root:pw@127.0.0.1/x"])?;
    ensure!(!mysql.status.success());
    assert_eq!(
        String::from_utf8_lossy(&mysql.stderr).trim_end(),
        "dialtone: --url: 'mysql://...' is not a PostgreSQL URL (postgres://user:password@host:port/database); leave it out for the embedded store"
    );

    // The server gone: one clear error, no hang.
    server.stop()?;
    let gone = PgPool::connect(&url, 2).expect_err("server stopped");
    assert_eq!(
        gone.to_string(),
        format!(
            "cannot connect to the store at {shown}: error connecting to server: Connection refused (os error 111)"
        )
    );
    Ok(())
}

/// Node A's session writes a key; node B's reads it and a secret set through node A. Each
/// logs `label JSON` lines.
const SHARED: &str = r#"
require(Modules.ApplicationStorage);
VoxEngine.addEventListener(AppEvents.Started, async () => {
  if (VoxEngine.customData() === "write") {
    await ApplicationStorage.put("room:7", "opened on node A", 3600);
    Logger.write(`wrote ${JSON.stringify("room:7")}`);
  } else {
    try {
      const key = await ApplicationStorage.get("room:7");
      Logger.write(`read ${JSON.stringify(key && key.value)}`);
    } catch (e) {
      Logger.write(`failed ${JSON.stringify({ code: e.code, message: e.message })}`);
    }
    // Reversed: the log masks the secret's own value.
    const pin = VoxEngine.getSecretValue("ROOM_PIN");
    Logger.write(`reversed-secret ${JSON.stringify(pin && [...pin].reverse().join(""))}`);
  }
  VoxEngine.terminate();
});
"#;

#[test]
fn two_serve_nodes_share_storage_secrets_and_each_lists_the_others_sessions() -> Result<()> {
    use dialtone_tests::cluster::{Node, random_master_key};
    use dialtone_tests::scenario::{labelled, shown};
    use reqwest::Method;
    use serde_json::json;

    let timeout = std::time::Duration::from_secs(30);
    let server = Postgres::start_migrated()?;
    let store = server.url();
    let key = random_master_key()?;
    let node_a = Node::start(SHARED, &store, &key)?;
    let node_b = Node::start(SHARED, &store, &key)?;

    // A secret set through node A reaches node B (announced, reloaded).
    let set = node_a.api()?.json(
        Method::PUT,
        "/applications/default/secrets/ROOM_PIN",
        Some(json!({"value": "4321"})),
    )?;
    ensure!(set.status == 201, "{:?}", set.body);
    let deadline = std::time::Instant::now() + timeout;
    while node_b.api()?.get("/applications/default/secrets")?.body[0]["name"] != "ROOM_PIN" {
        ensure!(
            std::time::Instant::now() < deadline,
            "node B never listed the secret"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }

    let written = node_a.start_session("write")?;
    let logs = labelled(&node_a.session_logs(&written, timeout)?)?;
    assert_eq!(shown(&logs, "wrote"), &json!("room:7"));
    let read = node_b.start_session("read")?;
    let logs = labelled(&node_b.session_logs(&read, timeout)?)?;
    assert_eq!(shown(&logs, "read"), &json!("opened on node A"));
    assert_eq!(shown(&logs, "reversed-secret"), &json!("1234"));

    // Each node's admin API lists both sessions and serves the other node's log lines.
    for (node, other) in [(&node_a, &read), (&node_b, &written)] {
        let api = node.api()?;
        let listed = api.get("/sessions")?;
        ensure!(listed.status == 200, "{:?}", listed.body);
        let ids: Vec<&str> = listed
            .body
            .as_array()
            .map(|rows| rows.iter().filter_map(|r| r["id"].as_str()).collect())
            .unwrap_or_default();
        ensure!(
            ids.contains(&written.as_str()) && ids.contains(&read.as_str()),
            "{}",
            listed.body
        );
        let lines = node.session_logs(other, timeout)?;
        ensure!(
            lines
                .iter()
                .any(|t| t.starts_with("wrote ") || t.starts_with("read ")),
            "{lines:?}"
        );
    }

    // A node with another master key refuses the store's secrets, and says why.
    let other_key = random_master_key()?;
    let refused = Node::start(SHARED, &store, &other_key).expect_err("another key");
    let shown_url = format!("postgres://dialtone@127.0.0.1:{}/dialtone", server.port());
    let expected = format!(
        "the master key from DIALTONE_MASTER_KEY does not open the secrets of the store at {shown_url}: they were encrypted with another key (give every node the same key: DIALTONE_MASTER_KEY, or the same master.key)"
    );
    ensure!(refused.to_string().contains(&expected), "{refused}");

    // The database restarted: the pooled connections it closed are replaced, no error.
    server.stop()?;
    server.restart()?;
    let read = node_b.start_session("read")?;
    let logs = labelled(&node_b.session_logs(&read, timeout)?)?;
    assert_eq!(shown(&logs, "read"), &json!("opened on node A"));

    // The database gone: the scenario's call fails with what happened, the node goes on
    // (its session history, also in the store, is not readable then: its log shows it).
    server.stop()?;
    let gone = node_b.start_session("read")?;
    let deadline = std::time::Instant::now() + timeout;
    let failed = format!(
        "ApplicationStorage: the application storage failed: cannot connect to the store at {shown_url}: error connecting to server: Connection refused (os error 111)"
    );
    while !node_b.log().contains(&failed) {
        ensure!(
            std::time::Instant::now() < deadline,
            "session {gone}: no storage failure logged:\n{}",
            node_b.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    ensure!(node_b.calls_up().is_ok(), "node B still answers");
    Ok(())
}
