//! Media test peers: WebSocket servers in `target/peers/venv-media` (installed by
//! `tests/peers/install-media-peers.sh`) that report what they saw as lines on stdout:
//! Pipecat's echo bot (Twilio Media Streams) and the VoxEngine stream format checker.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::peers::peers_dir;

/// How long a peer may take to print `LISTENING`.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running line-reporting peer; stopped (SIGTERM, then killed) on drop.
#[derive(Debug)]
pub struct LinePeer {
    child: Child,
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    lines: mpsc::Receiver<String>,
    /// Every line read so far.
    pub seen: Vec<String>,
}

impl LinePeer {
    fn start(script: &str, args: &[&str]) -> Result<Self> {
        Self::start_in("venv-media", script, args, &[])
    }

    /// Runs `tests/peers/<script>` with the Python of `target/peers/<venv>` and `env` added.
    fn start_in(venv: &str, script: &str, args: &[&str], env: &[(&str, &str)]) -> Result<Self> {
        let python = peers_dir().join(venv).join("bin/python");
        if !python.exists() {
            bail!(
                "{} is missing: run tests/run (it installs the test peers)",
                python.display()
            );
        }
        let mut child = Command::new(python)
            .arg(crate::workspace_root().join("tests/peers").join(script))
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {script}"))?;
        let stdout = child.stdout.take().context("peer stdout")?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let mut peer = Self {
            child,
            port: 0,
            lines,
            seen: Vec::new(),
        };
        let listening = peer.wait_for("LISTENING ", START_TIMEOUT)?;
        peer.port = listening
            .strip_prefix("LISTENING ")
            .and_then(|p| p.trim().parse().ok())
            .context("LISTENING <port>")?;
        Ok(peer)
    }

    /// `ws://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }

