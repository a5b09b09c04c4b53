//! `dialtone bench mcp`: sequential `tools/call echo` against one local server-everything
//! (streamable HTTP), measured in the same run for a raw keep-alive HTTP floor
//! ([`super::mcp_raw`]), the floor the peer notes measured (hand-written JSON-RPC over Node's
//! keep-alive `fetch`), rmcp alone from Rust (the library floor), the TypeScript SDK client,
//! the Python SDK client, and a Dialtone scenario on the session pool. Each client's CPU per
//! call and the server's CPU per call while it ran are printed too.
//!
//! Every client offers [`LATEST`], as both SDKs do. The raw floor, the Node fetch floor and
//! Dialtone run a second time offering [`BEFORE_PRIMING`]: at 2025-11-25 server-everything starts
//! each answer's SSE stream with a priming event (for resumability), and its HTTP adapter
//! (@hono/node-server) then waits a timer (at least 1 ms) before the answer goes out; older
//! revisions get no priming event and no wait. The peer notes' floor was measured that way, so
//! those rows show where the issue's figures came from (docs/mcp.md, Performance).
//!
//! The server is a JIT: its first thousands of calls get faster as V8 optimises them. So it is
//! warmed first, then the clients run in rounds ([`ROUNDS`] by default), each in a different
//! order, so no client gains from going last. Medians and p99 are over all rounds' calls; the
//! ratios are taken round by round ([`PairedRatio`]) because the server's speed drifts more
//! between rounds than the clients differ.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dialtone_bindings::SessionPool;

use super::mcp_raw;
use dialtone_bindings::host::{self, LogLevel, Outbound, Script, SessionSpec};
use thiserror::Error;

/// Calls each client makes before its timed ones.
const WARMUP: usize = 20;
/// Calls that warm the server before any client is timed.
pub(super) const SERVER_WARMUP: usize = 3000;
/// Rounds of the clients by default; each round starts with a different client.
pub const ROUNDS: usize = 6;
/// The protocol revision both SDK clients offer, and Dialtone by default.
/// Client CPU per tools/call Dialtone aims at (the performance issue).
const MCP_CPU_TARGET_MS: f64 = 0.12;
pub(super) const LATEST: &str = "2025-11-25";
/// The newest revision before priming events.
const BEFORE_PRIMING: &str = "2025-06-18";

/// Why the benchmark could not run.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BenchError {
    /// The peers are not installed.
    #[error(
        "{0} is missing: run tests/run from the repository first (it installs the MCP peers into target/peers)"
    )]
    MissingPeer(PathBuf),
    /// A peer or client failed.
    #[error("{0}")]
    Peer(String),
    /// I/O.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Per-call figures of one client.
#[derive(Debug, Clone, Copy)]
pub struct CallStats {
    /// Median ms per call.
    pub median_ms: f64,
    /// 99th percentile ms per call.
    pub p99_ms: f64,
}

impl CallStats {
    fn from_samples(samples: &[f64]) -> Result<Self, BenchError> {
        if samples.is_empty() {
            return Err(BenchError::Peer("no samples".into()));
        }
        let mut samples = samples.to_vec();
        samples.sort_by(f64::total_cmp);
        let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Ok(Self {
            median_ms: pick(0.5),
            p99_ms: pick(0.99),
        })
    }
}

/// CPU time spent per call, over all rounds.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuPerCall {
    /// The client's own CPU ms per call.
    pub client_ms: f64,
    /// The server's CPU ms per call while this client ran.
    pub server_ms: f64,
}

/// What one run of one client measured.
#[derive(Debug, Clone, Default)]
struct Run {
    /// ms per timed call.
    times: Vec<f64>,
    /// Calls made, warm-up included.
    calls: usize,
    /// The client's CPU ms over those calls.
    client_cpu_ms: f64,
    /// The server's CPU ms meanwhile.
    server_cpu_ms: f64,
}

