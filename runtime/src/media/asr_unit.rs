//! Speech recognition units (`VoxEngine.createASR`): one task per recognizer that takes the
//! mix of everything linked to it, 20 ms at a time on its own clock, and feeds it to a local
//! recognizer running as a child process: CMU PocketSphinx through Debian's
//! `python3-pocketsphinx` with the `pocketsphinx-en-us` model (`asr/pocketsphinx_engine.py`,
//! embedded). It needs no network. The child answers with one JSON line per event, which
//! become `ASREvents`. Phrase hints become a grammar: only those phrases are recognized.

use std::time::{Duration, Instant};

use dialtone_bindings::host::asr::{AsrAction, AsrEvent, AsrSpec};
use dialtone_bindings::host::{HostEvent, HostEventSender};
use serde::Deserialize;
use tokio::io::{
    AsyncBufReadExt as _, AsyncRead, AsyncReadExt as _, AsyncWriteExt as _, BufReader,
};
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::graph::{Ports, SILENT_FRAME};

/// The interpreter with Debian's `python3-pocketsphinx`.
pub const PYTHON: &str = "/usr/bin/python3";
/// Debian's `pocketsphinx-en-us` model.
pub const MODEL: &str = "/usr/share/pocketsphinx/model/en-us";
/// The recognizer program.
const ENGINE: &str = include_str!("asr/pocketsphinx_engine.py");

/// A speech recognizer the units can run: a program that reads 16-bit 8 kHz mono PCM on
/// stdin and writes the JSON lines `asr/pocketsphinx_engine.py` documents on stdout. Another
/// engine (Vosk, whisper.cpp ...) needs only another implementation.
pub trait Recognizer: Send + Sync + std::fmt::Debug {
    /// The command for one recognizer of `spec` (stdio are set by the caller).
    fn command(&self, spec: &AsrSpec) -> tokio::process::Command;
    /// What the operator must install when the command does not start.
    fn needs(&self) -> String;
}

/// PocketSphinx through Debian's python3-pocketsphinx and its US English model.
#[derive(Debug, Clone)]
pub struct PocketSphinx {
    /// The interpreter with the `pocketsphinx` module.
    pub python: String,
    /// The model directory.
    pub model: String,
}

impl Default for PocketSphinx {
    fn default() -> Self {
        Self {
            python: PYTHON.into(),
            model: MODEL.into(),
        }
    }
}

impl Recognizer for PocketSphinx {
    fn command(&self, spec: &AsrSpec) -> tokio::process::Command {
        let hints = if spec.phrase_hints.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&spec.phrase_hints).unwrap_or_default()
        };
        let mut command = dialtone_bindings::child::clean_command(&self.python);
        command
            .args(["-W", "ignore", "-c", ENGINE])
            .arg(&self.model)
            .arg(hints);
        command
    }

    fn needs(&self) -> String {
        format!("{} with python3-pocketsphinx", self.python)
    }
}
/// How long the recognizer may take to load before the unit gives up.
const START_WAIT: Duration = Duration::from_secs(20);
/// The longest line the recognizer may write.
const MAX_LINE: usize = 64 * 1024;

/// The session host's handle on a recognizer's task; dropping it stops the recognizer.
#[derive(Debug)]
pub struct AsrHandle {
    commands: mpsc::UnboundedSender<AsrAction>,
}

impl AsrHandle {
    /// Passes on `stop`.
    pub fn control(&self, action: AsrAction) {
        let _ = self.commands.send(action);
    }
}

/// One line of the recognizer.
#[derive(Debug, Deserialize)]
#[serde(tag = "event", rename_all = "camelCase")]
enum EngineLine {
    Ready,
    CaptureStarted,
    Interim { text: String },
    SpeechCaptured,
    Result { text: String, confidence: f64 },
    Error { error: String },
}

/// Starts the recognizer's task with the default engine ([`PocketSphinx`]).
pub fn spawn(spec: AsrSpec, ports: Ports, events: HostEventSender) -> AsrHandle {
    spawn_with(
        std::sync::Arc::new(PocketSphinx::default()),
        spec,
        ports,
        events,
    )
}

/// [`spawn`] with `engine`.
pub fn spawn_with(
    engine: std::sync::Arc<dyn Recognizer>,
    spec: AsrSpec,
    ports: Ports,
    events: HostEventSender,
) -> AsrHandle {
    let (commands, rx) = mpsc::unbounded_channel();
    let id = spec.id.clone();
    let report = {
        let events = events.clone();
        move |event: AsrEvent| {
            let _ = events.send(HostEvent::Asr {
                id: id.clone(),
                event,
            });
        }
    };
    if let Some(language) = spec.language.as_deref()
        && !language.to_ascii_lowercase().starts_with("en")
    {
        let _ = events.send(HostEvent::Warning {
            text: format!(
                "ASR: the local recognizer (PocketSphinx) knows English only; '{language}' is recognized as English"
            ),
        });
    }
    tokio::spawn(run(engine, spec, ports, rx, report));
    AsrHandle { commands }
}

