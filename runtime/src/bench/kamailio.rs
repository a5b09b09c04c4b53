//! Kamailio with the repository's dispatcher configuration (`deploy/kamailio/kamailio.cfg`,
//! embedded) in front of some nodes on loopback, for `bench cluster` and the cluster tests;
//! stopped on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::mcp::BenchError;

/// The configuration shipped in `deploy/kamailio/`.
pub const CONFIG: &str = include_str!("../../../deploy/kamailio/kamailio.cfg");

/// A running Kamailio.
#[derive(Debug)]
pub struct Kamailio {
    child: Option<Child>,
    dir: PathBuf,
    /// Its SIP port (UDP).
    pub port: u16,
}

fn failed(what: impl std::fmt::Display) -> BenchError {
    BenchError::Peer(what.to_string())
}

impl Kamailio {
    /// Starts Kamailio on a free port with `nodes` (their SIP ports) in its dispatcher set,
    /// probing every `probe_interval_s` seconds, and waits until its control socket lists them.
    pub fn start(nodes: &[u16], probe_interval_s: u32) -> Result<Self, BenchError> {
        let dir = std::env::temp_dir().join(format!(
            "dialtone-kamailio-{}-{}",
            std::process::id(),
            super::postgres::unique()
        ));
        std::fs::create_dir_all(&dir)?;
        let port = super::sip::free_port()?;
        let list: String = nodes
            .iter()
            .map(|p| format!("1 sip:127.0.0.1:{p}\n"))
            .collect();
        std::fs::write(dir.join("dispatcher.list"), list)?;
        std::fs::write(dir.join("kamailio.cfg"), CONFIG)?;
        let log = std::fs::File::create(dir.join("kamailio.log"))?;
        let child = Command::new("kamailio")
            .arg("-f")
            .arg(dir.join("kamailio.cfg"))
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
            .map_err(|e| {
                failed(format!(
                    "cannot start kamailio (Debian package kamailio; tests/run installs it): {e}"
                ))
            })?;
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
                return Err(failed(format!(
                    "kamailio exited ({status}):\n{}",
                    kamailio.log()
                )));
            }
            if kamailio
                .destinations()
                .is_ok_and(|d| d.len() == nodes.len())
            {
                return Ok(kamailio);
            }
            if Instant::now() > deadline {
                return Err(failed(format!(
                    "kamailio's control socket did not answer within 20 s:\n{}",
                    kamailio.log()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The dispatcher's destinations as `(SIP port, flags)`: `AP` active and probed, `IP`
    /// inactive (down) and probed, as `kamcmd dispatcher.list` prints them.
    pub fn destinations(&self) -> Result<Vec<(u16, String)>, BenchError> {
        let output = Command::new("kamcmd")
            .arg("-s")
            .arg(format!("unix:{}", self.dir.join("ctl").display()))
            .arg("dispatcher.list")
            .output()?;
        if !output.status.success() {
            return Err(failed(format!(
                "kamcmd: {}",
                String::from_utf8_lossy(&output.stderr)
            )));
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
    ) -> Result<String, BenchError> {
        let deadline = Instant::now() + timeout;
        loop {
            let destinations = self.destinations()?;
            if let Some((_, flags)) = destinations.iter().find(|(p, _)| *p == sip_port)
                && wanted(flags)
            {
                return Ok(flags.clone());
            }
            if Instant::now() > deadline {
                return Err(failed(format!(
                    "node {sip_port} never reached the wanted state: {destinations:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// CPU ms (user + system) of the main process and every worker it forked.
    pub fn cpu_ms(&self) -> f64 {
        let Some(main) = self.child.as_ref().map(Child::id) else {
            return f64::NAN;
        };
        let mut total = super::mcp::cpu_ms(&main.to_string());
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return total;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            else {
                continue;
            };
            let parent = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    let rest = stat.rsplit_once(')')?.1.to_owned();
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                });
            if parent == Some(main) {
                total += super::mcp::cpu_ms(pid);
            }
        }
        total
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