impl Run {
    /// `count` timed calls after [`WARMUP`] untimed ones, with the client's CPU over all of
    /// them (the server's is filled in by the caller).
    fn new(count: usize, times: Vec<f64>, client_cpu_ms: f64) -> Self {
        Self {
            calls: count + WARMUP,
            times,
            client_cpu_ms,
            server_cpu_ms: 0.0,
        }
    }
}

/// One client over every round.
#[derive(Debug, Clone)]
pub struct ClientFigures {
    /// Over all rounds' calls.
    pub all: CallStats,
    /// The median of each round, in round order.
    pub round_medians: Vec<f64>,
    /// CPU per call.
    pub cpu: CpuPerCall,
}

impl ClientFigures {
    fn from_rounds(rounds: &[Run]) -> Result<Self, BenchError> {
        let all: Vec<f64> = rounds.iter().flat_map(|r| &r.times).copied().collect();
        let round_medians = rounds
            .iter()
            .map(|round| CallStats::from_samples(&round.times).map(|s| s.median_ms))
            .collect::<Result<_, _>>()?;
        let calls = rounds.iter().map(|r| r.calls).sum::<usize>().max(1) as f64;
        Ok(Self {
            all: CallStats::from_samples(&all)?,
            round_medians,
            cpu: CpuPerCall {
                client_ms: rounds.iter().map(|r| r.client_cpu_ms).sum::<f64>() / calls,
                server_ms: rounds.iter().map(|r| r.server_cpu_ms).sum::<f64>() / calls,
            },
        })
    }
}

/// A ratio of two clients' medians taken round by round, so that both sides of each ratio
/// met the server in the same state (its speed drifts by ±15 % over a minute on a shared
/// machine): the median over the rounds, and the lowest and highest round.
#[derive(Debug, Clone, Copy)]
pub struct PairedRatio {
    /// Median over the rounds.
    pub median: f64,
    /// Lowest round.
    pub min: f64,
    /// Highest round.
    pub max: f64,
}

impl PairedRatio {
    /// `numerator / denominator`, round by round.
    pub fn of(numerator: &ClientFigures, denominator: &ClientFigures) -> Option<Self> {
        let mut ratios: Vec<f64> = numerator
            .round_medians
            .iter()
            .zip(&denominator.round_medians)
            .map(|(n, d)| n / d)
            .collect();
        ratios.sort_by(f64::total_cmp);
        let median = match ratios.len() {
            0 => return None,
            n if n % 2 == 1 => ratios[n / 2],
            n => (ratios[n / 2 - 1] + ratios[n / 2]) / 2.0,
        };
        Some(Self {
            median,
            min: ratios[0],
            max: ratios[ratios.len() - 1],
        })
    }
}

impl std::fmt::Display for PairedRatio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.2}x (rounds {:.2}x to {:.2}x)",
            self.median, self.min, self.max
        )
    }
}

/// Results of `bench mcp`.
#[derive(Debug)]
pub struct McpReport {
    /// Timed calls per client and round.
    pub count: usize,
    /// Rounds.
    pub rounds: usize,
    /// Raw keep-alive floor.
    pub raw: Result<ClientFigures, String>,
    /// Hand-written JSON-RPC over Node's `fetch`: the peer notes' floor.
    pub fetch: Result<ClientFigures, String>,
    /// rmcp over reqwest from Rust, without a session or JS.
    pub rmcp: Result<ClientFigures, String>,
    /// TypeScript SDK client.
    pub typescript: Result<ClientFigures, String>,
    /// Python SDK client.
    pub python: Result<ClientFigures, String>,
    /// Dialtone scenario.
    pub dialtone: Result<ClientFigures, String>,
    /// Raw keep-alive floor at [`BEFORE_PRIMING`].
    pub raw_before_priming: Result<ClientFigures, String>,
    /// Node fetch at [`BEFORE_PRIMING`]: how the peer notes measured their floor.
    pub fetch_before_priming: Result<ClientFigures, String>,
    /// rmcp alone at [`BEFORE_PRIMING`].
    pub rmcp_before_priming: Result<ClientFigures, String>,
    /// Dialtone scenario at [`BEFORE_PRIMING`].
    pub dialtone_before_priming: Result<ClientFigures, String>,
}

