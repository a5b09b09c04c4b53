//! The host interface: the only way a scenario session talks to the world.
//!
//! A session receives [`HostEvent`]s (call events, alerting calls) and sends [`Outbound`]
//! messages (call commands, session-log lines, the events it dispatched, its end). The
//! `dialtone` runtime implements the other side for SIP calls and for the console's simulated
//! leg; bindings never depends on it.
//!
//! Both directions are unbounded channels: a session must never block its JS thread on a slow
//! host, and the host bounds the traffic by bounding the calls it admits.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

pub mod acd;
pub mod asr;
pub mod media;
pub mod player;
mod queue;
pub mod storage;
mod unit;

pub use media::{
    AudioEncoding, MediaCommand, SendMediaParams, StreamFormat, UnitId, WebSocketEvent,
    WebSocketSpec,
};
pub use player::{
    PlayerAction, PlayerEvent, PlayerSegment, PlayerSpec, RecorderAction, RecorderEvent,
    RecorderSpec,
};

/// Identifies one call leg within the whole process (SIP Call-ID or a generated id).
pub type CallId = String;

/// Everything a session needs to start: which scripts to run and for whom.
#[derive(Debug, Clone, Default)]
pub struct SessionSpec {
    /// Unique session id, reported in `AppEvents.Started` as `sessionId`.
    pub session_id: String,
    /// Application the session belongs to (its secrets are the application's).
    pub application: String,
    /// Routing rule that selected the scripts.
    pub rule: String,
    /// Scenario scripts, evaluated in order in one realm.
    pub scripts: Vec<Script>,
    /// The application's secrets, read by `VoxEngine.getSecretValue`.
    pub secrets: BTreeMap<String, String>,
    /// Initial `VoxEngine.customData()`.
    pub custom_data: String,
    /// The session's access URL (`AppEvents.Started.accessURL`): HTTP requests to it arrive
    /// as `HostEvent::HttpRequest`.
    pub access_url: Option<String>,
    /// Limits for this session.
    pub limits: Limits,
    /// What the application allows its MCP clients.
    pub mcp: crate::mcp::McpPolicy,
    /// Where the session's outbound connections may go.
    pub outbound: std::sync::Arc<crate::outbound::OutboundPolicy>,
    /// The session's runtime runs on a paused, auto-advancing clock (`dialtone console
    /// --sim-time`). Such a clock jumps to the next timer whenever the runtime waits, network
    /// waits included, so the first MCP client switches the runtime back to real time (and
    /// says so in the log); without that, every connect would time out at once.
    pub simulated_time: bool,
    /// The application's key-value store (`ApplicationStorage`); none: its calls reject with
    /// a message saying so.
    pub storage: Option<std::sync::Arc<dyn storage::AppStorage>>,
}

/// One scenario source file.
#[derive(Debug, Clone)]
pub struct Script {
    /// Name shown in stack traces (usually the file name).
    pub name: String,
    /// JavaScript source.
    pub source: String,
    /// The source compiled once by the host ([`Script::compile`]); sessions load it instead
    /// of parsing `source`. None: each session evaluates the source.
    pub compiled: Option<crate::engine::Compiled>,
}

/// Per-session limits. Defaults are VoxEngine's documented values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// JS heap limit in bytes (VoxEngine: 16 MB).
    pub heap_bytes: usize,
    /// Maximum CPU time of one callback, in milliseconds (VoxEngine: 1 s).
    pub callback_ms: u64,
    /// Maximum number of active timers (VoxEngine: 100).
    pub max_timers: usize,
    /// Maximum total scenario source size in characters (VoxEngine: 256 Ki).
    pub max_source_chars: usize,
    /// A session with no live call ends after this many seconds (VoxEngine: 60).
    pub no_call_timeout_s: u64,
    /// An inbound call that is not answered is dropped after this many seconds (VoxEngine: 60).
    pub unanswered_call_timeout_s: u64,
    /// Maximum JS stack size in bytes.
    pub stack_bytes: usize,
    /// A connected call is hung up after this many seconds (0: no maximum).
    pub max_call_duration_s: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            heap_bytes: 16 << 20,
            callback_ms: 1000,
            max_timers: 100,
            max_source_chars: 256 * 1024,
            no_call_timeout_s: 60,
            unanswered_call_timeout_s: 60,
            stack_bytes: 256 << 10,
            max_call_duration_s: 0,
        }
    }
}

