//! `dialtone console`: runs scenarios against a simulated inbound call on an in-memory leg and
//! prints what happens. The engine of the golden tests.

mod sim_leg;
mod sim_tts;
mod transcript;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dialtone_bindings::host::{
    self, EndReason, HostEvent, IncomingCall, Limits, Outbound, Script, SessionSpec,
};
use dialtone_bindings::mcp::McpPolicy;
use dialtone_bindings::outbound::OutboundPolicy;
use dialtone_bindings::run_session;
use tokio::time::{Instant, sleep_until};
use tokio_util::task::AbortOnDropHandle;

pub use sim_leg::{CallerScript, LegOutput, MediaRoot, SimLeg};
pub use transcript::{Entry, JsonTranscript, TextTranscript, Transcript};

use crate::config::{ConfigError, read_script};
use crate::media::session::{MediaContext, SessionMedia};
use crate::media::source::MediaSource;
use sim_tts::SilentTts;

/// The simulated call's id.
pub const CONSOLE_CALL_ID: &str = "call-1";
/// The console session's id.
pub const CONSOLE_SESSION_ID: &str = "console-session";

/// What to run and how the simulated caller behaves.
#[derive(Debug, Clone)]
pub struct ConsoleOptions {
    /// Scenario files, evaluated in order in one realm.
    pub scenarios: Vec<PathBuf>,
    /// Application the session runs as.
    pub application: String,
    /// Caller number.
    pub from: String,
    /// Caller display name.
    pub display_name: String,
    /// Dialed number.
    pub to: String,
    /// Headers of the simulated INVITE.
    pub headers: BTreeMap<String, String>,
    /// Secrets the scenario can read.
    pub secrets: BTreeMap<String, String>,
    /// The simulated caller.
    pub caller: CallerScript,
    /// Session limits.
    pub limits: Limits,
    /// What the application allows its MCP clients.
    pub mcp: McpPolicy,
    /// The runtime's clock is paused (`--sim-time`); see `SessionSpec::simulated_time`.
    pub simulated_time: bool,
    /// Where secrets the session changes (refreshed OAuth grants) are stored; None: nowhere.
    pub secret_store: Option<std::sync::Arc<dyn crate::secrets::SecretSource>>,
    /// The session's initial custom data.
    pub custom_data: String,
    /// No simulated call: the session starts as one started over the admin API.
    pub no_call: bool,
    /// The application's `ApplicationStorage` (none: its calls reject, saying so).
    pub storage: Option<std::sync::Arc<dyn dialtone_bindings::host::storage::AppStorage>>,
}

impl Default for ConsoleOptions {
    fn default() -> Self {
        Self {
            scenarios: Vec::new(),
            application: "default".into(),
            from: "1001".into(),
            display_name: "Console Caller".into(),
            to: "2000".into(),
            headers: BTreeMap::new(),
            secrets: BTreeMap::new(),
            caller: CallerScript::default(),
            limits: Limits::default(),
            mcp: McpPolicy::default(),
            simulated_time: false,
            secret_store: None,
            custom_data: String::new(),
            no_call: false,
            storage: None,
        }
    }
}

