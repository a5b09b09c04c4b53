//! Real peers for the integration tests: MCP servers from npm and PyPI, started on loopback
//! and stopped when their handle drops. `tests/run` installs them into `target/peers/`
//! (`tests/peers/install-mcp-peers.sh`); a missing install is an error that says so.

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

/// How long a peer may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Where `tests/peers/install-mcp-peers.sh` installs the peers.
pub fn peers_dir() -> PathBuf {
    crate::workspace_root().join("target").join("peers")
}

fn require(path: PathBuf) -> Result<PathBuf> {
    if path.exists() {
        Ok(path)
    } else {
        bail!(
            "{} is missing: run tests/run (it installs the MCP test peers)",
            path.display()
        )
    }
}

/// A free TCP port on 127.0.0.1 (for peers that cannot report the port they bound).
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// How many TCP connections to 127.0.0.1:`port` are still held open by a client on this host
/// (established, connecting, or closed by the server but not by the client), from
/// `/proc/net/tcp` and `/proc/net/tcp6`. Connections the client has closed (FIN-WAIT,
/// TIME-WAIT) do not count. For "no socket left behind" checks after a scenario run.
pub fn client_connections_to(port: u16) -> Result<usize> {
    const HELD_OPEN: [&str; 3] = ["01", "02", "08"]; // ESTABLISHED, SYN_SENT, CLOSE_WAIT
    let mut held = 0;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).with_context(|| format!("reading {table}"))?;
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(remote), Some(state)) = (fields.get(2), fields.get(3)) else {
                continue;
            };
            let remote_port = remote
                .rsplit_once(':')
                .and_then(|(_, hex)| u16::from_str_radix(hex, 16).ok());
            if remote_port == Some(port) && HELD_OPEN.contains(state) {
                held += 1;
            }
        }
    }
    Ok(held)
}