impl Limits {
    /// Checks every limit is within what a session can work with (no 0 ms callback budget,
    /// no timeout that overflows a deadline); the error names the field, its range and value.
    pub fn validate(&self) -> Result<(), String> {
        let checks: [(&str, u64, u64, u64); 8] = [
            (
                "max_call_duration_s",
                self.max_call_duration_s,
                0,
                7 * 86_400,
            ),
            ("heap_bytes", self.heap_bytes as u64, 1 << 20, 1 << 30),
            ("callback_ms", self.callback_ms, 10, 60_000),
            ("max_timers", self.max_timers as u64, 1, 10_000),
            (
                "max_source_chars",
                self.max_source_chars as u64,
                1,
                16 << 20,
            ),
            ("no_call_timeout_s", self.no_call_timeout_s, 1, 86_400),
            (
                "unanswered_call_timeout_s",
                self.unanswered_call_timeout_s,
                1,
                3_600,
            ),
            ("stack_bytes", self.stack_bytes as u64, 64 << 10, 64 << 20),
        ];
        for (name, value, min, max) in checks {
            if !(min..=max).contains(&value) {
                return Err(format!(
                    "limits.{name} must be between {min} and {max} (got {value})"
                ));
            }
        }
        Ok(())
    }

    /// [`Limits::no_call_timeout_s`] as a duration.
    pub fn no_call_timeout(&self) -> Duration {
        Duration::from_secs(self.no_call_timeout_s)
    }
    /// [`Limits::unanswered_call_timeout_s`] as a duration.
    pub fn unanswered_call_timeout(&self) -> Duration {
        Duration::from_secs(self.unanswered_call_timeout_s)
    }
}

/// An inbound call offered to the session (`AppEvents.CallAlerting`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IncomingCall {
    /// Call id.
    pub id: CallId,
    /// Caller number (user part of From).
    pub callerid: String,
    /// Caller display name.
    pub display_name: String,
    /// Dialed destination (user part of the request URI).
    pub destination: String,
    /// Full To URI.
    #[serde(rename = "toURI")]
    pub to_uri: String,
    /// Full From URI.
    #[serde(rename = "fromURI")]
    pub from_uri: String,
    /// Signalling headers of the offer.
    pub headers: BTreeMap<String, String>,
    /// `sip`, `pstn`, `webrtc` ...
    pub scheme: String,
}

/// An internally tagged event's fields without its `event` tag (the JS event's payload).
pub(crate) fn untagged_fields(event: &impl Serialize) -> serde_json::Value {
    let mut value = serde_json::to_value(event).unwrap_or_default();
    if let Some(fields) = value.as_object_mut() {
        fields.remove("event");
    }
    value
}

/// Something the host tells a session.
#[derive(Debug, Clone, PartialEq)]
pub enum HostEvent {
    /// A new inbound call for this session.
    CallAlerting(IncomingCall),
    /// An event on a call the session knows.
    Call {
        /// The call.
        call_id: CallId,
        /// What happened.
        event: CallEvent,
    },
    /// An event on a WebSocket the session created.
    WebSocket {
        /// The socket's unit id.
        id: UnitId,
        /// What happened.
        event: WebSocketEvent,
    },
    /// An event on a player the session created.
    Player {
        /// The player's unit id.
        id: UnitId,
        /// What happened.
        event: PlayerEvent,
    },
    /// What the queues say about one of the session's ACD requests.
    Acd {
        /// The request.
        request: acd::AcdRequestId,
        /// What happened.
        event: acd::AcdEvent,
    },
    /// An event on a speech recognizer the session created.
    Asr {
        /// The recognizer's unit id.
        id: UnitId,
        /// What happened.
        event: asr::AsrEvent,
    },
    /// An event on a recorder the session created.
    Recorder {
        /// The recorder's unit id.
        id: UnitId,
        /// What happened.
        event: RecorderEvent,
    },
    /// Something the scenario's author should know (an unknown voice, a link to a unit that
    /// ended): written to the session log as a warning.
    Warning {
        /// The text.
        text: String,
    },
    /// An HTTP request to the session's access URL (`AppEvents.HttpRequest`); the session
    /// answers with `Outbound::HttpResponse` of the same id.
    HttpRequest(HttpRequest),
    /// The host shuts the session down (process shutdown, admin action).
    Shutdown {
        /// Why, for the log.
        reason: String,
    },
}