    /// Waits for the next line starting with `prefix`; an error naming what was seen.
    pub fn wait_for(&mut self, prefix: &str, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.starts_with(prefix) {
                        return Ok(line);
                    }
                }
                Err(_) => bail!(
                    "no '{prefix}' line within {timeout:?}; seen:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Waits (bounded) until the peer exits on its own, so what it writes at exit (a WAV
    /// header) is complete: its stdout closing is the exit; an error naming what it printed if
    /// that does not come in time.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.child.wait()?;
                    return Ok(());
                }
                Err(mpsc::RecvTimeoutError::Timeout) => bail!(
                    "the peer did not exit within {timeout:?}; seen:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Every line read so far (and any waiting now) that starts with `prefix`.
    pub fn lines_starting(&mut self, prefix: &str) -> Vec<String> {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        self.seen
            .iter()
            .filter(|l| l.starts_with(prefix))
            .cloned()
            .collect()
    }
}

impl Drop for LinePeer {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Pipecat's FastAPI WebSocket transport with its `TwilioFrameSerializer` and an echo
/// pipeline, at `/media`. Prints `START <streamSid> <callSid>`, `DTMF <digit>`, `CLOSED`.
pub fn pipecat_echo_bot() -> Result<LinePeer> {
    LinePeer::start("pipecat_echo_bot.py", &[])
}

/// The VoxEngine media stream format checker (`tests/peers/voxengine_stream_checker.py`),
/// with its options (`--echo-tag TAG`, `--say-file PATH --say-tag TAG`).
pub fn voxengine_checker(options: &[&str]) -> Result<LinePeer> {
    LinePeer::start("voxengine_stream_checker.py", options)
}

/// The voice-agent test server (`tests/peers/voice_agent_server.py`): asks for `tool` with
/// `arguments` (JSON) when it hears a key, speaks the result, and writes what it said to
/// `spoken` (WAV). Prints `DTMF`, `TOOL_CALL`, `SPOKE <text>`, `CALLER <frames>`.
pub fn voice_agent_server(
    tool: &str,
    arguments: &str,
    spoken: &std::path::Path,
) -> Result<LinePeer> {
    let spoken = spoken.to_string_lossy().into_owned();
    LinePeer::start(
        "voice_agent_server.py",
        &[
            "--tool",
            tool,
            "--arguments",
            arguments,
            "--spoken",
            &spoken,
        ],
    )
}

/// A softphone callee (`tests/peers/pjsua2_callee.py`, pjsua2): answers the first call on its
/// port, sends `wav`, records what it hears into `heard`, for at most `max_seconds`; with
/// `register` (`registrar host:port`, user, password, answer after ms or -1 for never) it
/// registers first. Prints `LISTENING`, `REGISTERED <status>`, `STATE <state> <status>`.
pub fn pjsua2_callee(
    wav: &std::path::Path,
    heard: &std::path::Path,
    max_seconds: u32,
    register: Option<(&str, &str, &str, i32)>,
) -> Result<LinePeer> {
    let wav = wav.to_string_lossy().into_owned();
    let heard = heard.to_string_lossy().into_owned();
    let max = max_seconds.to_string();
    let answer_ms;
    let mut args = vec![wav.as_str(), heard.as_str(), max.as_str()];
    if let Some((registrar, user, password, answer_after_ms)) = register {
        answer_ms = answer_after_ms.to_string();
        args.extend([registrar, user, password, answer_ms.as_str()]);
    }
    LinePeer::start_in("venv-pjsua2", "pjsua2_callee.py", &args, &[])
}

/// [`pjsua2_callee`] registered with the server on SIP port `sip_port` as application user
/// `(user, password)`, answering after `answer_after_ms` (-1: never); returned once its
/// REGISTER got 200 (an error after 15 s).
pub fn registered_phone(
    sip_port: u16,
    (user, password): (&str, &str),
    wav: &std::path::Path,
    heard: &std::path::Path,
    max_seconds: u32,
    answer_after_ms: i32,
) -> Result<LinePeer> {
    let registrar = format!("127.0.0.1:{sip_port}");
    let mut phone = pjsua2_callee(
        wav,
        heard,
        max_seconds,
        Some((&registrar, user, password, answer_after_ms)),
    )?;
    phone.wait_for("REGISTERED 200", std::time::Duration::from_secs(15))?;
    Ok(phone)
}

/// [`registered_phone`] behind a simulated NAT: it registers and answers with Contact
/// `contact` (an address where nothing listens), so only the address its packets come from
/// reaches it.
pub fn registered_phone_behind_nat(
    sip_port: u16,
    (user, password): (&str, &str),
    wav: &std::path::Path,
    heard: &std::path::Path,
    max_seconds: u32,
    contact: &str,
) -> Result<LinePeer> {
    let registrar = format!("127.0.0.1:{sip_port}");
    let (wav, heard) = (wav.to_string_lossy(), heard.to_string_lossy());
    let max = max_seconds.to_string();
    let args = [
        wav.as_ref(),
        heard.as_ref(),
        max.as_str(),
        registrar.as_str(),
        user,
        password,
        "0",
    ];
    let mut phone = LinePeer::start_in(
        "venv-pjsua2",
        "pjsua2_callee.py",
        &args,
        &[("CONTACT", contact)],
    )?;
    phone.wait_for("REGISTERED 200", std::time::Duration::from_secs(15))?;
    Ok(phone)
}

/// [`pjsua2_callee`] (not registered) that presses `keys` (RFC 4733) a second after it answers.
pub fn pjsua2_callee_pressing(
    wav: &std::path::Path,
    heard: &std::path::Path,
    max_seconds: u32,
    keys: &str,
) -> Result<LinePeer> {
    let (wav, heard) = (wav.to_string_lossy(), heard.to_string_lossy());
    let max = max_seconds.to_string();
    let args = [wav.as_ref(), heard.as_ref(), max.as_str()];
    LinePeer::start_in("venv-pjsua2", "pjsua2_callee.py", &args, &[("DTMF", keys)])
}

/// Runs `tests/peers/audio_xcorr.py` on two WAVs: how late `sent` appears in `heard` (ms, at
/// most `max_lag_ms`) and the normalized correlation there, one lag for the whole of `sent`
/// (the measure for "heard itself": no lag may be tuned per stretch to find it).
pub fn echo_of(
    sent: &std::path::Path,
    heard: &std::path::Path,
    max_lag_ms: u32,
) -> Result<(f64, f64)> {
    let (lag, peak, _) = xcorr(sent, heard, max_lag_ms)?;
    Ok((lag, peak))
}

/// Like [`echo_of`], but the correlation is taken per half second of `sent`'s speech, each at
/// its own lag within 100 ms of the overall one: a softphone's adaptive jitter buffer may move
/// its delay mid-call on a busy machine, which halves [`echo_of`]'s single-lag figure (measured:
/// a 40 ms move halfway through gives 0.51) though every word was heard.
pub fn speech_heard(
    sent: &std::path::Path,
    heard: &std::path::Path,
    max_lag_ms: u32,
) -> Result<(f64, f64)> {
    let (lag, _, segmented) = xcorr(sent, heard, max_lag_ms)?;
    Ok((lag, segmented))
}

fn xcorr(
    sent: &std::path::Path,
    heard: &std::path::Path,
    max_lag_ms: u32,
) -> Result<(f64, f64, f64)> {
    let output = Command::new(media_python())
        .arg(crate::workspace_root().join("tests/peers/audio_xcorr.py"))
        .arg(sent)
        .arg(heard)
        .arg(max_lag_ms.to_string())
        .output()?;
    let line = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    match line.split_whitespace().collect::<Vec<_>>()[..] {
        ["LAG_MS", lag, "PEAK", peak, "SEGMENTED", segmented] => {
            Ok((lag.parse()?, peak.parse()?, segmented.parse()?))
        }
        _ => bail!(
            "audio_xcorr.py: '{line}' {}",
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

/// The venv's Python, for audio analysis scripts (numpy).
pub fn media_python() -> PathBuf {
    peers_dir().join("venv-media/bin/python")
}
