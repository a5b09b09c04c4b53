//! SIP test harness: a `dialtone serve` server in-process on 127.0.0.1 port 0 with its own
//! config and scenarios, SIPp runs against it (scenario XML written by the test), and audio
//! checks of recordings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use dialtone::config::Config;
use dialtone::metrics::Metrics;
use dialtone::secrets::{SecretSource, StaticSecrets};
use dialtone::serve::{ServeOptions, Server};
use dialtone::sip::SessionRecord;
use dialtone_bindings::host::Outbound;
use tokio::sync::broadcast;

/// How long one SIPp call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A server and the temp dir holding its config, scenarios and recordings.
pub struct TestServer {
    runtime: tokio::runtime::Runtime,
    server: Option<Server>,
    records: broadcast::Receiver<SessionRecord>,
    secrets: Option<Arc<dyn SecretSource>>,
    /// Config, scenarios, `data/`.
    pub dir: PathBuf,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("dir", &self.dir)
            .finish()
    }
}

/// A new directory under the system temp dir for one test's files (`dialtone-<what>-<pid>-<n>`).
pub fn temp_dir(what: &str) -> Result<PathBuf> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "dialtone-{what}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The peers of the tests (MCP servers, HTTP, WebSockets) listen on 127.0.0.1, which the
/// default outbound policy refuses; the tests' application allows it.
pub const LOCAL_PEERS: &str = "[application.outbound]\nallow_private = true\n";

impl TestServer {
    /// Starts a server whose application `default` has one rule per `(pattern, source)`, in
    /// order, each running that scenario source.
    pub fn start(rules: &[(&str, &str)]) -> Result<Self> {
        Self::start_with_secrets(rules, BTreeMap::new())
    }

    /// [`TestServer::start`] with secrets for application `default`.
    pub fn start_with_secrets(
        rules: &[(&str, &str)],
        secrets: BTreeMap<String, String>,
    ) -> Result<Self> {
        Self::start_with_config(rules, "", secrets)
    }

    /// [`TestServer::start`] with `extra` TOML (e.g. a `[limits]` table) and secrets.
    pub fn start_with_config(
        rules: &[(&str, &str)],
        extra: &str,
        secrets: BTreeMap<String, String>,
    ) -> Result<Self> {
        let secrets = StaticSecrets(BTreeMap::from([("default".to_string(), secrets)]));
        Self::launch(rules, extra, "", Some(Arc::new(secrets)))
    }

    /// [`TestServer::start`] with extra `[server]` settings (e.g. `max_calls = 1`).
    pub fn start_with_server(rules: &[(&str, &str)], server: &str) -> Result<Self> {
        let secrets = StaticSecrets(BTreeMap::from([("default".to_string(), BTreeMap::new())]));
        Self::launch(rules, "", server, Some(Arc::new(secrets)))
    }

    /// [`TestServer::start`] where application `default` has `application_toml` (e.g. an
    /// `[application.outbound]` table) instead of the tests' usual
    /// [`LOCAL_PEERS`] policy.
    pub fn start_with_application(rules: &[(&str, &str)], application_toml: &str) -> Result<Self> {
        let secrets = StaticSecrets(BTreeMap::from([("default".to_string(), BTreeMap::new())]));
        Self::launch_with(rules, "", "", Some(Arc::new(secrets)), application_toml)
    }

    /// [`TestServer::start_with_application`] with `secrets` for application `default`.
    pub fn start_with_application_and_secrets(
        rules: &[(&str, &str)],
        application_toml: &str,
        secrets: BTreeMap<String, String>,
    ) -> Result<Self> {
        let secrets = StaticSecrets(BTreeMap::from([("default".to_string(), secrets)]));
        Self::launch_with(rules, "", "", Some(Arc::new(secrets)), application_toml)
    }

    /// A server as `dialtone serve` runs: secrets from the encrypted store in its data dir,
    /// admin API token `token`, plus `[[application]]` tables in `more_applications`.
    pub fn start_managed(
        rules: &[(&str, &str)],
        token: &str,
        more_applications: &str,
    ) -> Result<Self> {
        let server = format!("admin_token = {token:?}\n");
        Self::launch(rules, more_applications, &server, None)
    }