/// Call events, named as VoxEngine's `CallEvents` members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "camelCase")]
#[non_exhaustive]
pub enum CallEvent {
    /// The call is answered and media flows.
    Connected {
        /// Headers of the answer.
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    /// The call ended after it was connected (or was rejected / cancelled before).
    Disconnected {
        /// Human readable reason.
        reason: String,
        /// Seconds the call was connected.
        duration: u64,
        /// Headers of the BYE, if any.
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    /// The call failed before it connected.
    Failed {
        /// SIP status code.
        code: u16,
        /// Reason phrase.
        reason: String,
        /// X- headers of the final response, if any.
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    /// The far end is ringing (outbound legs: a 18x).
    Ringing {
        /// X- headers of the 18x.
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    /// Audio from the far end starts: early media (183 with SDP) or the answer (outbound legs).
    AudioStarted {
        /// X- headers of the response that carried the media.
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    /// A playback's audio is loaded (or its speech synthesized); `PlaybackStarted` follows.
    PlaybackReady,
    /// A playback or `say` started.
    PlaybackStarted {
        /// Length in milliseconds, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration: Option<u64>,
    },
    /// A playback or `say` finished on its own (or failed).
    PlaybackFinished {
        /// Why the playback could not be played.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// A DTMF digit arrived (only after `handleTones(true)`).
    ToneReceived {
        /// '0'-'9', '*', '#', 'A'-'D'.
        tone: String,
        /// '1' RFC 2833/4733, '2' in-band, '3' SIP INFO.
        #[serde(rename = "type")]
        tone_type: String,
    },
    /// Recording started.
    RecordStarted {
        /// Where the recording is written.
        url: String,
    },
    /// Recording stopped.
    RecordStopped {
        /// Where the recording was written.
        url: String,
        /// Seconds recorded.
        duration: u64,
    },
    /// Recording failed.
    RecordError {
        /// Why.
        error: String,
    },
}

impl CallEvent {
    /// The VoxEngine event value, e.g. `Call.Connected`.
    pub fn name(&self) -> &'static str {
        match self {
            CallEvent::Connected { .. } => "Call.Connected",
            CallEvent::Disconnected { .. } => "Call.Disconnected",
            CallEvent::Failed { .. } => "Call.Failed",
            CallEvent::Ringing { .. } => "Call.Ringing",
            CallEvent::AudioStarted { .. } => "Call.AudioStarted",
            CallEvent::PlaybackReady => "Call.PlaybackReady",
            CallEvent::PlaybackStarted { .. } => "Call.PlaybackStarted",
            CallEvent::PlaybackFinished { .. } => "Call.PlaybackFinished",
            CallEvent::ToneReceived { .. } => "Call.ToneReceived",
            CallEvent::RecordStarted { .. } => "Call.RecordStarted",
            CallEvent::RecordStopped { .. } => "Call.RecordStopped",
            CallEvent::RecordError { .. } => "Call.RecordError",
        }
    }

    /// Whether the call is over after this event.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            CallEvent::Disconnected { .. } | CallEvent::Failed { .. }
        )
    }
}

/// An HTTP request to a session's access URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRequest {
    /// Pairs the answer with the request.
    #[serde(skip)]
    pub id: u64,
    /// `GET`, `POST` ...
    pub method: String,
    /// The path after the access URL (`/command=x/pId=1`), with its query; `/` for none.
    pub path: String,
    /// The body, as text.
    pub content: String,
    /// Its X- headers, as VoxEngine passes them.
    pub headers: Vec<HttpHeader>,
}

/// One header of an HTTP request (VoxEngine's `{key, value}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpHeader {
    /// The name.
    pub key: String,
    /// The value.
    pub value: String,
}

/// A session's answer to an HTTP request to its access URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpAnswer {
    /// The request's id.
    pub id: u64,
    /// HTTP status (200; 404 when no `AppEvents.HttpRequest` handler listens; 500 when the
    /// handler failed).
    pub status: u16,
    /// The body.
    pub body: String,
    /// Its content type.
    pub content_type: String,
}

/// An outbound call a scenario places.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dial {
    /// The new call's id.
    pub call_id: CallId,
    /// The SIP URI to call (`sip:bob@host:port`).
    pub to: String,
    /// The user part of our From.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callerid: Option<String>,
    /// The display name of our From.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// X- headers of the INVITE.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Where the call goes: a SIP address, a phone number over the application's trunk, or
    /// a user of the application.
    #[serde(default)]
    pub kind: DialKind,
    /// Digest credentials for a 401/407 challenge (`password`, `authUser`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<DialAuth>,
    /// Send the INVITE to this proxy (`host[:port]`) instead of the address's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_proxy: Option<String>,
    /// Seconds an unanswered call may ring before it is cancelled (VoxEngine's
    /// `VI-CallTimeout`, 10-400; default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_answer_s: Option<u32>,
}

