//! Two `dialtone serve` nodes on one PostgreSQL store run one catalog: the first node seeds
//! it from its config file, the second takes the store's version over its own file; a rule or
//! scenario added through either node's admin API reaches the other within a second, edits
//! made on both nodes at once are all kept, an ApplicationStorage key written by a SIP call on
//! one node is read by a SIP call on the other, and with the store gone an edit is refused
//! with what happened.

use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use dialtone::bench::cluster::ANSWER;
use dialtone_tests::cluster::{Node, random_master_key};
use dialtone_tests::postgres::Postgres;
use dialtone_tests::sip::caller_hangs_up;
use reqwest::Method;
use serde_json::{Value, json};

/// Node B's own scenario file: the store's version replaces it.
const B_OWN: &str = "Logger.write('node B runs its own file');\n";

/// Answers; a call to `put-X` stores `X`, a call to `get` logs what is stored.
const STORAGE: &str = r#"
require(Modules.ApplicationStorage);
VoxEngine.addEventListener(AppEvents.CallAlerting, async ({ call, destination }) => {
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
  if (destination.startsWith("put-")) {
    await ApplicationStorage.put("last-put", destination.slice(4), 3600);
    Logger.write(`put ${JSON.stringify(destination.slice(4))}`);
  } else {
    const key = await ApplicationStorage.get("last-put");
    Logger.write(`got ${JSON.stringify(key && key.value)}`);
  }
});
"#;

/// `/health`'s catalog version of `node`.
fn catalog_version(node: &Node) -> Result<Value> {
    Ok(node.api()?.get("/health")?.body["catalog_version"].clone())
}