impl std::fmt::Display for McpReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "bench mcp: {} sequential tools/call echo per client and round against server-everything (streamable HTTP); server warmed with {SERVER_WARMUP} calls, {} rounds in rotated order, {WARMUP} warm-up calls per client and round",
            self.count, self.rounds
        )?;
        let rows = [
            ("raw keep-alive HTTP (floor)", LATEST, &self.raw),
            ("JSON-RPC over Node fetch", LATEST, &self.fetch),
            ("rmcp alone (no session, no JS)", LATEST, &self.rmcp),
            ("TypeScript SDK client", LATEST, &self.typescript),
            ("Python SDK client", LATEST, &self.python),
            ("Dialtone scenario", LATEST, &self.dialtone),
            (
                "raw keep-alive HTTP (floor)",
                BEFORE_PRIMING,
                &self.raw_before_priming,
            ),
            (
                "JSON-RPC over Node fetch",
                BEFORE_PRIMING,
                &self.fetch_before_priming,
            ),
            (
                "rmcp alone (no session, no JS)",
                BEFORE_PRIMING,
                &self.rmcp_before_priming,
            ),
            (
                "Dialtone scenario",
                BEFORE_PRIMING,
                &self.dialtone_before_priming,
            ),
        ];
        for (name, revision, figures) in rows {
            match figures {
                Ok(c) => writeln!(
                    f,
                    "  {name:<30} {revision}  median {:.3} ms  p99 {:.3} ms  CPU per call: client {:.3} ms, server {:.3} ms",
                    c.all.median_ms, c.all.p99_ms, c.cpu.client_ms, c.cpu.server_ms
                )?,
                Err(e) => writeln!(f, "  {name:<30} {revision}  not measured: {e}")?,
            }
        }
        if let (Ok(ours), Ok(ts)) = (&self.dialtone, &self.typescript) {
            writeln!(
                f,
                "  client CPU per call at {LATEST}: Dialtone {:.3} ms (target <= {MCP_CPU_TARGET_MS} ms); TypeScript SDK / Dialtone {:.1}x (target >= 10x)",
                ours.cpu.client_ms,
                ts.cpu.client_ms / ours.cpu.client_ms
            )?;
        }
        writeln!(
            f,
            "  ratios of the round medians, round by round; every client at {LATEST}:"
        )?;
        let same_revision = [
            ("Dialtone / raw floor", &self.dialtone, &self.raw, ""),
            (
                "TypeScript SDK / Dialtone",
                &self.typescript,
                &self.dialtone,
                "",
            ),
            ("Python SDK / Dialtone", &self.python, &self.dialtone, ""),
            ("Dialtone / Node fetch", &self.dialtone, &self.fetch, ""),
            (
                "TypeScript SDK / Node fetch",
                &self.typescript,
                &self.fetch,
                "",
            ),
            ("rmcp alone / raw floor", &self.rmcp, &self.raw, ""),
            ("Dialtone / rmcp alone", &self.dialtone, &self.rmcp, ""),
            (
                "TypeScript SDK / raw floor",
                &self.typescript,
                &self.raw,
                " (the most any client can beat TypeScript by)",
            ),
        ];
        write_ratios(f, &same_revision)?;
        writeln!(
            f,
            "  the floors and Dialtone at {BEFORE_PRIMING} (no priming event, no adapter wait), the SDKs at {LATEST} (they offer no other):"
        )?;
        let before_priming = [
            (
                "Dialtone / raw floor",
                &self.dialtone_before_priming,
                &self.raw_before_priming,
                " (target <= 1.15x)",
            ),
            (
                "TypeScript SDK / Dialtone",
                &self.typescript,
                &self.dialtone_before_priming,
                "",
            ),
            (
                "TypeScript SDK / Node fetch",
                &self.typescript,
                &self.fetch_before_priming,
                " (peer notes: 2.4x)",
            ),
            (
                "rmcp alone / raw floor",
                &self.rmcp_before_priming,
                &self.raw_before_priming,
                " (the prescribed stack's own floor)",
            ),
            (
                "Dialtone / rmcp alone",
                &self.dialtone_before_priming,
                &self.rmcp_before_priming,
                "",
            ),
            (
                "Dialtone at 2025-11-25 / here",
                &self.dialtone,
                &self.dialtone_before_priming,
                " (what the wait costs)",
            ),
        ];
        write_ratios(f, &before_priming)
    }
}