/// What `Dial::to` names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum DialKind {
    /// A SIP URI (`VoxEngine.callSIP`).
    #[default]
    Sip,
    /// A phone number, called through the application's SIP trunk (`VoxEngine.callPSTN`).
    Pstn,
    /// A user of the application, at every address it registered (`VoxEngine.callUser`).
    User,
    /// A conference session of the application, by conference id (`VoxEngine.callConference`):
    /// the call arrives there as `CallAlerting`.
    Conference,
}

/// Digest credentials of an outbound call.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialAuth {
    /// The digest user name.
    pub user: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for DialAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DialAuth")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// A command from a scenario to one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub enum CallCommand {
    /// Send 180 Ringing.
    Ring {
        /// Extra headers.
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    /// Send 183 Session Progress with the SDP answer: the caller hears the scenario before
    /// the call is answered.
    StartEarlyMedia {
        /// Extra headers.
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    /// Answer (200 OK).
    Answer {
        /// Extra headers.
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    /// Reject with a final status code.
    Reject {
        /// SIP status code (400-699).
        code: u16,
        /// Extra headers.
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    /// Hang up (BYE when connected, a final error response before).
    Hangup {
        /// Extra headers.
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    /// Play a file or URL.
    StartPlayback {
        /// Path or URL.
        url: String,
        /// Repeat until stopped.
        #[serde(default, rename = "loop")]
        looped: bool,
    },
    /// Stop the current playback or `say`.
    StopPlayback,
    /// Speak text.
    Say {
        /// Text to speak.
        text: String,
        /// Voice name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        voice: Option<String>,
    },
    /// Turn DTMF reporting on or off.
    HandleTones {
        /// On or off.
        enabled: bool,
    },
    /// Send DTMF digits.
    SendDigits {
        /// Digits.
        digits: String,
    },
    /// Start recording both directions of the call.
    Record {
        /// Two channels (what the scenario sends left, the caller right) instead of one
        /// channel with both mixed.
        #[serde(default)]
        stereo: bool,
    },
}

impl CallCommand {
    /// Short name for logs, e.g. `answer`.
    pub fn name(&self) -> &'static str {
        match self {
            CallCommand::Ring { .. } => "ring",
            CallCommand::StartEarlyMedia { .. } => "startEarlyMedia",
            CallCommand::Answer { .. } => "answer",
            CallCommand::Reject { .. } => "reject",
            CallCommand::Hangup { .. } => "hangup",
            CallCommand::StartPlayback { .. } => "startPlayback",
            CallCommand::StopPlayback => "stopPlayback",
            CallCommand::Say { .. } => "say",
            CallCommand::HandleTones { .. } => "handleTones",
            CallCommand::SendDigits { .. } => "sendDigits",
            CallCommand::Record { .. } => "record",
        }
    }
}

/// Severity of a session-log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// `Logger.write` output.
    Info,
    /// Something the scenario author should look at (missing secret ...).
    Warn,
    /// Why the session is ending abnormally.
    Error,
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EndReason {
    /// The scenario called `VoxEngine.terminate()`.
    Terminated,
    /// No call was left for the no-call timeout.
    NoCalls,
    /// The host shut the session down.
    Shutdown(String),
    /// A scenario script failed to compile or its top level threw.
    LoadError(String),
    /// An uncaught exception or unhandled rejection.
    UncaughtError(String),
    /// A limit was hit.
    Limit(LimitKind),
}

impl EndReason {
    /// The same reason with its free text passed through `f` (redaction).
    pub fn map_text(self, f: impl Fn(&str) -> String) -> Self {
        match self {
            EndReason::Shutdown(t) => EndReason::Shutdown(f(&t)),
            EndReason::LoadError(t) => EndReason::LoadError(f(&t)),
            EndReason::UncaughtError(t) => EndReason::UncaughtError(f(&t)),
            other => other,
        }
    }

    /// A stable short name: `terminated`, `no_calls`, `shutdown`, `load_error`,
    /// `uncaught_error`, `limit`.
    pub fn kind(&self) -> &'static str {
        match self {
            EndReason::Terminated => "terminated",
            EndReason::NoCalls => "no_calls",
            EndReason::Shutdown(_) => "shutdown",
            EndReason::LoadError(_) => "load_error",
            EndReason::UncaughtError(_) => "uncaught_error",
            EndReason::Limit(_) => "limit",
        }
    }

    /// Whether this is an orderly end (exit code 0 in the console).
    pub fn is_normal(&self) -> bool {
        matches!(
            self,
            EndReason::Terminated | EndReason::NoCalls | EndReason::Shutdown(_)
        )
    }
}

impl std::fmt::Display for EndReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EndReason::Terminated => write!(f, "terminated by the scenario"),
            EndReason::NoCalls => write!(f, "no call left (no-call timeout)"),
            EndReason::Shutdown(why) => write!(f, "shut down by the host: {why}"),
            EndReason::LoadError(why) => write!(f, "scenario failed to load: {why}"),
            EndReason::UncaughtError(why) => write!(f, "uncaught error: {why}"),
            EndReason::Limit(kind) => write!(f, "limit exceeded: {kind}"),
        }
    }
}

