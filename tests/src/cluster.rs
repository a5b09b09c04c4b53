//! A cluster on loopback: `dialtone serve` nodes as real processes (so a test can kill one)
//! sharing a PostgreSQL store, and Kamailio in front of them with the repository's dispatcher
//! configuration. The processes are `dialtone bench cluster`'s ([`ServeNode`], [`Kamailio`]);
//! this adds the admin API and metrics a test reads. Every process is stopped on drop.

use std::time::Duration;

use anyhow::{Context as _, Result, bail};
pub use dialtone::bench::cluster::{NODE_TOKEN as TOKEN, ServeNode, random_master_key};
pub use dialtone::bench::kamailio::Kamailio;

/// One node, from this build's debug binary.
#[derive(Debug)]
pub struct Node {
    process: ServeNode,
    /// Its SIP port (UDP).
    pub sip: u16,
    /// Its HTTP port (health, metrics, admin API).
    pub http: u16,
}

impl Node {
    /// Starts a node whose application `default` routes every destination to `scenario`,
    /// with the PostgreSQL store at `store_url` and secrets master key `key` (the same on
    /// every node of a cluster: [`random_master_key`]), and waits until `/health` answers.
    pub fn start(scenario: &str, store_url: &str, key: &str) -> Result<Self> {
        let process = ServeNode::start(
            &crate::dialtone_binary()?,
            scenario,
            store_url,
            key,
            "info,rsipstack=warn",
        )?;
        Ok(Self {
            sip: process.sip,
            http: process.http,
            process,
        })
    }

    /// Calls up now (`/health`'s `calls`).
    pub fn calls_up(&self) -> Result<u64> {
        Ok(self.process.calls_up()?)
    }

    /// Calls this node answered so far.
    pub fn answered(&self) -> Result<u64> {
        Ok(self.process.answered()?)
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
        Ok(self.process.kill()?)
    }

    /// Starts a session of rule `all` with `custom_data` through the admin API (no call:
    /// `AppEvents.Started`) and returns its id.
    pub fn start_session(&self, custom_data: &str) -> Result<String> {
        let started = self.api()?.json(
            reqwest::Method::POST,
            "/applications/default/sessions",
            Some(serde_json::json!({"rule": "all", "customData": custom_data})),
        )?;
        if started.status != 201 {
            bail!("starting a session: {} {}", started.status, started.body);
        }
        Ok(started.body["sessionId"]
            .as_str()
            .context("sessionId")?
            .to_owned())
    }

    /// Waits (at most `timeout`) until session `id` has ended, then returns its log lines.
    pub fn session_logs(&self, id: &str, timeout: Duration) -> Result<Vec<String>> {
        let api = self.api()?;
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let session = api.get(&format!("/sessions/{id}"))?;
            if session.status == 200 && !session.body["ended_at"].is_null() {
                let logs = api.get(&format!("/sessions/{id}/logs"))?;
                return Ok(logs
                    .body
                    .as_array()
                    .map(|lines| {
                        lines
                            .iter()
                            .filter(|l| l["level"] == "info")
                            .filter_map(|l| l["text"].as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default());
            }
            if std::time::Instant::now() > deadline {
                bail!(
                    "session {id} did not end within {timeout:?}: {}",
                    session.body
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The node's log so far.
    pub fn log(&self) -> String {
        self.process.log()
    }
}

/// How long a test waits for Kamailio to see a node come or go.
pub const PROBE_WAIT: Duration = Duration::from_secs(10);
