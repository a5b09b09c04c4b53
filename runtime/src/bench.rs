//! `dialtone bench`: benchmarks that print figures and ratios (never pass/fail timing tests).
//! `sessions` lives here; `mcp` in `bench/mcp.rs` (its floor client in `bench/mcp_raw.rs`; `--concurrency` in
//! `bench/mcp_concurrent.rs`); `sip` in
//! `bench/sip.rs`; `bridge` (two legs bridged) in `bench/bridge.rs`; `calls` (many
//! concurrent answered calls with playback) in `bench/calls.rs`; `media` (streamed calls) in `bench/media.rs`; `soak` (a steady rate for
//! minutes: failures, RSS, leaks) in `bench/soak.rs`; `webrtc` (browser-like calls beside SIP
//! ones) in `bench/webrtc.rs`; `cluster` (nodes behind Kamailio sharing PostgreSQL) in
//! `bench/cluster.rs`, with its peers in `bench/kamailio.rs` and `bench/postgres.rs`.

pub mod bridge;
pub mod calls;
pub mod cluster;
pub mod kamailio;
pub mod mcp;
pub mod mcp_concurrent;
mod mcp_raw;
pub mod media;
pub mod postgres;
pub mod sip;
pub mod sipp_xml;
pub mod soak;
pub mod webrtc;

use std::time::{Duration, Instant};

use dialtone_bindings::SessionPool;
use dialtone_bindings::engine::EngineError;
use dialtone_bindings::host::{self, HostEvent, Limits, Outbound, Script, SessionSpec};

/// The scenario of the benches that hold calls up: answer, play `two-seconds.wav` in a loop
/// until the caller hangs up.
const LOOPING_PLAYBACK: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Connected, () => call.startPlayback("two-seconds.wav", { loop: true }));
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
"#;

/// Targets of `bench sessions` (from the performance issue: ahead of a Node.js vm context).
pub const SESSION_START_P50_TARGET: Duration = Duration::from_micros(500);
/// Memory target per idle session.
pub const SESSION_BYTES_TARGET: u64 = 150 << 10;

/// Results of `bench sessions`.
#[derive(Debug, Clone)]
pub struct SessionsReport {
    /// Sessions started.
    pub count: usize,
    /// JS worker threads.
    pub threads: usize,
    /// Median time from spawn to `Application.Started` dispatched.
    pub start_p50: Duration,
    /// 99th percentile of the same.
    pub start_p99: Duration,
    /// Resident memory added per idle session (bytes).
    pub bytes_per_session: u64,
    /// The same measured for the Node.js peer in the same run, or why it could not run.
    pub node: Result<PeerFigures, String>,
}

/// A peer's figures for the same workload.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct PeerFigures {
    /// Median start time, ms.
    pub p50_ms: f64,
    /// 99th percentile start time, ms.
    pub p99_ms: f64,
    /// Resident memory per idle session.
    pub bytes_per_session: u64,
}