    /// [`TestServer::start_managed`] whose application `default` also has `application_toml`
    /// (e.g. `[[application.queue]]` tables) after the tests' usual [`LOCAL_PEERS`] policy.
    pub fn start_managed_with_application(
        rules: &[(&str, &str)],
        token: &str,
        application_toml: &str,
    ) -> Result<Self> {
        let server = format!("admin_token = {token:?}\n");
        let application = format!("{LOCAL_PEERS}{application_toml}");
        Self::launch_with(rules, "", &server, None, &application)
    }

    fn launch(
        rules: &[(&str, &str)],
        extra: &str,
        server_extra: &str,
        secrets: Option<Arc<dyn SecretSource>>,
    ) -> Result<Self> {
        Self::launch_with(rules, extra, server_extra, secrets, LOCAL_PEERS)
    }

    fn launch_with(
        rules: &[(&str, &str)],
        extra: &str,
        server_extra: &str,
        secrets: Option<Arc<dyn SecretSource>>,
        application_toml: &str,
    ) -> Result<Self> {
        let dir = temp_dir("sip")?;
        let mut config = format!(
            "{extra}\n[server]\nsip = \"127.0.0.1:0\"\nhttp = \"127.0.0.1:0\"\nrtp_ports = \"0\"\n\
             data_dir = {:?}\n{server_extra}\n[[application]]\nname = \"default\"\n{application_toml}\n",
            dir.join("data").display().to_string()
        );
        for (index, (pattern, source)) in rules.iter().enumerate() {
            let file = format!("rule{index}.voxengine.js");
            std::fs::write(dir.join(&file), source)?;
            config.push_str(&format!(
                "\n[[application.rule]]\nname = \"rule{index}\"\npattern = {pattern:?}\nscenarios = [\"{file}\"]\n"
            ));
        }
        let path = dir.join("dialtone.toml");
        std::fs::write(&path, &config)?;
        let config = Config::from_file(&path)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let options = ServeOptions {
            js_threads: 1,
            secrets: secrets.clone(),
            ..ServeOptions::default()
        };
        let server = runtime.block_on(Server::start_with(config, options))?;
        let records = server.subscribe();
        Ok(Self {
            runtime,
            server: Some(server),
            records,
            secrets,
            dir,
        })
    }

    /// Stops the server and starts it again on the same config and data directory, as an
    /// operator's restart does (the ports are new).
    pub fn restart(&mut self) -> Result<()> {
        self.shut_down(Duration::from_secs(5));
        let config = Config::from_file(&self.dir.join("dialtone.toml"))?;
        let options = ServeOptions {
            js_threads: 1,
            secrets: self.secrets.clone(),
            ..ServeOptions::default()
        };
        let server = self.runtime.block_on(Server::start_with(config, options))?;
        self.records = server.subscribe();
        self.server = Some(server);
        Ok(())
    }

    fn server(&self) -> &Server {
        self.server.as_ref().expect("running until drop")
    }

    /// The SIP port (UDP and TCP).
    pub fn sip_port(&self) -> u16 {
        self.server().sip.udp.port()
    }

    /// The HTTP address.
    pub fn http(&self) -> std::net::SocketAddr {
        self.server().http
    }

    /// Reads the config file again (what SIGHUP does).
    pub fn reload(&self) -> Result<()> {
        self.runtime.block_on(self.server().reload())?;
        Ok(())
    }

    /// Counters.
    pub fn metrics(&self) -> &Metrics {
        self.server().metrics()
    }

    /// Places one SIPp call to `destination` with uac scenario `xml` (plus `extra` sipp
    /// arguments); an error with SIPp's output unless SIPp counted the call successful.
    pub fn call_once(&self, xml: &str, destination: &str, extra: &[&str]) -> Result<SippRun> {
        one_call(self.sip_port(), Some(xml), destination, extra)
    }

    /// One call with SIPp's built-in uac (RTP echoed) that the caller hangs up after
    /// `hold_ms`; an error with SIPp's output unless it succeeded.
    pub fn caller_hangs_up(&self, destination: &str, hold_ms: u32) -> Result<SippRun> {
        caller_hangs_up(self.sip_port(), destination, hold_ms)
    }

