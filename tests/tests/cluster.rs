//! Three `dialtone serve` nodes behind Kamailio's dispatcher (`deploy/kamailio/kamailio.cfg`),
//! sharing one PostgreSQL store, on loopback: SIPp's calls through Kamailio are spread over
//! every node, each node's admin API lists every node's sessions, and when a node is killed
//! mid-run its calls are lost, the others' are untouched, and new calls go to the nodes left
//! with no failure once the probe has seen it gone.

use std::time::Duration;

use anyhow::{Result, ensure};
use dialtone::bench::cluster::ANSWER;
use dialtone::bench::sipp_xml;
use dialtone_tests::cluster::{Kamailio, Node, PROBE_WAIT, random_master_key};
use dialtone_tests::postgres::Postgres;
use dialtone_tests::sip::{SippRun, sipp};

/// Seconds between Kamailio's OPTIONS probes of each node.
const PROBE_INTERVAL_S: u32 = 1;

fn through(
    kamailio: &Kamailio,
    xml: &str,
    calls: u32,
    rate: u32,
    timeout_s: u64,
) -> Result<SippRun> {
    let (calls, rate) = (calls.to_string(), rate.to_string());
    sipp(
        kamailio.port,
        Some(xml),
        &["-s", "100", "-m", &calls, "-r", &rate, "-l", "400"],
        Duration::from_secs(timeout_s),
    )
}

fn answered(nodes: &[Node]) -> Result<Vec<u64>> {
    nodes.iter().map(Node::answered).collect()
}

fn sessions_listed(node: &Node) -> Result<usize> {
    let reply = node.api()?.get("/sessions?limit=1000")?;
    ensure!(reply.status == 200, "{:?}", reply.body);
    Ok(reply.body.as_array().map_or(0, Vec::len))
}