type RatioRow<'a> = (
    &'a str,
    &'a Result<ClientFigures, String>,
    &'a Result<ClientFigures, String>,
    &'a str,
);

/// One line per ratio whose two sides were both measured.
fn write_ratios(f: &mut std::fmt::Formatter<'_>, ratios: &[RatioRow<'_>]) -> std::fmt::Result {
    for (name, numerator, denominator, note) in ratios {
        if let (Ok(n), Ok(d)) = (numerator, denominator)
            && let Some(ratio) = PairedRatio::of(n, d)
        {
            writeln!(f, "    {name:<30} {ratio}{note}")?;
        }
    }
    Ok(())
}

/// The repository root (where `tests/peers` is), from the working directory up.
pub(super) fn repository_root() -> Result<PathBuf, BenchError> {
    let start = std::env::current_dir()?;
    start
        .ancestors()
        .find(|dir| dir.join("tests/peers/loopback-only.cjs").is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| BenchError::MissingPeer(start.join("tests/peers/loopback-only.cjs")))
}

pub(super) fn require(path: PathBuf) -> Result<PathBuf, BenchError> {
    if path.exists() {
        Ok(path)
    } else {
        Err(BenchError::MissingPeer(path))
    }
}

/// A child process killed on drop.
pub(super) struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(super) fn start_everything(root: &Path) -> Result<(Server, u16), BenchError> {
    let script = require(root.join(
        "target/peers/node/node_modules/@modelcontextprotocol/server-everything/dist/index.js",
    ))?;
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port();
    let child = Command::new("node")
        .arg("-r")
        .arg(root.join("tests/peers/loopback-only.cjs"))
        .arg(script)
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let server = Server(child);
    let started = Instant::now();
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
        if started.elapsed() > Duration::from_secs(30) {
            return Err(BenchError::Peer(
                "server-everything did not start within 30 s".into(),
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((server, port))
}

/// CPU ms (user + system) that `/proc/<pid>/stat` reports for a process or thread
/// (`self`, `thread-self` or a pid); NaN where there is no such file (not Linux).
pub(super) fn cpu_ms(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return f64::NAN;
    };
    // Fields after the command name (which may hold spaces): state is 3rd, utime 14th, stime 15th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        // USER_HZ is 100 on every Linux architecture we build for.
        (Some(user), Some(system)) => (user + system) * 10.0,
        _ => f64::NAN,
    }
}

/// What an external client prints: per-call ms and its CPU ms over all its calls.
#[derive(serde::Deserialize)]
struct Printed {
    times: Vec<f64>,
    #[serde(rename = "cpuMs")]
    cpu_ms: f64,
}

/// Runs an external client that prints [`Printed`] as JSON.
fn external(mut command: Command, what: &str) -> Result<Run, String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or_default()
        ));
    }
    let printed: Printed = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("{what} printed no figures: {e}"))?;
    Ok(Run::new(printed.times.len(), printed.times, printed.cpu_ms))
}