/// Waits until no connection to `port` is held open, at most `within`; the count left then.
/// Dialtone's MCP connections are pooled per process: an idle one goes 10 to 20 s after its
/// last use.
pub fn connections_closed_within(port: u16, within: std::time::Duration) -> Result<usize> {
    let deadline = std::time::Instant::now() + within;
    loop {
        let held = client_connections_to(port)?;
        if held == 0 || std::time::Instant::now() >= deadline {
            return Ok(held);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// A running peer process; killed (and reaped) on drop.
#[derive(Debug)]
pub struct Peer {
    child: Child,
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    /// Where its stderr goes.
    log: PathBuf,
}

/// A fresh file for a peer's stderr.
fn log_file(what: &str) -> Result<(PathBuf, std::fs::File)> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!("dialtone-peers-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let name: String = what
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let path = dir.join(format!(
        "{}-{name}.log",
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let file = std::fs::File::create(&path)?;
    Ok((path, file))
}

impl Peer {
    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// What the peer wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the peer's stderr holds `marker` at least `count` times; false after
    /// `timeout` (polled every 20 ms: the peer writes the line, nothing signals it).
    pub fn wait_for_log(&self, marker: &str, count: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.log().matches(marker).count() >= count {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Stops the peer now (a server killed mid-call).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts `command`, which prints `READY <port>` on stdout once it accepts connections.
fn start_with_ready_line(mut command: Command, what: &str) -> Result<Peer> {
    let (log, stderr) = log_file(what)?;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .with_context(|| format!("starting {what}"))?;
    let stdout = child.stdout.take().context("peer stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(port) = line
                .strip_prefix("READY ")
                .and_then(|p| p.trim().parse::<u16>().ok())
            {
                let _ = tx.send(port);
            }
        }
    });
    match rx.recv_timeout(START_TIMEOUT) {
        Ok(port) => Ok(Peer { child, port, log }),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{what} did not print READY within {START_TIMEOUT:?}")
        }
    }
}

/// Which PyPI `mcp` major version runs the Python server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PyMcp {
    /// mcp 2.x (`MCPServer`).
    V2,
    /// mcp 1.x (`FastMCP`).
    V1,
}

/// The Python MCP test server (`tests/peers/mcp_server.py`): `transport` is `sse` or
/// `streamable-http`; with `token`, requests need `Authorization: Bearer <token>`.
pub fn python_server(version: PyMcp, transport: &str, token: Option<&str>) -> Result<Peer> {
    python_server_with(version, transport, 0, token, None, None)
}

/// The Python MCP test server as an OAuth-protected resource and its own authorization server
/// (the SDK's routes; approves at once, access tokens live `ttl_s`, refresh tokens rotate).
pub fn python_oauth_server(version: PyMcp, ttl_s: u32) -> Result<Peer> {
    python_server_with(version, "streamable-http", 0, None, None, Some(ttl_s))
}

/// The Python MCP test server on a given port (to restart it on the same address).
pub fn python_server_on(version: PyMcp, transport: &str, port: u16) -> Result<Peer> {
    python_server_with(version, transport, port, None, None, None)
}

/// The Python MCP test server over HTTPS with this certificate and key (PEM files); its
/// address is `https://127.0.0.1:PORT`.
pub fn python_server_tls(version: PyMcp, transport: &str, cert: &Path, key: &Path) -> Result<Peer> {
    python_server_with(version, transport, 0, None, Some((cert, key)), None)
}

/// Writes test certificate authorities A and B and a server certificate for 127.0.0.1 from
/// each into `dir` (`ca-a.pem`, `a.pem`, `a.key`, `ca-b.pem`, `b.pem`, `b.key`).
pub fn make_test_certificates(dir: &Path) -> Result<()> {
    let python = require(peers_dir().join("venv-mcp2").join("bin").join("python"))?;
    let status = Command::new(python)
        .arg(crate::workspace_root().join("tests/peers/make_certs.py"))
        .arg(dir)
        .status()
        .context("running make_certs.py")?;
    if !status.success() {
        bail!("make_certs.py failed: {status}");
    }
    Ok(())
}

fn python_server_with(
    version: PyMcp,
    transport: &str,
    port: u16,
    token: Option<&str>,
    tls: Option<(&Path, &Path)>,
    oauth_ttl_s: Option<u32>,
) -> Result<Peer> {
    let venv = match version {
        PyMcp::V2 => "venv-mcp2",
        PyMcp::V1 => "venv-mcp1",
    };
    let python = require(peers_dir().join(venv).join("bin").join("python"))?;
    let mut command = Command::new(python);
    command
        .arg(crate::workspace_root().join("tests/peers/mcp_server.py"))
        .arg(transport)
        .arg(port.to_string())
        .args(["--seed", "7"]);
    if let Some(token) = token {
        command.args(["--token", token]);
    }
    if let Some((cert, key)) = tls {
        command.arg("--tls").arg(cert).arg(key);
    }
    if let Some(ttl) = oauth_ttl_s {
        command.args(["--oauth", &ttl.to_string()]);
    }
    start_with_ready_line(
        command,
        &format!("the Python MCP server ({venv}, {transport})"),
    )
}

/// A deliberately broken HTTP server (`tests/peers/bad_http_server.py`): `malformed`,
/// `silent` or `html`.
pub fn bad_http_server(mode: &str) -> Result<Peer> {
    let python = require(peers_dir().join("venv-mcp2").join("bin").join("python"))?;
    let mut command = Command::new(python);
    command
        .arg(crate::workspace_root().join("tests/peers/bad_http_server.py"))
        .arg(mode)
        .arg("0");
    start_with_ready_line(command, &format!("the bad HTTP server ({mode})"))
}

/// The npm `@modelcontextprotocol/server-everything` in `streamableHttp` or `sse` mode, bound
/// to 127.0.0.1 by the loopback-only preload.
pub fn server_everything(mode: &str) -> Result<Peer> {
    let script = require(
        peers_dir().join("node/node_modules/@modelcontextprotocol/server-everything/dist/index.js"),
    )?;
    let port = free_port()?;
    let (log, stderr) = log_file(&format!("server-everything-{mode}"))?;
    let child = Command::new("node")
        .arg("-r")
        .arg(crate::workspace_root().join("tests/peers/loopback-only.cjs"))
        .arg(script)
        .arg(mode)
        .env("PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .context("starting server-everything (is node installed?)")?;
    let mut peer = Peer { child, port, log };
    let started = Instant::now();
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
        if started.elapsed() > START_TIMEOUT {
            peer.kill();
            bail!("server-everything ({mode}) did not listen on {port} within {START_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(peer)
}

/// The plain HTTP server of the Net tests (`tests/peers/net_http_server.py`, Python's own
/// HTTP parser): echoes what it was sent, answers slowly, big, binary or with redirects.
pub fn net_http_server() -> Result<Peer> {
    let mut command = Command::new("python3");
    command.arg(crate::workspace_root().join("tests/peers/net_http_server.py"));
    start_with_ready_line(command, "the Net test HTTP server")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_connections_count_what_the_client_holds_open() -> Result<()> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = listener.local_addr()?.port();
        assert_eq!(client_connections_to(port)?, 0);
        let client = TcpStream::connect((Ipv4Addr::LOCALHOST, port))?;
        let (accepted, _) = listener.accept()?;
        assert_eq!(client_connections_to(port)?, 1, "established");
        drop(accepted);
        assert_eq!(client_connections_to(port)?, 1, "closed by the server only");
        drop(client);
        assert_eq!(client_connections_to(port)?, 0, "closed by the client");
        Ok(())
    }
}