#[test]
fn three_nodes_behind_kamailio_share_the_calls_the_history_and_survive_a_node_dying() -> Result<()>
{
    let _audio = dialtone_tests::realtime_audio();
    let database = Postgres::start_migrated()?;
    let store = database.url();
    let key = random_master_key()?;
    let mut nodes = vec![
        Node::start(ANSWER, &store, &key)?,
        Node::start(ANSWER, &store, &key)?,
        Node::start(ANSWER, &store, &key)?,
    ];
    let ports: Vec<u16> = nodes.iter().map(|n| n.sip).collect();
    let kamailio = Kamailio::start(&ports, PROBE_INTERVAL_S)?;
    for &port in &ports {
        kamailio.until_flags(port, |f| f.starts_with('A'), PROBE_WAIT)?;
    }

    // 600 calls through Kamailio: all answered, every node takes a share (round robin).
    let run = through(&kamailio, &sipp_xml::caller_hangs_up_with(""), 600, 50, 90)?;
    ensure!(
        run.code == 0 && run.successful == Some(600),
        "{run:?}\n{}",
        kamailio.log()
    );
    let shares = answered(&nodes)?;
    eprintln!("calls answered per node: {shares:?}");
    ensure!(shares.iter().sum::<u64>() == 600, "{shares:?}");
    ensure!(
        shares.iter().all(|&n| n >= 150),
        "every node answers a share: {shares:?}"
    );
    // Every node's admin API lists all 600 sessions, whichever node ran them.
    for node in &nodes {
        let listed = sessions_listed(node)?;
        ensure!(listed == 600, "node {} lists {listed} sessions", node.http);
    }

    // Calls held 8 s; once they are all up, node 3 dies with its calls.
    let held = std::thread::spawn({
        let xml = sipp_xml::caller_holds_then_hangs_up(8000, "");
        let port = kamailio.port;
        move || {
            sipp(
                port,
                Some(&xml),
                &["-s", "100", "-m", "60", "-r", "30", "-l", "100"],
                Duration::from_secs(60),
            )
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let up = loop {
        let up: Vec<u64> = nodes.iter().map(Node::calls_up).collect::<Result<_>>()?;
        if up.iter().sum::<u64>() == 60 || std::time::Instant::now() > deadline {
            break up;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    ensure!(up.iter().sum::<u64>() == 60, "calls up per node: {up:?}");
    let lost = up[2];
    eprintln!("held calls up per node when node 3 dies: {up:?}");
    nodes[2].kill()?;
    let held = held.join().expect("sipp thread")?;
    ensure!(
        held.successful == Some(60 - lost) && held.failed == Some(lost),
        "only the dead node's {lost} calls fail: {held:?}"
    );

    // The probe marks it down; then new calls all go to the nodes left, none failing.
    kamailio.until_flags(ports[2], |f| f.starts_with('I'), PROBE_WAIT)?;
    let before = answered(&nodes[..2])?;
    let run = through(&kamailio, &sipp_xml::caller_hangs_up_with(""), 300, 50, 60)?;
    ensure!(
        run.code == 0 && run.successful == Some(300),
        "{run:?}\n{}",
        kamailio.log()
    );
    let after = answered(&nodes[..2])?;
    let taken: Vec<u64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    eprintln!("after node 3 died, calls answered per node left: {taken:?}");
    ensure!(
        taken.iter().sum::<u64>() == 300 && taken.iter().all(|&n| n > 0),
        "{taken:?}"
    );
    // The history of all of it, the dead node's sessions included, is on both nodes left.
    for node in &nodes[..2] {
        let listed = sessions_listed(node)?;
        ensure!(listed == 960, "node {} lists {listed} sessions", node.http);
    }
    Ok(())
}

/// Rings alice with `callUser`; logs how it went.
const CALL_ALICE: &str = r#"
VoxEngine.addEventListener(AppEvents.Started, () => {
  const alice = VoxEngine.callUser({ username: "alice", callerid: "100" });
  alice.addEventListener(CallEvents.Connected, () => {
    Logger.write("connected to alice");
    alice.hangup();
  });
  alice.addEventListener(CallEvents.Failed, (e) => {
    Logger.write(`failed ${e.code} ${e.reason}`);
    VoxEngine.terminate();
  });
  alice.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
});
"#;

#[test]
fn a_user_added_on_one_node_registers_through_kamailio_and_is_called_from_another_along_the_path()
-> Result<()> {
    use dialtone_tests::media::registered_phone_behind_nat;
    use reqwest::Method;
    use serde_json::json;

    let _audio = dialtone_tests::realtime_audio();
    let database = Postgres::start_migrated()?;
    let store = database.url();
    let key = random_master_key()?;
    let nodes = [
        Node::start(CALL_ALICE, &store, &key)?,
        Node::start(CALL_ALICE, &store, &key)?,
    ];
    let ports: Vec<u16> = nodes.iter().map(|n| n.sip).collect();
    let kamailio = Kamailio::start(&ports, PROBE_INTERVAL_S)?;
    for &port in &ports {
        kamailio.until_flags(port, |f| f.starts_with('A'), PROBE_WAIT)?;
    }

    // Added through node 1; node 2 knows her as soon as the store announces it.
    let added = nodes[0].api()?.json(
        Method::PUT,
        "/applications/default/users/alice",
        Some(json!({"password": "alice-secret-1", "displayName": "Alice"})),
    )?;
    ensure!(added.status == 201, "{:?}", added.body);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let listed = nodes[1].api()?.get("/applications/default/users")?;
        if listed.body[0]["name"] == "alice" {
            break;
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "node 2 never listed alice: {}",
            listed.body
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // Her phone registers through Kamailio, which gives the REGISTER to one node.
    let dir = dialtone_tests::sip::temp_dir("cluster-alice")?;
    let wav = dir.join("silence.wav");
    let status = std::process::Command::new("sox")
        .args(["-n", "-r", "8000", "-c", "1", "-b", "16"])
        .arg(&wav)
        .args(["trim", "0", "3"])
        .status()?;
    ensure!(status.success(), "sox could not write {}", wav.display());
    // As if behind NAT: the Contact she registers names a port where nothing listens, so
    // only Kamailio, which saw where her REGISTER came from, can reach her (Path, RFC 3327).
    let mut phone = registered_phone_behind_nat(
        kamailio.port,
        ("alice", "alice-secret-1"),
        &wav,
        &dir.join("heard.wav"),
        60,
        "<sip:alice@127.0.0.1:9>",
    )?;
    let registered = "user 'alice' of application 'default' registered";
    let took = nodes
        .iter()
        .position(|n| n.log().contains(registered))
        .ok_or_else(|| anyhow::anyhow!("no node logged the registration"))?;
    // The other node rings her, from the binding (and its Path) it learnt through the store.
    let other = &nodes[1 - took];
    let session = other.start_session("")?;
    let logs = other.session_logs(&session, Duration::from_secs(30))?;
    ensure!(
        logs == ["connected to alice"],
        "node {} logged {logs:?}\nKamailio:\n{}\nnode log:\n{}",
        other.http,
        kamailio.log(),
        other.log()
    );
    phone.wait_for("STATE CONFIRMED", Duration::from_secs(5))?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
