//! A cluster on loopback: `dialtone serve` nodes as real processes (so a test can kill one)
//! sharing a PostgreSQL store, and Kamailio in front of them with the repository's dispatcher
//! configuration (`deploy/kamailio/kamailio.cfg`). Every process is stopped on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::peers::free_port;
use crate::sip::temp_dir;

/// The admin token of every node.
pub const TOKEN: &str = "cluster-test-token-0123456789";

/// One `dialtone serve` process.
#[derive(Debug)]
pub struct Node {
    child: Option<Child>,
    dir: PathBuf,
    /// Its SIP port (UDP).
    pub sip: u16,
    /// Its HTTP port (health, metrics, admin API).
    pub http: u16,
}

impl Node {
    /// Starts a node whose application `default` routes every destination to `scenario`,
    /// with `store` (a `[store]` table, or nothing) and waits until `/health` answers.
    pub fn start(scenario: &str, store: &str) -> Result<Self> {
        let dir = temp_dir("node")?;
        let (sip, http) = (free_port()?, free_port()?);
        std::fs::write(dir.join("scenario.voxengine.js"), scenario)?;
        let config = format!(
            "{store}\n[server]\nsip = \"127.0.0.1:{sip}\"\nhttp = \"127.0.0.1:{http}\"\nrtp_ports = \"0\"\n\
             data_dir = {:?}\nadmin_token = {TOKEN:?}\n\n[[application]]\nname = \"default\"\n\n\
             [[application.rule]]\nname = \"all\"\npattern = \".*\"\nscenarios = [\"scenario.voxengine.js\"]\n",
            dir.join("data").display().to_string()
        );
        std::fs::write(dir.join("node.toml"), config)?;
        let log = std::fs::File::create(dir.join("node.log"))?;
        let child = Command::new(crate::dialtone_binary()?)
            .args(["serve", "--threads", "1", "--config"])
            .arg(dir.join("node.toml"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting dialtone serve")?;
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
                bail!("the node exited ({status}):\n{}", node.log());
            }
            if node.health().is_ok() {
                return Ok(node);
            }
            if Instant::now() > deadline {
                bail!(
                    "the node did not answer /health within 30 s:\n{}",
                    node.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `/health`'s JSON.
    pub fn health(&self) -> Result<serde_json::Value> {
        let reply = self.api()?.get("/health")?;
        if reply.status != 200 {
            bail!("/health answered {}: {}", reply.status, reply.body);
        }
        Ok(reply.body)
    }

    /// Calls up now (`/health`'s `calls`).
    pub fn calls_up(&self) -> Result<u64> {
        self.health()?["calls"]
            .as_u64()
            .context("/health has no calls count")
    }

    /// The value of a `/metrics` sample (its whole name with labels), 0 when absent.
    pub fn metric(&self, sample: &str) -> Result<f64> {
        let reply = self.api()?.get("/metrics")?;
        let text = reply.body.as_str().context("/metrics is not text")?;
        Ok(text
            .lines()
            .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0.0))
    }

    /// Calls this node answered so far.
    pub fn answered(&self) -> Result<u64> {
        Ok(
            self.metric("dialtone_calls_total{application=\"default\",result=\"answered\"}")?
                as u64,
        )
    }

    /// A client of this node's admin API.
    pub fn api(&self) -> Result<crate::admin::Api> {
        crate::admin::Api::new(
            std::net::SocketAddr::from(([127, 0, 0, 1], self.http)),
            Some(TOKEN),
        )
    }

    /// Kills the process at once (SIGKILL): its calls are lost, nothing is flushed.
    pub fn kill(&mut self) -> Result<()> {
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

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Kamailio with `deploy/kamailio/kamailio.cfg` in front of some nodes.
#[derive(Debug)]
pub struct Kamailio {
    child: Option<Child>,
    dir: PathBuf,
    /// Its SIP port (UDP).
    pub port: u16,
}

impl Kamailio {
    /// Starts Kamailio on a free port with `nodes` (their SIP ports) in its dispatcher set,
    /// probing every `probe_interval_s` seconds, and waits until its control socket answers.
    pub fn start(nodes: &[u16], probe_interval_s: u32) -> Result<Self> {
        let dir = temp_dir("kamailio")?;
        let port = free_port()?;
        let list: String = nodes
            .iter()
            .map(|p| format!("1 sip:127.0.0.1:{p}\n"))
            .collect();
        std::fs::write(dir.join("dispatcher.list"), list)?;
        let config = crate::workspace_root().join("deploy/kamailio/kamailio.cfg");
        let log = std::fs::File::create(dir.join("kamailio.log"))?;
        let child = Command::new("kamailio")
            .arg("-f")
            .arg(&config)
            .args(["-DD", "-E", "-m", "64", "-M", "8", "-l"])
            .arg(format!("udp:127.0.0.1:{port}"))
            .arg("-A")
            .arg(format!(
                "DISPATCHER_LIST=\"{}\"",
                dir.join("dispatcher.list").display()
            ))
            .arg("-A")
            .arg(format!("CTL_SOCKET=\"unix:{}\"", dir.join("ctl").display()))
            .arg("-A")
            .arg(format!("PROBE_INTERVAL={probe_interval_s}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting kamailio (Debian package kamailio; tests/run installs it)")?;
        let mut kamailio = Self {
            child: Some(child),
            dir,
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(child) = kamailio.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!("kamailio exited ({status}):\n{}", kamailio.log());
            }
            if kamailio
                .destinations()
                .is_ok_and(|d| d.len() == nodes.len())
            {
                return Ok(kamailio);
            }
            if Instant::now() > deadline {
                bail!(
                    "kamailio's control socket did not answer within 20 s:\n{}",
                    kamailio.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The dispatcher's destinations as `(SIP port, flags)`: `AP` active and probed, `IP`
    /// inactive (down) and probed, as `kamcmd dispatcher.list` prints them.
    pub fn destinations(&self) -> Result<Vec<(u16, String)>> {
        let output = Command::new("kamcmd")
            .arg("-s")
            .arg(format!("unix:{}", self.dir.join("ctl").display()))
            .arg("dispatcher.list")
            .output()
            .context("kamcmd")?;
        if !output.status.success() {
            bail!("kamcmd: {}", String::from_utf8_lossy(&output.stderr));
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let mut found = Vec::new();
        let mut port = None;
        for line in text.lines().map(str::trim) {
            if let Some(uri) = line.strip_prefix("URI: ") {
                port = uri.rsplit(':').next().and_then(|p| p.parse().ok());
            } else if let (Some(flags), Some(p)) = (line.strip_prefix("FLAGS: "), port.take()) {
                found.push((p, flags.to_owned()));
            }
        }
        Ok(found)
    }

    /// Waits (at most `timeout`) until node `sip_port`'s flags satisfy `wanted`.
    pub fn until_flags(
        &self,
        sip_port: u16,
        wanted: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let destinations = self.destinations()?;
            if let Some((_, flags)) = destinations.iter().find(|(p, _)| *p == sip_port)
                && wanted(flags)
            {
                return Ok(flags.clone());
            }
            if Instant::now() > deadline {
                bail!("node {sip_port} never reached the wanted state: {destinations:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Kamailio's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("kamailio.log")).unwrap_or_default()
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGTERM lets the main process stop its workers; SIGKILL if it does not.
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
