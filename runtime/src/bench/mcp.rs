//! `dialtone bench mcp`: sequential `tools/call echo` against one local server-everything
//! (streamable HTTP), measured in the same run for the TypeScript SDK client, the Python SDK
//! client, a raw keep-alive HTTP floor, and a Dialtone scenario on the session pool.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dialtone_bindings::SessionPool;
use dialtone_bindings::host::{self, LogLevel, Outbound, Script, SessionSpec};
use thiserror::Error;

/// Calls warmed up before timing.
const WARMUP: usize = 20;

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
    fn from_samples(mut samples: Vec<f64>) -> Result<Self, BenchError> {
        if samples.is_empty() {
            return Err(BenchError::Peer("no samples".into()));
        }
        samples.sort_by(f64::total_cmp);
        let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Ok(Self {
            median_ms: pick(0.5),
            p99_ms: pick(0.99),
        })
    }
}

/// Results of `bench mcp`.
#[derive(Debug)]
pub struct McpReport {
    /// Calls per client.
    pub count: usize,
    /// Raw keep-alive floor.
    pub raw: Result<CallStats, String>,
    /// TypeScript SDK client.
    pub typescript: Result<CallStats, String>,
    /// Python SDK client.
    pub python: Result<CallStats, String>,
    /// Dialtone scenario.
    pub dialtone: Result<CallStats, String>,
}

impl std::fmt::Display for McpReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "bench mcp: {} sequential tools/call echo per client against server-everything (streamable HTTP), {WARMUP} warm-up calls",
            self.count
        )?;
        let rows = [
            ("raw keep-alive HTTP (floor)", &self.raw),
            ("TypeScript SDK client", &self.typescript),
            ("Python SDK client", &self.python),
            ("Dialtone scenario", &self.dialtone),
        ];
        for (name, stats) in rows {
            match stats {
                Ok(s) => writeln!(
                    f,
                    "  {name:<30} median {:.3} ms  p99 {:.3} ms",
                    s.median_ms, s.p99_ms
                )?,
                Err(e) => writeln!(f, "  {name:<30} not measured: {e}")?,
            }
        }
        if let (Ok(d), Ok(raw)) = (&self.dialtone, &self.raw) {
            writeln!(
                f,
                "  Dialtone / raw floor: {:.2}x (target <= 1.15x)",
                d.median_ms / raw.median_ms
            )?;
        }
        if let (Ok(d), Ok(ts)) = (&self.dialtone, &self.typescript) {
            writeln!(
                f,
                "  TypeScript SDK / Dialtone: {:.2}x (target >= 2x)",
                ts.median_ms / d.median_ms
            )?;
        }
        if let (Ok(d), Ok(py)) = (&self.dialtone, &self.python) {
            write!(
                f,
                "  Python SDK / Dialtone: {:.2}x",
                py.median_ms / d.median_ms
            )?;
        }
        Ok(())
    }
}

/// The repository root (where `tests/peers` is), from the working directory up.
fn repository_root() -> Result<PathBuf, BenchError> {
    let start = std::env::current_dir()?;
    start
        .ancestors()
        .find(|dir| dir.join("tests/peers/loopback-only.cjs").is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| BenchError::MissingPeer(start.join("tests/peers/loopback-only.cjs")))
}

fn require(path: PathBuf) -> Result<PathBuf, BenchError> {
    if path.exists() {
        Ok(path)
    } else {
        Err(BenchError::MissingPeer(path))
    }
}

/// A child process killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_everything(root: &Path) -> Result<(Server, u16), BenchError> {
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

/// Runs an external client that prints a JSON array of per-call ms.
fn external(mut command: Command, what: &str) -> Result<CallStats, String> {
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
    let samples: Vec<f64> = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("{what} printed no figures: {e}"))?;
    CallStats::from_samples(samples).map_err(|e| e.to_string())
}

async fn dialtone(url: &str, count: usize) -> Result<CallStats, String> {
    let pool = SessionPool::new(1).map_err(|e| e.to_string())?;
    let source = include_str!("mcp_dialtone.voxengine.js")
        .replace("ENDPOINT", &format!("{url:?}"))
        .replace("WARMUP", &WARMUP.to_string())
        .replace("COUNT", &count.to_string());
    let spec = SessionSpec {
        session_id: "bench-mcp".into(),
        application: "bench".into(),
        rule: "bench".into(),
        scripts: vec![Script {
            name: "mcp_dialtone.voxengine.js".into(),
            source,
        }],
        ..SessionSpec::default()
    };
    let (mut host, session) = host::channel();
    let ended = pool.spawn(spec, session).map_err(|e| e.to_string())?;
    let mut figures = None;
    while let Some(message) = host.outbound.recv().await {
        match message {
            Outbound::Log {
                level: LogLevel::Info,
                text,
            } if text.starts_with('{') => figures = Some(text),
            Outbound::Log { text, .. } if text.starts_with("error") => return Err(text),
            Outbound::Ended(reason) if !reason.is_normal() => return Err(reason.to_string()),
            Outbound::Ended(_) => break,
            _ => {}
        }
    }
    let _ = ended.await;
    pool.shutdown();
    let figures: serde_json::Value =
        serde_json::from_str(&figures.ok_or("the scenario printed no figures")?)
            .map_err(|e| e.to_string())?;
    match (figures["median_ms"].as_f64(), figures["p99_ms"].as_f64()) {
        (Some(median_ms), Some(p99_ms)) => Ok(CallStats { median_ms, p99_ms }),
        _ => Err(format!("unexpected figures {figures}")),
    }
}

/// Runs the benchmark (from the repository, after `tests/run` installed the peers).
pub async fn mcp(count: usize) -> Result<McpReport, BenchError> {
    let root = repository_root()?;
    let node_dir = require(root.join("target/peers/node"))?;
    let python = require(root.join("target/peers/venv-mcp2/bin/python"))?;
    let (server, port) = start_everything(&root)?;
    let url = format!("http://127.0.0.1:{port}/mcp");
    // ES modules resolve packages next to the script, so the node clients live in node_dir.
    let write = |name: &str, text: &str| -> Result<PathBuf, BenchError> {
        let path = node_dir.join(name);
        std::fs::write(&path, text)?;
        Ok(path)
    };
    let raw_script = write("dialtone-bench-raw.mjs", include_str!("mcp_raw_client.mjs"))?;
    let ts_script = write("dialtone-bench-ts.mjs", include_str!("mcp_ts_client.mjs"))?;
    let py_script = write("dialtone-bench-py.py", include_str!("mcp_py_client.py"))?;
    let args = [url.clone(), count.to_string(), WARMUP.to_string()];
    let node = |script: &PathBuf| {
        let mut command = Command::new("node");
        command.arg(script).args(&args);
        command
    };
    let raw = external(node(&raw_script), "the raw client");
    let typescript = external(node(&ts_script), "the TypeScript SDK client");
    let mut py = Command::new(python);
    py.arg(&py_script).args(&args);
    let python = external(py, "the Python SDK client");
    let dialtone = dialtone(&url, count).await;
    drop(server);
    Ok(McpReport {
        count,
        raw,
        typescript,
        python,
        dialtone,
    })
}