/// Polls `node` until `done` holds for `GET path` (every 10 ms, at most `within`); how long
/// it took.
fn until(
    node: &Node,
    path: &str,
    within: Duration,
    done: impl Fn(&Value) -> bool,
) -> Result<Duration> {
    let api = node.api()?;
    let start = Instant::now();
    loop {
        let reply = api.get(path)?;
        if done(&reply.body) {
            return Ok(start.elapsed());
        }
        ensure!(
            start.elapsed() < within,
            "GET {path} on node {} after {within:?}: {}\nits log:\n{}",
            node.http,
            reply.body,
            node.log()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Names of the rules of application `default` on `node`.
fn rule_names(node: &Node) -> Result<Vec<String>> {
    let reply = node.api()?.get("/applications/default/rules")?;
    ensure!(reply.status == 200, "{:?}", reply.body);
    Ok(reply
        .body
        .as_array()
        .map(|rules| {
            rules
                .iter()
                .filter_map(|r| r["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// The log lines of the one session `node` ran for a call to `destination`.
fn call_logs(node: &Node, destination: &str) -> Result<Vec<String>> {
    let listed = node
        .api()?
        .get(&format!("/sessions?destination={destination}"))?;
    let id = listed.body[0]["id"].as_str().map(str::to_owned);
    let Some(id) = id else {
        anyhow::bail!("no session for {destination}: {}", listed.body);
    };
    node.session_logs(&id, Duration::from_secs(30))
}

#[test]
fn two_nodes_share_one_catalog_and_an_edit_on_either_reaches_the_other_within_a_second()
-> Result<()> {
    let _audio = dialtone_tests::realtime_audio();
    let database = Postgres::start_migrated()?;
    let store = database.url();
    let key = random_master_key()?;
    let node_a = Node::start(ANSWER, &store, &key)?;
    let node_b = Node::start(B_OWN, &store, &key)?;

    // Node A wrote version 1 from its file; node B runs it, not its own file.
    assert_eq!(catalog_version(&node_a)?, json!(1));
    assert_eq!(catalog_version(&node_b)?, json!(1));
    let source = node_b.api()?.get("/scenarios/scenario.voxengine.js")?;
    assert_eq!(source.body, json!(ANSWER));

    // A scenario and a rule added through node A: node B routes to them within a second.
    let upload = node_a
        .api()?
        .text(Method::PUT, "/scenarios/storage.voxengine.js", STORAGE)?;
    ensure!(upload.status == 201, "{:?}", upload.body);
    let rule = node_a.api()?.json(
        Method::POST,
        "/applications/default/rules",
        Some(json!({"name": "storage", "pattern": "(put-.*|get)", "scenarios": ["storage.voxengine.js"], "position": 0})),
    )?;
    ensure!(rule.status == 201, "{:?}", rule.body);
    let took = until(
        &node_b,
        "/applications/default/rules/storage",
        Duration::from_secs(1),
        |rule| rule["name"] == "storage",
    )?;
    eprintln!("node B had node A's rule {took:?} after it was added");
    assert_eq!(catalog_version(&node_b)?, json!(3));
    let source = node_b.api()?.get("/scenarios/storage.voxengine.js")?;
    assert_eq!(source.body, json!(STORAGE));

    // A SIP call on node A stores a key; a SIP call on node B reads it.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos()
        .to_string();
    let put = format!("put-{nonce}");
    caller_hangs_up(node_a.sip, &put, 500)?;
    let logs = call_logs(&node_a, &put)?;
    assert_eq!(logs, vec![format!("put \"{nonce}\"")]);
    caller_hangs_up(node_b.sip, "get", 500)?;
    let logs = call_logs(&node_b, "get")?;
    assert_eq!(logs, vec![format!("got \"{nonce}\"")]);

    // Node B may not delete a scenario node A's rule uses; the message names the rule.
    let refused = node_b
        .api()?
        .json(Method::DELETE, "/scenarios/storage.voxengine.js", None)?;
    assert_eq!(refused.status, 409);
    assert_eq!(
        refused.body,
        json!({"code": "conflict", "error": "scenario 'storage.voxengine.js' is used by default/storage; change those rules first"})
    );

    // Rules added through both nodes at once: every one is kept, in both nodes' catalogs.
    std::thread::scope(|scope| -> Result<()> {
        let adds: Vec<_> = [(&node_a, "a"), (&node_b, "b")]
            .into_iter()
            .map(|(node, prefix)| {
                scope.spawn(move || -> Result<()> {
                    let api = node.api()?;
                    for i in 0..5 {
                        let added = api.json(
                            Method::POST,
                            "/applications/default/rules",
                            Some(json!({"name": format!("{prefix}{i}"), "pattern": format!("{prefix}{i}"), "scenarios": ["scenario.voxengine.js"]})),
                        )?;
                        ensure!(added.status == 201, "{prefix}{i}: {:?}", added.body);
                    }
                    Ok(())
                })
            })
            .collect();
        for add in adds {
            add.join().expect("adding thread")?;
        }
        Ok(())
    })?;
    let mut expected: Vec<String> = ["storage", "all"].map(str::to_owned).to_vec();
    expected.extend((0..5).flat_map(|i| [format!("a{i}"), format!("b{i}")]));
    expected.sort();
    for node in [&node_a, &node_b] {
        until(node, "/health", Duration::from_secs(1), |health| {
            health["catalog_version"] == json!(13)
        })?;
        let mut names = rule_names(node)?;
        names.sort();
        assert_eq!(names, expected, "node {}", node.http);
    }

    // A reload (SIGHUP, POST /reload) on a node keeps the store's catalog, not its file's.
    let reloaded = node_b.api()?.json(Method::POST, "/reload", None)?;
    assert_eq!(reloaded.body, json!({"reloaded": true}));
    assert_eq!(catalog_version(&node_b)?, json!(13));
    let mut names = rule_names(&node_b)?;
    names.sort();
    assert_eq!(names, expected);

    // A third node started later takes the newest version, not its own file.
    let node_c = Node::start(B_OWN, &store, &key)?;
    assert_eq!(catalog_version(&node_c)?, json!(13));
    let mut names = rule_names(&node_c)?;
    names.sort();
    assert_eq!(names, expected);

    // The store gone: an edit is refused with what happened, and the node keeps its catalog.
    database.stop()?;
    let refused = node_c
        .api()?
        .json(Method::DELETE, "/applications/default/rules/a0", None)?;
    assert_eq!(refused.status, 503);
    let shown = format!("postgres://dialtone@127.0.0.1:{}/dialtone", database.port());
    assert_eq!(
        refused.body,
        json!({"code": "store_unavailable", "error": format!("cannot connect to the store at {shown}: error connecting to server: Connection refused (os error 111)")})
    );
    let mut names = rule_names(&node_c)?;
    names.sort();
    assert_eq!(names, expected);
    Ok(())
}