/// Runs the Node.js peer (`node`, one `vm` context per session) for `count` sessions.
pub fn node_peer(count: usize) -> Result<PeerFigures, String> {
    use std::io::Write as _;
    let dir = std::env::temp_dir().join(format!("dialtone-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let script = dir.join("node_contexts.js");
    std::fs::write(&script, include_str!("bench/node_contexts.js")).map_err(|e| e.to_string())?;
    let child = std::process::Command::new("node")
        .arg(&script)
        .arg(count.to_string())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let result = child
        .map_err(|e| format!("cannot run node: {e}"))
        .and_then(|mut child| {
            if let Some(mut stdin) = child.stdin.take() {
                stdin
                    .write_all(BENCH_SCENARIO.as_bytes())
                    .map_err(|e| e.to_string())?;
            }
            let output = child.wait_with_output().map_err(|e| e.to_string())?;
            if !output.status.success() {
                return Err(format!(
                    "node failed: {}",
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
            serde_json::from_slice(&output.stdout)
                .map_err(|e| format!("node printed no figures: {e}"))
        });
    let _ = std::fs::remove_dir_all(&dir);
    result
}

impl std::fmt::Display for SessionsReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        writeln!(
            f,
            "bench sessions: {} sessions on {} JS worker threads",
            self.count, self.threads
        )?;
        writeln!(
            f,
            "  start (spawn -> Application.Started dispatched): p50 {:.3} ms, p99 {:.3} ms; p50 is {:.2}x the {} ms target",
            ms(self.start_p50),
            ms(self.start_p99),
            ms(self.start_p50) / ms(SESSION_START_P50_TARGET),
            ms(SESSION_START_P50_TARGET),
        )?;
        writeln!(
            f,
            "  memory per idle session (RSS delta): {} KiB; {:.2}x the {} KiB target",
            self.bytes_per_session >> 10,
            self.bytes_per_session as f64 / SESSION_BYTES_TARGET as f64,
            SESSION_BYTES_TARGET >> 10,
        )?;
        match &self.node {
            Ok(node) => write!(
                f,
                "  peer, Node.js vm context per session (same scenario, same run): p50 {:.3} ms, p99 {:.3} ms, {} KiB\n  ratio dialtone/node: start p50 {:.2}x, memory {:.2}x",
                node.p50_ms,
                node.p99_ms,
                node.bytes_per_session >> 10,
                ms(self.start_p50) / node.p50_ms,
                self.bytes_per_session as f64 / node.bytes_per_session.max(1) as f64,
            ),
            Err(why) => write!(f, "  peer, Node.js: not measured ({why})"),
        }
    }
}

/// The scenario every benchmark session runs.
const BENCH_SCENARIO: &str = include_str!("../../scenarios/hello.voxengine.js");

/// Resident set size of this process, in bytes (Linux; 0 elsewhere).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

/// Starts `count` sessions one after another, keeps them all idle, measures, then ends them.
pub async fn sessions(count: usize, threads: usize) -> Result<SessionsReport, EngineError> {
    let pool = SessionPool::new(threads)?;
    let threads = pool.threads();
    let rss_before = rss_bytes();
    // Compiled once, as the catalog compiles a rule's scenarios once per version.
    let script = Script::compile("hello.voxengine.js", BENCH_SCENARIO);
    let mut hosts = Vec::with_capacity(count);
    let mut starts = Vec::with_capacity(count);
    for i in 0..count {
        let (mut host, session) = host::channel();
        let spec = SessionSpec {
            session_id: format!("bench-{i}"),
            application: "bench".into(),
            rule: "bench".into(),
            scripts: vec![script.clone()],
            secrets: Default::default(),
            custom_data: String::new(),
            access_url: None,
            limits: Limits::default(),
            ..SessionSpec::default()
        };
        let began = Instant::now();
        let ended = pool.spawn(spec, session)?;
        loop {
            match host.outbound.recv().await {
                Some(Outbound::Event { name, .. }) if name == "Application.Started" => break,
                Some(_) => {}
                None => return Err(EngineError::PoolClosed),
            }
        }
        starts.push(began.elapsed());
        hosts.push((host, ended));
    }
    let bytes_per_session = rss_bytes().saturating_sub(rss_before) / count.max(1) as u64;
    for (host, _) in &hosts {
        let _ = host.events.send(HostEvent::Shutdown {
            reason: "benchmark done".into(),
        });
    }
    for (_, ended) in hosts {
        let _ = ended.await;
    }
    pool.shutdown();
    starts.sort();
    let pick = |q: f64| starts[((starts.len() as f64 - 1.0) * q).round() as usize];
    Ok(SessionsReport {
        count,
        threads,
        start_p50: pick(0.5),
        start_p99: pick(0.99),
        bytes_per_session,
        node: node_peer(count),
    })
}