/// Runs the scenarios against one simulated call, recording everything into `transcript`.
/// Must run inside a `LocalSet` (the session is `!Send`).
pub async fn run(
    options: &ConsoleOptions,
    transcript: &mut dyn Transcript,
) -> Result<EndReason, ConfigError> {
    let scripts = options
        .scenarios
        .iter()
        .map(|path| read_script(path).map(|script| Script::compile(script.name, script.source)))
        .collect::<Result<Vec<_>, _>>()?;
    // The console runs on its author's machine: local servers are what they test against.
    let outbound = Arc::new(OutboundPolicy {
        application: options.application.clone(),
        ..OutboundPolicy::open()
    });
    let spec = SessionSpec {
        session_id: CONSOLE_SESSION_ID.into(),
        application: options.application.clone(),
        rule: "console".into(),
        scripts,
        secrets: options.secrets.clone(),
        custom_data: options.custom_data.clone(),
        access_url: None,
        limits: options.limits,
        mcp: options.mcp,
        outbound: outbound.clone(),
        simulated_time: options.simulated_time,
        storage: options.storage.clone(),
    };
    let (host, session) = host::channel();
    let start = Instant::now();
    let incoming = IncomingCall {
        id: CONSOLE_CALL_ID.into(),
        callerid: options.from.clone(),
        display_name: options.display_name.clone(),
        destination: options.to.clone(),
        to_uri: format!("sip:{}@127.0.0.1", options.to),
        from_uri: format!("sip:{}@127.0.0.1", options.from),
        headers: options.headers.clone(),
        scheme: "sip".into(),
    };
    if !options.no_call {
        let _ = host.events.send(HostEvent::CallAlerting(incoming));
    }
    // Relative media paths resolve against the directory of the last (main) scenario.
    let media_root = MediaRoot(
        options
            .scenarios
            .last()
            .and_then(|p| p.parent())
            .map(PathBuf::from)
            .unwrap_or_default(),
    );
    let media = MediaContext {
        application: options.application.clone(),
        session_id: CONSOLE_SESSION_ID.into(),
        source: Arc::new(MediaSource::new(media_root.0.clone(), Arc::new(SilentTts))),
        recordings: std::env::temp_dir()
            .join("dialtone-console")
            .join("recordings"),
        outbound,
    };
    let leg = SimLeg::new(CONSOLE_CALL_ID, options.caller.clone(), media_root, start);
    let (reason, ()) = tokio::join!(
        run_session(spec, session),
        drive(host, leg, start, media, options, transcript)
    );
    Ok(reason)
}