/// rmcp without Dialtone's session and JS, on a current-thread runtime as a session's worker
/// has, over the same HTTP transport. Its CPU is the whole process's, as Dialtone's is: the
/// HTTP work runs where the transport puts it, which need not be this thread.
fn rmcp_alone(url: &str, revision: &str, count: usize) -> Result<Run, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let before = cpu_ms("self");
    let times = runtime.block_on(dialtone_bindings::mcp::probe::rmcp_echo(
        url, revision, count, WARMUP,
    ))?;
    Ok(Run::new(count, times, cpu_ms("self") - before))
}

async fn dialtone(url: &str, revision: &str, count: usize) -> Result<Vec<f64>, String> {
    let pool = SessionPool::new(1).map_err(|e| e.to_string())?;
    let source = dialtone_scenario(url, revision, WARMUP, count);
    let spec = SessionSpec {
        session_id: "bench-mcp".into(),
        application: "bench".into(),
        rule: "bench".into(),
        scripts: vec![Script::compile("mcp_dialtone.voxengine.js", source)],
        // The server runs on this machine's loopback, which the default policy refuses.
        outbound: std::sync::Arc::new(dialtone_bindings::outbound::OutboundPolicy {
            application: "bench".into(),
            ..dialtone_bindings::outbound::OutboundPolicy::open()
        }),
        ..SessionSpec::default()
    };
    let (mut host, session) = host::channel();
    let ended = pool.spawn(spec, session).map_err(|e| e.to_string())?;
    let mut times: Vec<f64> = Vec::with_capacity(count);
    while let Some(message) = host.outbound.recv().await {
        match message {
            Outbound::Log {
                level: LogLevel::Info,
                text,
            } if text.starts_with('[') => times.extend(logged_times(&text)?),
            Outbound::Log { text, .. } if text.starts_with("error") => return Err(text),
            Outbound::Ended(reason) if !reason.is_normal() => return Err(reason.to_string()),
            Outbound::Ended(_) => break,
            _ => {}
        }
    }
    let _ = ended.await;
    pool.shutdown();
    if times.len() == count {
        Ok(times)
    } else {
        Err(format!(
            "the scenario logged {} of {count} figures",
            times.len()
        ))
    }
}

/// Dialtone's side of the MCP benches: `warmup` then `count` sequential `callTool('echo')`
/// calls offering `revision`, the timed ones logged as JSON arrays of ms ([`logged_times`]).
pub(super) fn dialtone_scenario(url: &str, revision: &str, warmup: usize, count: usize) -> String {
    include_str!("mcp_dialtone.voxengine.js")
        .replace("ENDPOINT", &js_string(url))
        .replace("REVISION", &js_string(revision))
        .replace("WARMUP", &warmup.to_string())
        .replace("COUNT", &count.to_string())
}

/// The per-call times in one of the scenario's figure lines.
pub(super) fn logged_times(text: &str) -> Result<Vec<f64>, String> {
    serde_json::from_str(text).map_err(|e| format!("unexpected figures {text}: {e}"))
}

/// `text` as a JS string literal (JSON's quoting), for filling in a bench scenario.
pub(super) fn js_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// The clients.
#[derive(Debug, Clone, Copy)]
enum Client {
    Raw,
    Fetch,
    Rmcp,
    TypeScript,
    Python,
    Dialtone,
}

/// What each round runs, in the order of the report: a client and the revision it offers.
const ROWS: [(Client, &str); 10] = [
    (Client::Raw, LATEST),
    (Client::Fetch, LATEST),
    (Client::Rmcp, LATEST),
    (Client::TypeScript, LATEST),
    (Client::Python, LATEST),
    (Client::Dialtone, LATEST),
    (Client::Raw, BEFORE_PRIMING),
    (Client::Fetch, BEFORE_PRIMING),
    (Client::Rmcp, BEFORE_PRIMING),
    (Client::Dialtone, BEFORE_PRIMING),
];