async fn run(
    engine: std::sync::Arc<dyn Recognizer>,
    spec: AsrSpec,
    ports: Ports,
    mut commands: mpsc::UnboundedReceiver<AsrAction>,
    report: impl Fn(AsrEvent),
) {
    let started = Instant::now();
    let stopped = |report: &dyn Fn(AsrEvent)| {
        report(AsrEvent::Stopped {
            cost: "0".into(),
            duration: started.elapsed().as_secs(),
        })
    };
    let spawned = engine
        .command(&spec)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            report(AsrEvent::AsrError {
                error: format!(
                    "cannot start the speech recognizer ({}): {e}",
                    engine.needs()
                ),
            });
            return stopped(&report);
        }
    };
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        report(AsrEvent::AsrError {
            error: "the speech recognizer has no pipes".into(),
        });
        return stopped(&report);
    };
    // Lines are read by a task of their own: a read cut short by the clock would lose them.
    let (line_tx, mut lines) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut reader = BufReader::new(stdout);
        while let Some(line) = next_line(&mut reader).await {
            if line_tx.send(line).await.is_err() {
                break;
            }
        }
    });
    // Loaded first: the model takes a moment, and audio sent before then would queue.
    match tokio::time::timeout(START_WAIT, lines.recv()).await {
        Ok(Some(EngineLine::Ready)) => report(AsrEvent::Started),
        Ok(Some(EngineLine::Error { error })) => {
            report(AsrEvent::AsrError { error });
            return stopped(&report);
        }
        Ok(_) => {
            report(AsrEvent::AsrError {
                error: "the speech recognizer stopped while loading".into(),
            });
            return stopped(&report);
        }
        Err(_) => {
            report(AsrEvent::AsrError {
                error: format!(
                    "the speech recognizer did not load within {} s",
                    START_WAIT.as_secs()
                ),
            });
            return stopped(&report);
        }
    }
    let mut clock = tokio::time::interval(Duration::from_millis(20));
    clock.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut pcm = Vec::with_capacity(SILENT_FRAME.len() * 2);
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some(AsrAction::Stop) | None => break,
            },
            line = lines.recv() => match line {
                Some(EngineLine::CaptureStarted) => report(AsrEvent::CaptureStarted),
                Some(EngineLine::SpeechCaptured) => report(AsrEvent::SpeechCaptured),
                Some(EngineLine::Interim { text }) => {
                    if spec.interim_results {
                        report(AsrEvent::InterimResult { text });
                    }
                }
                Some(EngineLine::Result { text, confidence }) => {
                    report(AsrEvent::Result { text, confidence });
                    if spec.single_utterance {
                        break;
                    }
                }
                Some(EngineLine::Error { error }) => report(AsrEvent::AsrError { error }),
                Some(EngineLine::Ready) => {}
                None => {
                    report(AsrEvent::AsrError { error: "the speech recognizer stopped".into() });
                    break;
                }
            },
            _ = clock.tick() => {
                let frame = ports.inlet.pull_mix().unwrap_or(SILENT_FRAME);
                pcm.clear();
                for sample in frame {
                    pcm.extend_from_slice(&sample.to_le_bytes());
                }
                if stdin.write_all(&pcm).await.is_err() {
                    report(AsrEvent::AsrError { error: "the speech recognizer stopped".into() });
                    break;
                }
            }
        }
    }
    drop(stdin);
    let _ = child.start_kill();
    stopped(&report);
}

/// The recognizer's next line; `None` at its end or when it writes something unreadable.
async fn next_line(lines: &mut BufReader<impl AsyncRead + Unpin>) -> Option<EngineLine> {
    loop {
        let mut line = Vec::new();
        let read = (&mut *lines)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut line)
            .await
            .ok()?;
        if read == 0 || (read == MAX_LINE && !line.ends_with(b"\n")) {
            return None;
        }
        if let Ok(parsed) = serde_json::from_slice(&line) {
            return Some(parsed);
        }
    }
}

#[cfg(test)]
mod tests {
    use dialtone_bindings::host::HostEvent;

    use super::*;
    use crate::media::graph::{InletMode, UnitKind};

    async fn events_of(python: &str) -> Vec<AsrEvent> {
        let (host, mut session) = dialtone_bindings::host::channel();
        let spec = AsrSpec {
            id: "asr-1".into(),
            language: None,
            phrase_hints: Vec::new(),
            interim_results: false,
            single_utterance: false,
        };
        let ports = Ports::new(UnitKind::Asr, InletMode::Mix);
        let engine = std::sync::Arc::new(PocketSphinx {
            python: python.into(),
            ..PocketSphinx::default()
        });
        let _handle = spawn_with(engine, spec, ports, host.events.clone());
        let mut seen = Vec::new();
        while let Ok(Some(event)) =
            tokio::time::timeout(Duration::from_secs(10), session.events.recv()).await
        {
            if let HostEvent::Asr { event, .. } = event {
                let stopped = matches!(event, AsrEvent::Stopped { .. });
                seen.push(event);
                if stopped {
                    break;
                }
            }
        }
        seen
    }

    #[tokio::test]
    async fn a_recognizer_that_cannot_start_says_why_and_stops() {
        let seen = events_of("/nonexistent/python3").await;
        assert_eq!(
            seen,
            [
                AsrEvent::AsrError {
                    error: "cannot start the speech recognizer (/nonexistent/python3 with python3-pocketsphinx): No such file or directory (os error 2)".into()
                },
                AsrEvent::Stopped {
                    cost: "0".into(),
                    duration: 0
                },
            ]
        );
    }

    #[tokio::test]
    async fn a_recognizer_that_dies_while_loading_says_so() {
        // `true` ignores its arguments and exits at once: no "ready" line.
        let seen = events_of("/bin/true").await;
        assert_eq!(
            seen,
            [
                AsrEvent::AsrError {
                    error: "the speech recognizer stopped while loading".into()
                },
                AsrEvent::Stopped {
                    cost: "0".into(),
                    duration: 0
                },
            ]
        );
    }
}