/// The console's host loop: prints what the session sends and plays the leg.
async fn drive(
    mut host: host::HostIo,
    mut leg: SimLeg,
    start: Instant,
    media: MediaContext,
    options: &ConsoleOptions,
    transcript: &mut dyn Transcript,
) {
    // The simulated call is a media unit like a real one, though no audio flows from it: a
    // scenario's links, players, recorders and WebSockets work (the WebSockets for real).
    let mut media = SessionMedia::new(media, host.events.clone());
    let call_ports = media.add_call(CONSOLE_CALL_ID);
    // The caller's speech (--caller-audio), started when the call connects.
    let mut speech = options.caller.audio.as_deref().map(caller_audio);
    let mut speaking: Option<AbortOnDropHandle<()>> = None;
    let mut deliver = |outputs: Vec<LegOutput>,
                       host: &host::HostIo,
                       media: &mut SessionMedia,
                       transcript: &mut dyn Transcript| {
        let at = Instant::now() - start;
        for output in outputs {
            match output {
                LegOutput::Note(text) => transcript.record(at, &Entry::Sim(text)),
                LegOutput::Event(event) => {
                    if event.is_final() {
                        media.remove_call(CONSOLE_CALL_ID);
                        speaking = None;
                    }
                    if matches!(event, dialtone_bindings::host::CallEvent::Connected { .. }) {
                        match speech.take() {
                            Some(Ok(samples)) => {
                                let seconds = samples.len() as f64 / 8000.0;
                                transcript.record(
                                    at,
                                    &Entry::Sim(format!(
                                        "the caller speaks ({seconds:.1} s of audio)"
                                    )),
                                );
                                speaking = Some(speak(samples, call_ports.outlet.clone()));
                            }
                            Some(Err(why)) => transcript
                                .record(at, &Entry::Sim(format!("the caller says nothing: {why}"))),
                            None => {}
                        }
                    }
                    let _ = host.events.send(HostEvent::Call {
                        call_id: CONSOLE_CALL_ID.into(),
                        event,
                    });
                }
            }
        }
    };
    loop {
        let timeout = leg.next_timeout();
        tokio::select! {
            biased;
            message = host.outbound.recv() => {
                let at = Instant::now() - start;
                let Some(message) = message else { return };
                if let Outbound::Call { call_id, command } = &message
                    && call_id == CONSOLE_CALL_ID
                {
                    transcript.record(at, &Entry::Session(message.clone()));
                    let outputs = leg.on_command(Instant::now(), command);
                    deliver(outputs, &host, &mut media, transcript);
                    continue;
                }
                if let Outbound::Media(command) = &message {
                    let command = command.clone();
                    transcript.record(at, &Entry::Session(message));
                    if let Err(e) = media.apply(command) {
                        let _ = host.events.send(HostEvent::Warning { text: e.to_string() });
                    }
                    continue;
                }
                if let Outbound::Dial(dial) = &message {
                    let method = match dial.kind {
                        dialtone_bindings::host::DialKind::Pstn => "callPSTN",
                        dialtone_bindings::host::DialKind::User => "callUser",
                        dialtone_bindings::host::DialKind::Conference => "callConference",
                        _ => "callSIP",
                    };
                    transcript.record(at, &Entry::Sim(format!("{method} {}: the console places no outbound calls", dial.to)));
                    let _ = host.events.send(HostEvent::Call {
                        call_id: dial.call_id.clone(),
                        event: dialtone_bindings::host::CallEvent::Failed {
                            code: 501,
                            reason: "the console places no outbound calls; run the scenario under dialtone serve".into(),
                            headers: Default::default(),
                        },
                    });
                    continue;
                }
                if let Outbound::Acd(command) = &message {
                    transcript.record(at, &Entry::Sim(format!("ACD {}: the console has no queues", serde_json::to_string(command).unwrap_or_default())));
                    if let dialtone_bindings::host::acd::AcdCommand::Enqueue { request, .. } = command {
                        let _ = host.events.send(HostEvent::Acd {
                            request: request.clone(),
                            event: dialtone_bindings::host::acd::AcdEvent::Error {
                                error: "the console has no queues; run the scenario under dialtone serve".into(),
                            },
                        });
                    }
                    continue;
                }
                if let Outbound::SecretUpdate { name, value } = &message {
                    let stored = match &options.secret_store {
                        Some(store) => store.update(&options.application, name, value),
                        None => Err("the console has no secret store (the grant came from --secret)".to_owned()),
                    };
                    let text = match stored {
                        Ok(()) => format!("secret '{name}' updated in the store (refreshed OAuth grant)"),
                        Err(e) => format!("secret '{name}' changed but was not stored: {e}"),
                    };
                    transcript.record(at, &Entry::Sim(text));
                    continue;
                }
                let ended = matches!(message, Outbound::Ended(_));
                transcript.record(at, &Entry::Session(message));
                if ended {
                    return;
                }
            }
            () = sleep_until(timeout.unwrap_or_else(Instant::now)), if timeout.is_some() => {
                let outputs = leg.on_timeout(Instant::now());
                deliver(outputs, &host, &mut media, transcript);
            }
        }
    }
}

/// The caller's speech: a WAV file as 8 kHz samples.
fn caller_audio(path: &std::path::Path) -> Result<Vec<i16>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    crate::media::convert::wav_to_8k(&bytes)
        .map_err(|e| format!("{} is not a usable WAV file ({e})", path.display()))
}

/// Sends `samples` from the caller, 20 ms at a time, then silence is what it sends.
fn speak(
    samples: Vec<i16>,
    outlet: std::sync::Arc<crate::media::graph::Outlet>,
) -> AbortOnDropHandle<()> {
    AbortOnDropHandle::new(tokio::spawn(async move {
        let mut clock = tokio::time::interval(Duration::from_millis(20));
        for frame in samples.chunks(160) {
            clock.tick().await;
            outlet.push_samples(frame);
        }
    }))
}

/// Parses `10s`, `500ms`, `2m` or a plain number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration '{text}' (try 10s, 500ms, 2m)"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => {
            return Err(format!(
                "invalid duration unit in '{text}' (use ms, s or m)"
            ));
        }
    };
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("3h").is_err());
        assert!(parse_duration("fast").is_err());
    }
}
