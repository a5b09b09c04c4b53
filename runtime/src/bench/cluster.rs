//! `dialtone bench cluster`: calls through Kamailio to 1, 2 and 3 `dialtone serve` nodes
//! sharing a PostgreSQL store, beside calls straight to one node, at the same offered rate.
//! On one machine the nodes share its cores, so the figures that carry over to real
//! hardware are ratios: a node's CPU per call behind Kamailio against direct, and Kamailio's
//! own CPU per call against a node's. Then the shared store under that load: the p50/p99 of
//! an `ApplicationStorage` get and of a session-history write (queued to committed) against
//! PostgreSQL, beside the same on the embedded SQLite store.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dialtone_bindings::host::storage::AppStorage as _;

use super::kamailio::Kamailio;
use super::mcp::{BenchError, cpu_ms};
use super::postgres::Postgres;
use super::sip::{failed_calls, run_load_output};
use crate::app_storage::AppStore;
use crate::history::{History, SessionRow, Write};

/// The nodes' scenario: answer, end with the call.
pub const ANSWER: &str = r#"
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
"#;

/// The admin token of the nodes a bench or test starts.
pub const NODE_TOKEN: &str = "cluster-test-token-0123456789";

fn failed(what: impl std::fmt::Display) -> BenchError {
    BenchError::Peer(what.to_string())
}

/// A new random secrets master key (64 hex digits) for the nodes of one cluster.
pub fn random_master_key() -> Result<String, BenchError> {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| failed("no system randomness"))?;
    Ok(crate::users::hex(&bytes))
}

/// One `dialtone serve` process on loopback, killed on drop.
#[derive(Debug)]
pub struct ServeNode {
    child: Option<Child>,
    dir: PathBuf,
    /// Its SIP port (UDP).
    pub sip: u16,
    /// Its HTTP port (health, metrics, admin API).
    pub http: u16,
}

