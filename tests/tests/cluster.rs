//! Three `dialtone serve` nodes behind Kamailio's dispatcher (`deploy/kamailio/kamailio.cfg`),
//! sharing one PostgreSQL store, on loopback: SIPp's calls through Kamailio are spread over
//! every node, each node's admin API lists every node's sessions, and when a node is killed
//! mid-run its calls are lost, the others' are untouched, and new calls go to the nodes left
//! with no failure once the probe has seen it gone.

use std::time::Duration;

use anyhow::{Result, ensure};
use dialtone::bench::cluster::ANSWER;
use dialtone::bench::sipp_xml;
use dialtone::store::postgres;
use dialtone_tests::cluster::{Kamailio, Node, PROBE_WAIT};
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
    let database = Postgres::start()?;
    postgres::migrate(&database.url())?;
    let store = format!("[store]\nurl = {:?}\n", database.url());
    let mut nodes = vec![
        Node::start(ANSWER, &store)?,
        Node::start(ANSWER, &store)?,
        Node::start(ANSWER, &store)?,
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