/// Which limit ended a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    /// A callback ran longer than `callback_ms`.
    CallbackTime(u64),
    /// The JS heap reached `heap_bytes`.
    Heap(usize),
    /// More than `max_timers` timers were active.
    Timers(usize),
    /// The scenario sources exceed `max_source_chars`.
    SourceSize(usize),
    /// The JS stack overflowed.
    Stack(usize),
}

impl std::fmt::Display for LimitKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LimitKind::CallbackTime(ms) => {
                write!(f, "callback CPU time (a callback ran longer than {ms} ms)")
            }
            LimitKind::Heap(b) => write!(f, "JS heap ({} MiB)", b >> 20),
            LimitKind::Timers(n) => write!(f, "active timers (more than {n})"),
            LimitKind::SourceSize(n) => write!(f, "scenario size (more than {n} characters)"),
            LimitKind::Stack(b) => write!(f, "JS stack ({} KiB)", b >> 10),
        }
    }
}

/// Something a session tells the host.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outbound {
    /// A command for one of the session's calls.
    Call {
        /// The call.
        call_id: CallId,
        /// The command.
        command: CallCommand,
    },
    /// A command about media units (WebSockets, media links).
    Media(MediaCommand),
    /// A request to the application's queues (ACD).
    Acd(acd::AcdCommand),
    /// A session-log line.
    Log {
        /// Severity.
        level: LogLevel,
        /// The text (already capped and redacted).
        text: String,
    },
    /// An event the session dispatched to the scenario (for transcripts and history).
    Event {
        /// VoxEngine event value, e.g. `Application.Started`.
        name: String,
        /// Payload without live objects (`call` is replaced by its id).
        payload: serde_json::Value,
    },
    /// An MCP request (or a connect) finished, for the host's metrics.
    McpRequest {
        /// JSON-RPC method (`initialize` for a connect).
        method: &'static str,
        /// False when it ended in `MCPError` or a rejected `createClient`.
        ok: bool,
        /// From the scenario's call to the result.
        elapsed: Duration,
    },
    /// Place an outbound SIP call (`VoxEngine.callSIP`): its events arrive as `HostEvent::Call`
    /// with `call_id`, and commands for it as `Outbound::Call`.
    Dial(Dial),
    /// The answer to a `HostEvent::HttpRequest`.
    HttpResponse(HttpAnswer),
    /// A secret of the application changed in the session (an MCP OAuth grant was
    /// refreshed): the host stores the new value.
    SecretUpdate {
        /// The secret.
        name: String,
        /// Its new value.
        value: String,
    },
    /// The session is over; nothing follows.
    Ended(EndReason),
}

pub use queue::{
    CAPACITY as EVENT_QUEUE_CAPACITY, HostEventReceiver, HostEventSender, Received, ShedReceiver,
    ShedSender, Sheddable, shed_queue,
};

/// The session's side of the host interface.
#[derive(Debug)]
pub struct SessionIo {
    /// Events from the host.
    pub events: HostEventReceiver,
    /// Messages to the host.
    pub outbound: mpsc::UnboundedSender<Outbound>,
}

/// The host's side of the host interface.
#[derive(Debug)]
pub struct HostIo {
    /// Events to the session.
    pub events: HostEventSender,
    /// Messages from the session.
    pub outbound: mpsc::UnboundedReceiver<Outbound>,
}

/// A connected pair of host and session ends.
pub fn channel() -> (HostIo, SessionIo) {
    let (ev_tx, ev_rx) = queue::event_queue();
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    (
        HostIo {
            events: ev_tx,
            outbound: out_rx,
        },
        SessionIo {
            events: ev_rx,
            outbound: out_tx,
        },
    )
}