impl ServeNode {
    /// Starts `binary serve` with one JS thread, application `default` routing every
    /// destination to `scenario`, the PostgreSQL store at `store_url`, admin token
    /// [`NODE_TOKEN`] and secrets master key `master_key` (every node of a cluster holds the
    /// same), logging at `log` (a `RUST_LOG` filter), and waits until `/health` answers.
    pub fn start(
        binary: &Path,
        scenario: &str,
        store_url: &str,
        master_key: &str,
        log: &str,
    ) -> Result<Self, BenchError> {
        let dir = std::env::temp_dir().join(format!(
            "dialtone-node-{}-{}",
            std::process::id(),
            super::postgres::unique()
        ));
        std::fs::create_dir_all(&dir)?;
        let sip = super::sip::free_port()?;
        let http = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        std::fs::write(dir.join("scenario.voxengine.js"), scenario)?;
        // TOML strings, quoted and escaped as TOML wants them.
        let quoted = |text: String| toml::Value::String(text).to_string();
        let config = format!(
            "[store]\nurl = {}\n\n[server]\nsip = \"127.0.0.1:{sip}\"\nhttp = \"127.0.0.1:{http}\"\nrtp_ports = \"0\"\n\
             data_dir = {}\nadmin_token = {}\n\n[[application]]\nname = \"default\"\n\n\
             [[application.rule]]\nname = \"all\"\npattern = \".*\"\nscenarios = [\"scenario.voxengine.js\"]\n",
            quoted(store_url.to_owned()),
            quoted(dir.join("data").display().to_string()),
            quoted(NODE_TOKEN.to_owned()),
        );
        std::fs::write(dir.join("node.toml"), config)?;
        let output = std::fs::File::create(dir.join("node.log"))?;
        let child = Command::new(binary)
            .args(["serve", "--threads", "1", "--config"])
            .arg(dir.join("node.toml"))
            .env("RUST_LOG", log)
            .env(crate::secrets::key::KEY_ENV, master_key)
            .stdin(Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output)
            .spawn()?;
        let mut node = Self {
            child: Some(child),
            dir,
            sip,
            http,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(child) = node.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                return Err(failed(format!(
                    "the node exited ({status}):\n{}",
                    node.log()
                )));
            }
            if node.get("/health").is_ok_and(|(status, _)| status == 200) {
                return Ok(node);
            }
            if Instant::now() > deadline {
                return Err(failed(format!(
                    "the node did not answer /health within 30 s:\n{}",
                    node.log()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A GET of `path` on the node's HTTP port: status and body.
    pub fn get(&self, path: &str) -> Result<(u16, String), BenchError> {
        http_get(self.http, path)
    }

    /// Calls up on this node now (`/health`'s `calls`).
    pub fn calls_up(&self) -> Result<u64, BenchError> {
        calls_up(self.http)
    }

    /// Calls this node answered so far (from `/metrics`).
    pub fn answered(&self) -> Result<u64, BenchError> {
        let (_, metrics) = self.get("/metrics")?;
        let sample = "dialtone_calls_total{application=\"default\",result=\"answered\"} ";
        Ok(metrics
            .lines()
            .find_map(|line| line.strip_prefix(sample)?.trim().parse().ok())
            .unwrap_or(0))
    }

    /// The process's CPU ms so far (user + system).
    pub fn cpu_ms(&self) -> f64 {
        self.child
            .as_ref()
            .map_or(f64::NAN, |child| cpu_ms(&child.id().to_string()))
    }

    /// Kills the process at once (SIGKILL): its calls are lost, nothing is flushed.
    pub fn kill(&mut self) -> Result<(), BenchError> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// The node's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("node.log")).unwrap_or_default()
    }
}

/// A GET of `path` on a node's HTTP port (with the nodes' admin token): status and body.
fn http_get(port: u16, path: &str) -> Result<(u16, String), BenchError> {
    http_request(port, "GET", path, "")
}

/// `method path` with a JSON `body` (none when empty) on the node at HTTP port `port`, with
/// the nodes' admin token: status and body.
fn http_request(
    port: u16,
    method: &str,
    path: &str,
    body: &str,
) -> Result<(u16, String), BenchError> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {NODE_TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut reply = String::new();
    stream.take(16 << 20).read_to_string(&mut reply)?;
    let status = reply
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| failed(format!("{method} {path}: no HTTP status")))?;
    let body = reply
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, body)| body.to_owned());
    Ok((status, body))
}

/// Calls up on the node at HTTP port `port` now (`/health`'s `calls`).
fn calls_up(port: u16) -> Result<u64, BenchError> {
    let (_, health) = http_get(port, "/health")?;
    serde_json::from_str::<serde_json::Value>(&health)
        .ok()
        .and_then(|health| health["calls"].as_u64())
        .ok_or_else(|| failed(format!("/health has no calls count: {health}")))
}

impl Drop for ServeNode {
    fn drop(&mut self) {
        let _ = self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One run of the load.
#[derive(Debug, Clone)]
pub struct ClusterRun {
    /// "direct" or "N nodes".
    pub label: String,
    /// Calls placed, and failed by SIPp's count.
    pub calls: u32,
    /// Calls SIPp counted as failed.
    pub failed: u32,
    /// Seconds from the first call to the last call's end.
    pub seconds: f64,
    /// Calls each node answered.
    pub per_node: Vec<u64>,
    /// The nodes' CPU ms over the run, summed.
    pub node_cpu_ms: f64,
    /// Kamailio's CPU ms over the run (0 for direct).
    pub kamailio_cpu_ms: f64,
}

impl ClusterRun {
    fn answered(&self) -> u64 {
        self.per_node.iter().sum()
    }

    /// The nodes' CPU ms per answered call.
    pub fn node_ms_per_call(&self) -> f64 {
        self.node_cpu_ms / self.answered().max(1) as f64
    }

    /// Kamailio's CPU ms per answered call.
    pub fn kamailio_ms_per_call(&self) -> f64 {
        self.kamailio_cpu_ms / self.answered().max(1) as f64
    }
}

/// Admin edits timed by [`catalog_propagation`].
const CATALOG_EDITS: usize = 50;

/// Adds [`CATALOG_EDITS`] rules through the first node's admin API, one at a time, and times
/// each from the request until every other node's `/health` shows its catalog version.
fn catalog_propagation(nodes: &[ServeNode]) -> Result<Latency, BenchError> {
    let (first, others) = nodes
        .split_first()
        .ok_or_else(|| failed("no node to edit"))?;
    let version = |node: &ServeNode| -> Result<i64, BenchError> {
        let (_, health) = node.get("/health")?;
        serde_json::from_str::<serde_json::Value>(&health)
            .ok()
            .and_then(|h| h["catalog_version"].as_i64())
            .ok_or_else(|| failed(format!("no catalog_version in /health: {health}")))
    };
    let mut samples = Vec::with_capacity(CATALOG_EDITS);
    for n in 0..CATALOG_EDITS {
        let started = Instant::now();
        let rule = format!(
            r#"{{"name": "bench-{n}", "pattern": "bench-{n}", "scenarios": ["scenario.voxengine.js"]}}"#
        );
        let (status, body) =
            http_request(first.http, "POST", "/applications/default/rules", &rule)?;
        if status != 201 {
            return Err(failed(format!("adding rule bench-{n}: {status} {body}")));
        }
        let wanted = version(first)?;
        for node in others {
            while version(node)? < wanted {
                if started.elapsed() > Duration::from_secs(10) {
                    return Err(failed(format!(
                        "node {} did not run catalog version {wanted} within 10 s",
                        node.http
                    )));
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(Latency::of(samples))
}

/// p50 and p99 of some ms samples.
#[derive(Debug, Clone, Copy, Default)]
pub struct Latency {
    /// Median ms.
    pub p50: f64,
    /// 99th percentile ms.
    pub p99: f64,
}

impl Latency {
    fn of(mut samples: Vec<f64>) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_by(f64::total_cmp);
        let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Self {
            p50: pick(0.5),
            p99: pick(0.99),
        }
    }
}

/// What `bench cluster` measured.
#[derive(Debug, Clone)]
pub struct ClusterReport {
    /// Offered calls per second, and seconds of load per run.
    pub rate: u32,
    /// Seconds of load per run.
    pub seconds: u32,
    /// Direct to one node, then through Kamailio to 1, 2 and 3 nodes.
    pub runs: Vec<ClusterRun>,
    /// `ApplicationStorage` get: PostgreSQL (under the 3-node load), SQLite (same moment).
    pub get: (Latency, Latency),
    /// Session-history write, queued to committed: PostgreSQL, SQLite.
    pub history: (Latency, Latency),
    /// An admin edit on node 1 until both other nodes run its catalog version (idle nodes).
    pub catalog: Latency,
    /// This machine's cores (for the ceiling the CPU per call implies).
    pub cores: usize,
}

impl std::fmt::Display for ClusterReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "bench cluster: {} calls/s offered for {} s per run (SIPp, each call answered and hung up after 0.5 s); release nodes with one JS thread, sharing a PostgreSQL store, all on this machine",
            self.rate, self.seconds
        );
        let direct = self
            .runs
            .first()
            .map_or(f64::NAN, ClusterRun::node_ms_per_call);
        for run in &self.runs {
            let rate = run.answered() as f64 / run.seconds.max(0.001);
            let _ = write!(
                out,
                "  {:<26} {} calls, {} failed, {:.0} calls/s; answered per node {:?}; nodes' CPU {:.3} ms per call ({:.2}x direct)",
                run.label,
                run.calls,
                run.failed,
                rate,
                run.per_node,
                run.node_ms_per_call(),
                run.node_ms_per_call() / direct
            );
            if run.kamailio_cpu_ms > 0.0 {
                let _ = write!(
                    out,
                    "; Kamailio {:.3} ms per call ({:.2}x a node's)",
                    run.kamailio_ms_per_call(),
                    run.kamailio_ms_per_call() / run.node_ms_per_call()
                );
            }
            let per_call = run.node_ms_per_call() + run.kamailio_ms_per_call();
            let _ = write!(
                out,
                "; at that cost {} cores carry ~{:.0} calls/s",
                self.cores,
                self.cores as f64 * 1000.0 / per_call
            );
            out.push('\n');
        }
        let line = |name: &str, (pg, sqlite): (Latency, Latency)| {
            format!(
                "  {name}: PostgreSQL p50 {:.3} ms, p99 {:.3} ms; embedded SQLite p50 {:.3} ms, p99 {:.3} ms (p99 {:.2}x SQLite's)\n",
                pg.p50,
                pg.p99,
                sqlite.p50,
                sqlite.p99,
                pg.p99 / sqlite.p99
            )
        };
        out.push_str("  the store, measured during the 3-node run:\n");
        out.push_str(&line("  ApplicationStorage get", self.get));
        out.push_str(&line(
            "  session-history write (queued -> committed)",
            self.history,
        ));
        let _ = writeln!(
            out,
            "  an admin edit on node 1 until nodes 2 and 3 run it ({CATALOG_EDITS} rules added, idle nodes): p50 {:.1} ms, p99 {:.1} ms",
            self.catalog.p50, self.catalog.p99
        );
        f.write_str(&out)
    }
}

/// Runs SIPp at `rate` for `seconds` against `target` (host:port) while measuring the nodes'
/// and Kamailio's CPU.
fn load(
    dir: &Path,
    label: &str,
    target: &str,
    nodes: &[ServeNode],
    kamailio: Option<&Kamailio>,
    (rate, seconds): (u32, u32),
) -> Result<ClusterRun, BenchError> {
    let xml = dir.join("uac.xml");
    std::fs::write(&xml, super::sipp_xml::caller_hangs_up_with(""))?;
    let xml = xml.display().to_string();
    let answered_before: Vec<u64> = nodes
        .iter()
        .map(ServeNode::answered)
        .collect::<Result<_, _>>()?;
    let node_cpu = || nodes.iter().map(ServeNode::cpu_ms).sum::<f64>();
    let kamailio_cpu = || kamailio.map_or(0.0, Kamailio::cpu_ms);
    let (cpu_before, kamailio_before) = (node_cpu(), kamailio_cpu());
    let began = Instant::now();
    let stdout = run_load_output(dir, target, &["-sf", &xml, "-s", "100"], rate, seconds)?;
    let elapsed = began.elapsed().as_secs_f64();
    let per_node = nodes
        .iter()
        .zip(&answered_before)
        .map(|(node, before)| Ok(node.answered()? - before))
        .collect::<Result<_, BenchError>>()?;
    Ok(ClusterRun {
        label: label.to_owned(),
        calls: rate * seconds,
        failed: failed_calls(&stdout),
        seconds: elapsed,
        per_node,
        node_cpu_ms: node_cpu() - cpu_before,
        kamailio_cpu_ms: kamailio_cpu() - kamailio_before,
    })
}

/// Times `count` gets of one key, and `count` history writes each waited to its commit.
fn store_latency(
    store: &AppStore,
    history: &History,
    count: usize,
) -> Result<(Latency, Latency), BenchError> {
    store
        .put("default", "bench:key", "value", 3600)
        .map_err(failed)?;
    let mut gets = Vec::with_capacity(count);
    for _ in 0..count {
        let began = Instant::now();
        store.get("default", "bench:key").map_err(failed)?;
        gets.push(began.elapsed().as_secs_f64() * 1000.0);
    }
    let mut writes = Vec::with_capacity(count);
    for i in 0..count {
        let began = Instant::now();
        let id = format!("bench-{}-{i}", super::postgres::unique());
        history.write(Write::Start(SessionRow::started(
            &id,
            "default",
            "bench",
            "",
            "",
            "",
            chrono::Utc::now(),
        )));
        history.flush().map_err(failed)?;
        writes.push(began.elapsed().as_secs_f64() * 1000.0);
    }
    Ok((Latency::of(gets), Latency::of(writes)))
}

/// Runs the benchmark: `rate` calls/s for `seconds` per run.
pub fn cluster(rate: u32, seconds: u32) -> Result<ClusterReport, BenchError> {
    let binary = std::env::current_exe()?;
    let dir = std::env::temp_dir().join(format!("dialtone-bench-cluster-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let database = Postgres::start_migrated()?;
    let key = random_master_key()?;
    let nodes = (0..3)
        .map(|_| ServeNode::start(&binary, ANSWER, &database.url(), &key, "warn"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut runs = Vec::new();
    let direct = format!("127.0.0.1:{}", nodes[0].sip);
    runs.push(load(
        &dir,
        "direct to 1 node",
        &direct,
        &nodes[..1],
        None,
        (rate, seconds),
    )?);
    let mut figures = None;
    for count in 1..=3 {
        let ports: Vec<u16> = nodes[..count].iter().map(|n| n.sip).collect();
        let kamailio = Kamailio::start(&ports, 2)?;
        for &port in &ports {
            kamailio.until_flags(port, |f| f.starts_with('A'), Duration::from_secs(10))?;
        }
        let target = format!("127.0.0.1:{}", kamailio.port);
        let label = format!(
            "via Kamailio to {count} node{}",
            if count == 1 { "" } else { "s" }
        );
        if count < 3 {
            runs.push(load(
                &dir,
                &label,
                &target,
                &nodes[..count],
                Some(&kamailio),
                (rate, seconds),
            )?);
            continue;
        }
        // The store's figures under the 3-node load, from this process: PostgreSQL and, for
        // comparison, the embedded SQLite store in a temp directory.
        let pool = Arc::new(crate::store::PgPool::connect(&database.url(), 4).map_err(failed)?);
        let measured = std::thread::spawn({
            let sqlite_dir = dir.join("sqlite");
            let ports: Vec<u16> = nodes.iter().map(|n| n.http).collect();
            move || -> Result<_, BenchError> {
                // Under load: once calls are up on the nodes.
                let deadline = Instant::now() + Duration::from_secs(u64::from(seconds) + 10);
                while ports.iter().map(|&p| calls_up(p).unwrap_or(0)).sum::<u64>() == 0 {
                    if Instant::now() > deadline {
                        return Err(failed("no call came up on the nodes"));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                let pg = store_latency(
                    &AppStore::postgres(pool.clone()),
                    &History::open_postgres(pool, 30).map_err(failed)?,
                    500,
                )?;
                let sqlite = store_latency(
                    &AppStore::open(&sqlite_dir).map_err(failed)?,
                    &History::open(&sqlite_dir, 30).map_err(failed)?,
                    500,
                )?;
                Ok((pg, sqlite))
            }
        });
        runs.push(load(
            &dir,
            &label,
            &target,
            &nodes,
            Some(&kamailio),
            (rate, seconds),
        )?);
        figures = Some(
            measured
                .join()
                .map_err(|_| failed("the store measurement panicked"))??,
        );
    }
    let catalog = catalog_propagation(&nodes)?;
    let _ = std::fs::remove_dir_all(&dir);
    let ((pg_get, pg_write), (sqlite_get, sqlite_write)) =
        figures.ok_or_else(|| failed("the store was not measured"))?;
    Ok(ClusterReport {
        rate,
        seconds,
        runs,
        get: (pg_get, sqlite_get),
        history: (pg_write, sqlite_write),
        catalog,
        cores: std::thread::available_parallelism().map_or(1, usize::from),
    })
}