/// Runs the benchmark (from the repository, after `tests/run` installed the peers).
pub async fn mcp(count: usize, rounds: usize) -> Result<McpReport, BenchError> {
    let root = repository_root()?;
    let node_dir = require(root.join("target/peers/node"))?;
    let python = require(root.join("target/peers/venv-mcp2/bin/python"))?;
    let (server, port) = start_everything(&root)?;
    let url = format!("http://127.0.0.1:{port}/mcp");
    // ES modules resolve packages next to the script, so the node client lives in node_dir.
    let ts_script = node_dir.join("dialtone-bench-ts.mjs");
    std::fs::write(&ts_script, include_str!("mcp_ts_client.mjs"))?;
    let fetch_script = node_dir.join("dialtone-bench-fetch.mjs");
    std::fs::write(&fetch_script, include_str!("mcp_fetch_client.mjs"))?;
    let py_script = node_dir.join("dialtone-bench-py.py");
    std::fs::write(&py_script, include_str!("mcp_py_client.py"))?;
    let args = [url.clone(), count.to_string(), WARMUP.to_string()];

    tokio::task::spawn_blocking(move || mcp_raw::floor(port, 0, SERVER_WARMUP, LATEST))
        .await
        .map_err(|e| BenchError::Peer(e.to_string()))?
        .map_err(|e| BenchError::Peer(format!("warming the server failed: {e}")))?;

    let server_pid = server.0.id().to_string();
    let mut samples: [Result<Vec<Run>, String>; ROWS.len()] =
        std::array::from_fn(|_| Ok(Vec::new()));
    for round in 0..rounds {
        for turn in 0..ROWS.len() {
            let index = (round + turn) % ROWS.len();
            let Ok(collected) = &mut samples[index] else {
                continue;
            };
            let server_before = cpu_ms(&server_pid);
            let (client, revision) = ROWS[index];
            let measured = match client {
                Client::Raw => tokio::task::spawn_blocking(move || {
                    let before = cpu_ms("thread-self");
                    let times = mcp_raw::floor(port, count, WARMUP, revision)?;
                    Ok(Run::new(count, times, cpu_ms("thread-self") - before))
                })
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r),
                Client::Rmcp => {
                    let url = url.clone();
                    tokio::task::spawn_blocking(move || rmcp_alone(&url, revision, count))
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|r| r)
                }
                Client::Fetch => {
                    let mut command = Command::new("node");
                    command.arg(&fetch_script).args(&args).arg(revision);
                    external(command, "the Node fetch client")
                }
                Client::TypeScript => {
                    let mut command = Command::new("node");
                    command.arg(&ts_script).args(&args);
                    external(command, "the TypeScript SDK client")
                }
                Client::Python => {
                    let mut command = Command::new(&python);
                    command.arg(&py_script).args(&args);
                    external(command, "the Python SDK client")
                }
                Client::Dialtone => {
                    let before = cpu_ms("self");
                    dialtone(&url, revision, count)
                        .await
                        .map(|times| Run::new(count, times, cpu_ms("self") - before))
                }
            };
            match measured {
                Ok(mut round) => {
                    round.server_cpu_ms = cpu_ms(&server_pid) - server_before;
                    collected.push(round)
                }
                Err(e) => samples[index] = Err(e),
            }
        }
    }
    drop(server);
    let [
        raw,
        fetch,
        rmcp,
        typescript,
        python,
        dialtone,
        raw_before_priming,
        fetch_before_priming,
        rmcp_before_priming,
        dialtone_before_priming,
    ] = samples.map(|s| s.and_then(|r| ClientFigures::from_rounds(&r).map_err(|e| e.to_string())));
    Ok(McpReport {
        count,
        rounds,
        raw,
        fetch,
        rmcp,
        typescript,
        python,
        dialtone,
        raw_before_priming,
        fetch_before_priming,
        rmcp_before_priming,
        dialtone_before_priming,
    })
}
