//! `dialtone bench mcp --concurrency N`: N sessions, each with its own MCP client, connect to one
//! server-everything at once and make `count` sequential `tools/call` echo calls each; beside
//! them the TypeScript SDK with N clients in one Node process doing the same. Printed: calls per
//! second and client CPU per call, and Dialtone's ratios to the SDK. Both sides' figures include
//! their connects and closes (and Dialtone's the N session starts), so `count` should be large
//! against the three requests of a handshake.

use std::process::Command;
use std::time::Instant;

use dialtone_bindings::SessionPool;
use dialtone_bindings::host::{self, Outbound, Script, SessionSpec};

use super::mcp::{
    BenchError, LATEST, SERVER_WARMUP, cpu_ms, dialtone_scenario, logged_times, repository_root,
    require, start_everything,
};
use super::mcp_raw;

/// What one side did.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct ConcurrentFigures {
    /// Calls made.
    pub calls: usize,
    /// Wall time from the first connect to the last close.
    pub seconds: f64,
    /// The client process's CPU over the run.
    #[serde(rename = "cpuMs")]
    pub cpu_ms: f64,
}

impl ConcurrentFigures {
    /// Calls per second.
    pub fn calls_per_second(&self) -> f64 {
        self.calls as f64 / self.seconds
    }

    /// Client CPU per call, ms.
    pub fn cpu_per_call_ms(&self) -> f64 {
        self.cpu_ms / self.calls as f64
    }
}

/// The report of `bench mcp --concurrency`.
#[derive(Debug, Clone)]
pub struct ConcurrentReport {
    /// Clients on each side.
    pub concurrency: usize,
    /// Calls per client.
    pub count: usize,
    /// Dialtone's sessions, best of the rounds by calls per second (or why they failed).
    pub dialtone: Result<ConcurrentFigures, String>,
    /// The TypeScript SDK's clients, the same.
    pub typescript: Result<ConcurrentFigures, String>,
}

impl std::fmt::Display for ConcurrentReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "bench mcp: {} clients at once, each {} sequential tools/call echo against one server-everything (streamable HTTP, {LATEST}); connects and closes included",
            self.concurrency, self.count
        )?;
        for (name, figures) in [
            ("Dialtone (a session per client)", &self.dialtone),
            ("TypeScript SDK (one Node process)", &self.typescript),
        ] {
            match figures {
                Ok(x) => writeln!(
                    f,
                    "  {name:34} {} calls in {:.2} s: {:.0} calls/s, client CPU per call {:.3} ms",
                    x.calls,
                    x.seconds,
                    x.calls_per_second(),
                    x.cpu_per_call_ms()
                )?,
                Err(e) => writeln!(f, "  {name:34} not measured: {e}")?,
            }
        }
        if let (Ok(d), Ok(t)) = (&self.dialtone, &self.typescript) {
            write!(
                f,
                "  ratios Dialtone / TypeScript SDK: calls per second {:.2}x, client CPU per call {:.2}x",
                d.calls_per_second() / t.calls_per_second(),
                d.cpu_per_call_ms() / t.cpu_per_call_ms()
            )?;
        }
        Ok(())
    }
}