    /// Shuts the server down as SIGTERM does (bounded by `grace`); what the sessions sent stays
    /// readable.
    pub fn shut_down(&mut self, grace: Duration) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.shutdown(grace));
        }
    }

    /// Runs a future on the server's runtime.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// The next session message before `deadline`; `None` once it passes.
    fn next_record(&mut self, deadline: Instant) -> Result<Option<SessionRecord>> {
        let left = deadline.saturating_duration_since(Instant::now());
        let next = self
            .runtime
            .block_on(async { tokio::time::timeout(left, self.records.recv()).await });
        match next {
            Ok(Ok(record)) => Ok(Some(record)),
            Ok(Err(broadcast::error::RecvError::Lagged(n))) => {
                bail!("observer lagged by {n} messages")
            }
            Ok(Err(broadcast::error::RecvError::Closed)) => bail!("server gone"),
            Err(_) => Ok(None),
        }
    }

    /// Waits until some session logs `line`; false on timeout. What it read before is gone.
    pub fn until_logged(&mut self, line: &str, timeout: Duration) -> Result<bool> {
        let deadline = Instant::now() + timeout;
        while let Some(record) = self.next_record(deadline)? {
            if matches!(&record.message, Outbound::Log { text, .. } if text == line) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Collects session messages until `sessions` sessions have ended (or `timeout`).
    pub fn until_sessions_end(&mut self, sessions: usize, timeout: Duration) -> Result<Records> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        let mut ended = 0;
        while ended < sessions {
            let Some(record) = self.next_record(deadline)? else {
                bail!(
                    "only {ended} of {sessions} sessions ended within {timeout:?}; seen:\n{}",
                    Records(seen).describe()
                );
            };
            if matches!(record.message, Outbound::Ended(_)) {
                ended += 1;
            }
            seen.push(record);
        }
        Ok(Records(seen))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime
                .block_on(server.shutdown(Duration::from_secs(2)));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Session messages, in arrival order.
#[derive(Debug)]
pub struct Records(pub Vec<SessionRecord>);

impl Records {
    /// `Logger.write` lines (and warnings/errors), in order.
    pub fn logs(&self) -> Vec<String> {
        self.0
            .iter()
            .filter_map(|r| match &r.message {
                Outbound::Log { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    /// Events dispatched to scenarios: (name, payload).
    pub fn events(&self) -> Vec<(String, serde_json::Value)> {
        self.0
            .iter()
            .filter_map(|r| match &r.message {
                Outbound::Event { name, payload } => Some((name.clone(), payload.clone())),
                _ => None,
            })
            .collect()
    }

    /// Names of the dispatched events.
    pub fn event_names(&self) -> Vec<String> {
        self.events().into_iter().map(|(name, _)| name).collect()
    }

    /// The first event named `name`.
    pub fn event(&self, name: &str) -> Option<serde_json::Value> {
        self.events()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, payload)| payload)
    }

    /// The file of the first finished recording (`Call.RecordStopped`'s `file://` URL).
    pub fn recording(&self) -> Option<PathBuf> {
        let event = self.event("Call.RecordStopped")?;
        let url = event["url"].as_str()?;
        url.strip_prefix("file://").map(PathBuf::from)
    }

    /// Everything, one line each, for assertion messages.
    pub fn describe(&self) -> String {
        self.0
            .iter()
            .map(|r| {
                format!(
                    "{} {:?}",
                    &r.session_id[..8.min(r.session_id.len())],
                    r.message
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// [`TestServer::caller_hangs_up`] against SIP port `port` (for a call on another thread).
pub fn caller_hangs_up(port: u16, destination: &str, hold_ms: u32) -> Result<SippRun> {
    let hold = hold_ms.to_string();
    let extra = ["-sn", "uac", "-d", &hold, "-rtp_echo"];
    one_call(port, None, destination, &extra)
}

/// One SIPp call to `destination` (scenario `xml`, or a built-in one named in `extra`).
fn one_call(port: u16, xml: Option<&str>, destination: &str, extra: &[&str]) -> Result<SippRun> {
    let mut args = vec!["-s", destination, "-m", "1"];
    args.extend_from_slice(extra);
    let run = sipp(port, xml, &args, CALL_TIMEOUT)?;
    if run.code != 0 {
        bail!("sipp failed (exit {}):\n{}", run.code, run.output);
    }
    Ok(run)
}

/// A finished SIPp run.
#[derive(Debug)]
pub struct SippRun {
    /// Exit code (0: every call succeeded).
    pub code: i32,
    /// stdout and stderr, and the error log.
    pub output: String,
    /// Calls that ran the scenario to its end, by SIPp's own count (its statistics file).
    pub successful: Option<u64>,
    /// Calls that failed, by SIPp's own count.
    pub failed: Option<u64>,
}

/// The cumulative `SuccessfulCall(C)` and `FailedCall(C)` of SIPp's last statistics line.
fn call_counts(csv: &str) -> (Option<u64>, Option<u64>) {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return (None, None);
    };
    let Some(last) = lines.next_back() else {
        return (None, None);
    };
    let columns: Vec<&str> = header.split(';').collect();
    let values: Vec<&str> = last.split(';').collect();
    let value = |name: &str| {
        let index = columns.iter().position(|c| *c == name)?;
        values.get(index)?.trim().parse().ok()
    };
    (value("SuccessfulCall(C)"), value("FailedCall(C)"))
}

/// Runs sipp against `127.0.0.1:port` with `args`, and with scenario `xml` when given (else
/// `args` must pick one, e.g. `-sn uac`). Bounded by `timeout`.
pub fn sipp(port: u16, xml: Option<&str>, args: &[&str], timeout: Duration) -> Result<SippRun> {
    let dir = temp_dir("sipp")?;
    // No `-p`: SIPp binds its SIP port itself (5060 or the first free one after it), so no other
    // test can take it between our probe and its bind ("Unable to bind main socket", seen once in
    // a full run when `-p` came from a probe). The media ports have no such fallback in SIPp.
    let media = dialtone::bench::sip::free_media_base()?.to_string();
    let mut command = Command::new("timeout");
    command
        .arg("-k")
        .arg("5")
        .arg(timeout.as_secs().to_string())
        .arg("sipp")
        .arg(format!("127.0.0.1:{port}"))
        .args(["-i", "127.0.0.1", "-mi", "127.0.0.1"])
        .args([
            "-mp",
            &media,
            "-nostdin",
            "-trace_err",
            "-trace_stat",
            "-stf",
            "stats.csv",
        ])
        .args([
            "-timeout",
            &format!("{}s", timeout.as_secs().saturating_sub(2).max(1)),
        ])
        .current_dir(&dir);
    if let Some(xml) = xml {
        let path = dir.join("scenario.xml");
        std::fs::write(&path, xml)?;
        command.arg("-sf").arg(&path);
    }
    command.args(args);
    let output = command
        .output()
        .context("running sipp (Debian package sip-tester; tests/run installs it)")?;
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    for entry in std::fs::read_dir(&dir)?.flatten() {
        if entry.file_name().to_string_lossy().ends_with("errors.log") {
            text.push_str("\n--- sipp errors.log ---\n");
            text.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
    }
    let (successful, failed) =
        call_counts(&std::fs::read_to_string(dir.join("stats.csv")).unwrap_or_default());
    let _ = std::fs::remove_dir_all(&dir);
    Ok(SippRun {
        code: output.status.code().unwrap_or(-1),
        output: text,
        successful,
        failed,
    })
}

/// RMS level (0..1) of an audio file, or of one of its channels (1 = left), as sox measures
/// it (`sox FILE -n [remix N] stat`): independent of Dialtone's own WAV code.
pub fn sox_rms(path: &Path, channel: Option<u8>) -> Result<f64> {
    let mut command = Command::new("sox");
    command.arg(path).arg("-n");
    if let Some(channel) = channel {
        command.args(["remix", &channel.to_string()]);
    }
    let output = command
        .arg("stat")
        .output()
        .context("sox (tests/run installs it)")?;
    let text = String::from_utf8_lossy(&output.stderr);
    text.lines()
        .find_map(|l| l.strip_prefix("RMS     amplitude:"))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("sox stat {}: {text}", path.display()))
}

/// The levels of a stereo recording's two sides as sox measures them: (ours on the left, the
/// caller's on the right); an error unless the file has two channels.
pub fn stereo_levels(recording: &Path) -> Result<(f64, f64)> {
    let channels = sox_channels(recording)?;
    if channels != 2 {
        bail!("{} has {channels} channels, not 2", recording.display());
    }
    Ok((sox_rms(recording, Some(1))?, sox_rms(recording, Some(2))?))
}

/// How many channels sox reads in an audio file (`soxi -c`).
pub fn sox_channels(path: &Path) -> Result<u32> {
    let output = Command::new("soxi")
        .arg("-c")
        .arg(path)
        .output()
        .context("soxi")?;
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .with_context(|| format!("soxi -c {}", path.display()))
}

/// A SIPp UAS on 127.0.0.1:`port` for one call, with `xml` (its built-in `uas` when none),
/// RTP echoed; the thread ends with SIPp's output once the call is over (40 s at most).
pub fn sipp_callee(
    port: u16,
    xml: Option<&str>,
) -> Result<std::thread::JoinHandle<std::io::Result<Output>>> {
    let dir = std::env::temp_dir().join(format!("dialtone-callee-{port}"));
    std::fs::create_dir_all(&dir)?;
    let mut command = Command::new("timeout");
    command
        .args([
            "-k",
            "5",
            "40",
            "sipp",
            "-i",
            "127.0.0.1",
            "-mi",
            "127.0.0.1",
        ])
        .args([
            "-p",
            &port.to_string(),
            "-m",
            "1",
            "-nostdin",
            "-rtp_echo",
            "-timeout",
            "35s",
        ])
        .current_dir(&dir);
    match xml {
        Some(xml) => {
            let path = dir.join("callee.xml");
            std::fs::write(&path, xml)?;
            command.arg("-sf").arg(path);
        }
        None => {
            command.args(["-sn", "uas"]);
        }
    }
    let handle = std::thread::spawn(move || command.output());
    // SIPp binds before it reads a message; a moment for it to start is waited for by the
    // INVITE retransmissions (500 ms, 1 s ...) should the first one arrive early.
    Ok(handle)
}

/// A spoken 8 kHz 16-bit mono WAV for the caller to send (espeak-ng + sox).
pub fn caller_wav(dir: &Path) -> Result<PathBuf> {
    spoken_wav(
        dir,
        "caller",
        "This is the caller. One two three four five six seven eight nine ten.",
    )
}

/// `text` spoken by espeak-ng into `dir/<name>.wav`, 8 kHz 16-bit mono (sox).
pub fn spoken_wav(dir: &Path, name: &str, text: &str) -> Result<PathBuf> {
    let spoken = dir.join(format!("{name}-spoken.wav"));
    let wav = dir.join(format!("{name}.wav"));
    let status = Command::new("espeak-ng")
        .args(["-v", "en-us", "-w"])
        .arg(&spoken)
        .arg(text)
        .status()
        .context("espeak-ng (tests/run installs it)")?;
    if !status.success() {
        bail!("espeak-ng failed: {status}");
    }
    let status = Command::new("sox")
        .arg(&spoken)
        .args(["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"])
        .arg(&wav)
        .status()
        .context("sox (tests/run installs it)")?;
    if !status.success() {
        bail!("sox failed: {status}");
    }
    Ok(wav)
}

/// Runs the pjsua2 caller (`tests/peers/pjsua2_call.py`) against SIP port `port`: it sends
/// `wav`, records what it hears into `heard`, presses `dtmf` at `dtmf_at` seconds after
/// connect and hangs up after `seconds`; returns its output.
pub fn pjsua2_call(
    port: u16,
    wav: &Path,
    seconds: u32,
    heard: &Path,
    dtmf: &str,
    dtmf_at: f32,
) -> Result<String> {
    pjsua2_call_as(None, port, wav, seconds, heard, dtmf, dtmf_at)
}

/// [`pjsua2_call`] as application user `(name, password)`, registered on the server first.
pub fn pjsua2_call_as(
    user: Option<(&str, &str)>,
    port: u16,
    wav: &Path,
    seconds: u32,
    heard: &Path,
    dtmf: &str,
    dtmf_at: f32,
) -> Result<String> {
    let python = crate::peers::peers_dir().join("venv-pjsua2/bin/python");
    if !python.exists() {
        bail!(
            "{} is missing: run tests/run (it installs pjsua2)",
            python.display()
        );
    }
    let mut command = Command::new("timeout");
    if let Some((name, password)) = user {
        command.env("REGISTER", format!("127.0.0.1:{port} {name} {password}"));
    }
    let output = command
        .args(["-k", "5", "45"])
        .arg(python)
        .arg(crate::workspace_root().join("tests/peers/pjsua2_call.py"))
        .arg(format!("sip:2000@127.0.0.1:{port}"))
        .arg(wav)
        .arg(seconds.to_string())
        .arg(heard)
        .arg(dtmf)
        .arg(dtmf_at.to_string())
        .output()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        bail!("pjsua2 caller failed ({}):\n{text}", output.status);
    }
    Ok(text)
}