/// Runs `concurrency` sessions, each with its own client making `count` calls.
async fn dialtone(
    url: &str,
    concurrency: usize,
    count: usize,
) -> Result<ConcurrentFigures, String> {
    let pool = SessionPool::new(0).map_err(|e| e.to_string())?;
    // The sequential bench's scenario, without warm-up: its times are logged and ignored here.
    let source = dialtone_scenario(url, LATEST, 0, count);
    let script = Script::compile("mcp_dialtone.voxengine.js", source);
    let outbound = std::sync::Arc::new(dialtone_bindings::outbound::OutboundPolicy {
        application: "bench".into(),
        ..dialtone_bindings::outbound::OutboundPolicy::open()
    });
    let before = cpu_ms("self");
    let began = Instant::now();
    let mut hosts = Vec::with_capacity(concurrency);
    for i in 0..concurrency {
        let spec = SessionSpec {
            session_id: format!("bench-mcp-{i}"),
            application: "bench".into(),
            rule: "bench".into(),
            scripts: vec![script.clone()],
            outbound: outbound.clone(),
            ..SessionSpec::default()
        };
        let (host, session) = host::channel();
        let ended = pool.spawn(spec, session).map_err(|e| e.to_string())?;
        hosts.push((host, ended));
    }
    let mut failure = None;
    for (mut host, ended) in hosts {
        let mut answered = 0;
        while let Some(message) = host.outbound.recv().await {
            match message {
                Outbound::Log { text, .. } if text.starts_with('[') => match logged_times(&text) {
                    Ok(times) => answered += times.len(),
                    Err(e) => {
                        failure.get_or_insert(e);
                    }
                },
                Outbound::Log { text, .. } if text.starts_with("error") => {
                    failure.get_or_insert(text);
                }
                Outbound::Ended(reason) => {
                    if !reason.is_normal() {
                        failure.get_or_insert(reason.to_string());
                    }
                    break;
                }
                _ => {}
            }
        }
        let _ = ended.await;
        if answered < count && failure.is_none() {
            failure = Some("a session ended before its calls were done".into());
        }
    }
    let seconds = began.elapsed().as_secs_f64();
    let cpu = cpu_ms("self") - before;
    pool.shutdown();
    match failure {
        Some(e) => Err(e),
        None => Ok(ConcurrentFigures {
            calls: concurrency * count,
            seconds,
            cpu_ms: cpu,
        }),
    }
}

/// Runs the TypeScript SDK side.
fn typescript(
    script: &std::path::Path,
    url: &str,
    concurrency: usize,
    count: usize,
) -> Result<ConcurrentFigures, String> {
    let output = Command::new("node")
        .arg(script)
        .args([url.to_owned(), concurrency.to_string(), count.to_string()])
        .output()
        .map_err(|e| format!("cannot run node: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "the TypeScript SDK clients failed: {}",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or_default()
        ));
    }
    serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("the TypeScript SDK clients printed no figures: {e}"))
}

/// The better of two runs (more calls per second).
fn best(
    kept: Option<Result<ConcurrentFigures, String>>,
    new: Result<ConcurrentFigures, String>,
) -> Result<ConcurrentFigures, String> {
    match (kept, new) {
        (Some(Err(e)), _) | (_, Err(e)) => Err(e),
        (Some(Ok(a)), Ok(b)) => Ok(if b.calls_per_second() > a.calls_per_second() {
            b
        } else {
            a
        }),
        (None, Ok(b)) => Ok(b),
    }
}

/// Runs the benchmark (from the repository, after `tests/run` installed the peers): `rounds`
/// rounds, alternating which side goes first.
pub async fn mcp_concurrent(
    concurrency: usize,
    count: usize,
    rounds: usize,
) -> Result<ConcurrentReport, BenchError> {
    let root = repository_root()?;
    let node_dir = require(root.join("target/peers/node"))?;
    let (server, port) = start_everything(&root)?;
    let url = format!("http://127.0.0.1:{port}/mcp");
    let ts_script = node_dir.join("dialtone-bench-ts-concurrent.mjs");
    std::fs::write(&ts_script, include_str!("mcp_ts_concurrent.mjs"))?;
    tokio::task::spawn_blocking(move || mcp_raw::floor(port, 0, SERVER_WARMUP, LATEST))
        .await
        .map_err(|e| BenchError::Peer(e.to_string()))?
        .map_err(|e| BenchError::Peer(format!("warming the server failed: {e}")))?;
    let (mut ours, mut theirs) = (None, None);
    for round in 0..rounds {
        for side in 0..2 {
            if (round + side) % 2 == 0 {
                ours = Some(best(ours, dialtone(&url, concurrency, count).await));
            } else {
                let (script, url) = (ts_script.clone(), url.clone());
                let measured = tokio::task::spawn_blocking(move || {
                    typescript(&script, &url, concurrency, count)
                })
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r);
                theirs = Some(best(theirs, measured));
            }
        }
    }
    drop(server);
    let missing = || Err("no round ran".to_owned());
    Ok(ConcurrentReport {
        concurrency,
        count,
        dialtone: ours.unwrap_or_else(missing),
        typescript: theirs.unwrap_or_else(missing),
    })
}
