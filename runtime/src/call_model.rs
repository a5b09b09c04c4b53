//! One call leg's state machine, shared by every kind of leg: the SIP call task and the
//! console's simulated leg drive the same [`CallModel`], so golden transcripts exercise the
//! code a real call runs. Later legs (WebRTC, outbound SIP) plug in the same way.
//!
//! Sans-IO, str0m style: a leg feeds [`CallInput`]s (the scenario's commands, what the
//! signalling and the media did) with the time, and carries out the [`CallOutput`]s:
//! [`Signal`]s for its signalling, [`MediaAction`]s for its media, events for the session.
//! The model never waits and never reads a clock.

use dialtone_bindings::host::{CallCommand, CallEvent};
use tokio::time::Instant;

/// What a leg tells the model.
#[derive(Debug, Clone, PartialEq)]
pub enum CallInput {
    /// A command from the scenario.
    Command(CallCommand),
    /// The caller confirmed the answer (SIP ACK).
    Acked,
    /// The far end ended the call (BYE, CANCEL, no ACK ...): the reason for `Disconnected`,
    /// and the X- headers of the BYE.
    RemoteEnded(String, ExtraHeaders),
    /// A host-side timer ended the connected call (media timeout, session expiry): we hang up,
    /// and `Disconnected` carries this reason.
    Expired(String),
    /// A playback's audio is ready (its length in ms), or could not be had.
    Loaded {
        /// The playback's generation, from [`MediaAction::Load`].
        generation: u64,
        /// Length in milliseconds, or why there is nothing to play.
        result: Result<u64, String>,
    },
    /// A playback reached its end.
    PlaybackEnded {
        /// Its generation.
        generation: u64,
    },
    /// The caller pressed a key: '1' RFC 4733, '3' SIP INFO.
    Tone {
        /// The key.
        tone: String,
        /// How it came.
        kind: &'static str,
    },
    /// A recording started (its URL) or could not.
    RecordStarted(Result<String, String>),
    /// The recording is closed: its URL and length in seconds, or why it failed.
    RecordStopped(Result<(String, u64), String>),
    /// The session ended first; `normal` when it simply ended (not a failure).
    SessionEnded {
        /// An orderly end (480 for an unanswered call) rather than a failure (500).
        normal: bool,
    },
}

/// Headers a scenario adds to a message (`X-...`), by name.
pub type ExtraHeaders = std::collections::BTreeMap<String, String>;

/// What a leg must do on its signalling, with the scenario's extra headers for the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// 180 Ringing.
    Ringing(ExtraHeaders),
    /// 183 Session Progress with the SDP answer; media flows from now on.
    EarlyMedia(ExtraHeaders),
    /// 200 OK with the SDP answer.
    Accept(ExtraHeaders),
    /// A final error response.
    Reject(u16),
    /// BYE.
    Bye(ExtraHeaders),
}

/// Where a playback's audio comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaybackSource {
    /// A file or URL.
    Url(String),
    /// Speech.
    Speech {
        /// The text.
        text: String,
        /// The voice, as the scenario named it.
        voice: Option<String>,
    },
}

/// What a leg must do with its media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaAction {
    /// Load (or synthesize) audio and answer with [`CallInput::Loaded`].
    Load {
        /// Tags the answer: only the newest generation plays.
        generation: u64,
        /// What to load.
        source: PlaybackSource,
    },
    /// Play what was loaded for `generation` (replacing anything playing).
    Play {
        /// The generation loaded.
        generation: u64,
        /// Repeat until stopped.
        looped: bool,
    },
    /// Stop playing without reporting it.
    Stop,
    /// Send DTMF digits.
    Digits(String),
    /// Start recording both directions; answer with [`CallInput::RecordStarted`].
    StartRecord {
        /// Two channels instead of one mixed.
        stereo: bool,
    },
    /// Close the recording; answer with [`CallInput::RecordStopped`].
    StopRecord,
    /// The call is over: release the media.
    Release,
}

/// What the model produced.
#[derive(Debug, Clone, PartialEq)]
pub enum CallOutput {
    /// An event for the session.
    Event(CallEvent),
    /// Something for the signalling.
    Signal(Signal),
    /// Something for the media.
    Media(MediaAction),
    /// A command had no effect, and why (for logs and the console's transcript).
    Ignored(String),
}

/// Where the call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Offered; nothing final sent.
    Alerting,
    /// 200 OK sent, waiting for the ACK.
    Answering,
    /// Confirmed.
    Connected {
        /// Since when.
        at: Instant,
    },
    /// Over.
    Ended,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Recording {
    None,
    Starting,
    Running(Instant),
}

/// One call leg.
#[derive(Debug)]
pub struct CallModel {
    phase: Phase,
    early_media: bool,
    tones: bool,
    generation: u64,
    /// The playback that is loading or playing, and whether it loops.
    playback: Option<(u64, bool)>,
    recording: Recording,
    /// `Disconnected`, held until the recording is closed (RecordStopped comes first).
    held_disconnect: Option<CallEvent>,
    /// X- headers of the far end's BYE, for `Disconnected`.
    bye_headers: ExtraHeaders,
}

impl Default for CallModel {
    fn default() -> Self {
        Self::new()
    }
}

impl CallModel {
    /// An alerting call.
    pub fn new() -> Self {
        Self {
            phase: Phase::Alerting,
            early_media: false,
            tones: false,
            generation: 0,
            playback: None,
            recording: Recording::None,
            held_disconnect: None,
            bye_headers: ExtraHeaders::new(),
        }
    }

    /// Where the call is.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether the call is over (and its `Disconnected`, if any, delivered).
    pub fn is_ended(&self) -> bool {
        self.phase == Phase::Ended && self.held_disconnect.is_none()
    }

    /// Handles one input at `now`; the outputs are to be carried out in order.
    pub fn handle(&mut self, now: Instant, input: CallInput) -> Vec<CallOutput> {
        let mut out = Vec::new();
        match input {
            CallInput::Command(command) => self.on_command(now, command, &mut out),
            CallInput::Acked => {
                if self.phase == Phase::Answering {
                    self.phase = Phase::Connected { at: now };
                    out.push(CallOutput::Event(CallEvent::Connected {
                        headers: Default::default(),
                    }));
                }
            }
            CallInput::RemoteEnded(reason, headers) => {
                if self.phase != Phase::Ended {
                    self.bye_headers = headers;
                    self.end(now, Some(reason), &mut out);
                }
            }
            CallInput::Expired(reason) => {
                if matches!(self.phase, Phase::Connected { .. }) {
                    out.push(CallOutput::Signal(Signal::Bye(ExtraHeaders::new())));
                    self.end(now, Some(reason), &mut out);
                }
            }
            CallInput::Loaded { generation, result } => {
                if self.phase == Phase::Ended || self.current() != Some(generation) {
                    return out;
                }
                match result {
                    Ok(duration) => {
                        let looped = self.playback.is_some_and(|(_, l)| l);
                        out.push(CallOutput::Media(MediaAction::Play { generation, looped }));
                        out.push(CallOutput::Event(CallEvent::PlaybackReady));
                        out.push(CallOutput::Event(CallEvent::PlaybackStarted {
                            duration: Some(duration),
                        }));
                    }
                    Err(error) => {
                        self.playback = None;
                        out.push(CallOutput::Event(CallEvent::PlaybackFinished {
                            error: Some(error),
                        }));
                    }
                }
            }
            CallInput::PlaybackEnded { generation } => {
                if self.phase != Phase::Ended && self.current() == Some(generation) {
                    self.playback = None;
                    out.push(CallOutput::Event(CallEvent::PlaybackFinished {
                        error: None,
                    }));
                }
            }
            CallInput::Tone { tone, kind } => {
                if self.tones && matches!(self.phase, Phase::Connected { .. }) {
                    out.push(CallOutput::Event(CallEvent::ToneReceived {
                        tone,
                        tone_type: kind.to_owned(),
                    }));
                }
            }
            CallInput::RecordStarted(result) => match result {
                Ok(url) => {
                    self.recording = Recording::Running(now);
                    out.push(CallOutput::Event(CallEvent::RecordStarted { url }));
                }
                Err(error) => {
                    self.recording = Recording::None;
                    out.push(CallOutput::Event(CallEvent::RecordError { error }));
                }
            },
            CallInput::RecordStopped(result) => {
                if self.recording == Recording::None {
                    return out;
                }
                self.recording = Recording::None;
                out.push(CallOutput::Event(match result {
                    Ok((url, duration)) => CallEvent::RecordStopped { url, duration },
                    Err(error) => CallEvent::RecordError { error },
                }));
                if let Some(disconnected) = self.held_disconnect.take() {
                    out.push(CallOutput::Event(disconnected));
                }
            }
            CallInput::SessionEnded { normal } => match self.phase {
                Phase::Alerting => {
                    out.push(CallOutput::Signal(Signal::Reject(if normal {
                        480
                    } else {
                        500
                    })));
                    self.end(now, None, &mut out);
                }
                Phase::Answering | Phase::Connected { .. } => {
                    out.push(CallOutput::Signal(Signal::Bye(ExtraHeaders::new())));
                    self.end(now, None, &mut out);
                }
                Phase::Ended => {}
            },
        }
        out
    }

    fn current(&self) -> Option<u64> {
        self.playback.map(|(generation, _)| generation)
    }

    fn on_command(&mut self, now: Instant, command: CallCommand, out: &mut Vec<CallOutput>) {
        if self.phase == Phase::Ended {
            out.push(CallOutput::Ignored(format!(
                "{} ignored: the call is over",
                command.name()
            )));
            return;
        }
        match command {
            CallCommand::Ring { headers } => {
                if self.phase == Phase::Alerting {
                    out.push(CallOutput::Signal(Signal::Ringing(headers)));
                }
            }
            CallCommand::StartEarlyMedia { headers } => {
                if self.phase == Phase::Alerting && !self.early_media {
                    self.early_media = true;
                    out.push(CallOutput::Signal(Signal::EarlyMedia(headers)));
                }
            }
            CallCommand::Answer { headers } => {
                if self.phase == Phase::Alerting {
                    self.phase = Phase::Answering;
                    out.push(CallOutput::Signal(Signal::Accept(headers)));
                }
            }
            CallCommand::Reject { code, .. } => {
                if self.phase == Phase::Alerting {
                    out.push(CallOutput::Signal(Signal::Reject(code)));
                    self.end(now, Some(format!("rejected with {code}")), out);
                } else {
                    out.push(CallOutput::Ignored(
                        "reject ignored: the call is answered (use hangup)".into(),
                    ));
                }
            }
            CallCommand::Hangup { headers } => {
                if self.phase == Phase::Alerting {
                    out.push(CallOutput::Signal(Signal::Reject(603)));
                    self.end(
                        now,
                        Some("hung up by the scenario before answer".into()),
                        out,
                    );
                } else {
                    out.push(CallOutput::Signal(Signal::Bye(headers)));
                    self.end(now, Some("hung up by the scenario".into()), out);
                }
            }
            CallCommand::StartPlayback { url, looped } => {
                self.load(PlaybackSource::Url(url), looped, out);
            }
            CallCommand::Say { text, voice } => {
                self.load(PlaybackSource::Speech { text, voice }, false, out);
            }
            CallCommand::StopPlayback => {
                self.playback = None;
                self.generation += 1;
                out.push(CallOutput::Media(MediaAction::Stop));
            }
            CallCommand::HandleTones { enabled } => self.tones = enabled,
            CallCommand::SendDigits { digits } => {
                out.push(CallOutput::Media(MediaAction::Digits(digits)));
            }
            CallCommand::Record { stereo } => {
                if self.recording == Recording::None {
                    self.recording = Recording::Starting;
                    out.push(CallOutput::Media(MediaAction::StartRecord { stereo }));
                } else {
                    out.push(CallOutput::Ignored(
                        "record ignored: the call is already being recorded".into(),
                    ));
                }
            }
            other => out.push(CallOutput::Ignored(format!(
                "{} is not supported on this call",
                other.name()
            ))),
        }
    }

    fn load(&mut self, source: PlaybackSource, looped: bool, out: &mut Vec<CallOutput>) {
        self.generation += 1;
        self.playback = Some((self.generation, looped));
        out.push(CallOutput::Media(MediaAction::Load {
            generation: self.generation,
            source,
        }));
    }

    /// Ends the call: the recording is closed first (its `RecordStopped` comes before
    /// `Disconnected`), then the media is released.
    fn end(&mut self, now: Instant, reason: Option<String>, out: &mut Vec<CallOutput>) {
        let duration = match self.phase {
            Phase::Connected { at } => (now - at).as_secs(),
            _ => 0,
        };
        self.phase = Phase::Ended;
        self.playback = None;
        let disconnected = reason.map(|reason| CallEvent::Disconnected {
            reason,
            duration,
            headers: std::mem::take(&mut self.bye_headers),
        });
        if self.recording != Recording::None {
            out.push(CallOutput::Media(MediaAction::StopRecord));
            self.held_disconnect = disconnected;
        } else if let Some(event) = disconnected {
            out.push(CallOutput::Event(event));
        }
        out.push(CallOutput::Media(MediaAction::Release));
    }

    /// When the recording started, if one runs.
    pub fn recording_since(&self) -> Option<Instant> {
        match self.recording {
            Recording::Running(at) => Some(at),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn command(model: &mut CallModel, now: Instant, command: CallCommand) -> Vec<CallOutput> {
        model.handle(now, CallInput::Command(command))
    }

    fn answered(t0: Instant) -> CallModel {
        let mut model = CallModel::new();
        let out = command(
            &mut model,
            t0,
            CallCommand::Answer {
                headers: Default::default(),
            },
        );
        assert_eq!(
            out,
            [CallOutput::Signal(Signal::Accept(ExtraHeaders::new()))]
        );
        let out = model.handle(t0, CallInput::Acked);
        assert!(matches!(
            &out[..],
            [CallOutput::Event(CallEvent::Connected { .. })]
        ));
        model
    }

    #[test]
    fn only_the_newest_playback_plays_and_finishes() {
        let t0 = Instant::now();
        let mut model = answered(t0);
        let first = command(
            &mut model,
            t0,
            CallCommand::StartPlayback {
                url: "a.wav".into(),
                looped: false,
            },
        );
        assert!(matches!(
            &first[..],
            [CallOutput::Media(MediaAction::Load { generation: 1, .. })]
        ));
        command(
            &mut model,
            t0,
            CallCommand::Say {
                text: "hi".into(),
                voice: None,
            },
        );
        let stale = model.handle(
            t0,
            CallInput::Loaded {
                generation: 1,
                result: Ok(500),
            },
        );
        assert!(stale.is_empty(), "a replaced playback never starts");
        let fresh = model.handle(
            t0,
            CallInput::Loaded {
                generation: 2,
                result: Ok(300),
            },
        );
        assert_eq!(
            fresh,
            [
                CallOutput::Media(MediaAction::Play {
                    generation: 2,
                    looped: false
                }),
                CallOutput::Event(CallEvent::PlaybackReady),
                CallOutput::Event(CallEvent::PlaybackStarted {
                    duration: Some(300)
                }),
            ]
        );
        assert!(
            model
                .handle(t0, CallInput::PlaybackEnded { generation: 1 })
                .is_empty()
        );
        assert_eq!(
            model.handle(t0, CallInput::PlaybackEnded { generation: 2 }),
            [CallOutput::Event(CallEvent::PlaybackFinished {
                error: None
            })]
        );
    }

    #[test]
    fn a_recording_closes_before_disconnected() {
        let t0 = Instant::now();
        let mut model = answered(t0);
        assert_eq!(
            command(&mut model, t0, CallCommand::Record { stereo: true }),
            [CallOutput::Media(MediaAction::StartRecord { stereo: true })]
        );
        model.handle(t0, CallInput::RecordStarted(Ok("file:///r.wav".into())));
        let later = t0 + Duration::from_secs(7);
        let out = model.handle(
            later,
            CallInput::RemoteEnded("caller hung up".into(), ExtraHeaders::new()),
        );
        assert_eq!(
            out,
            [
                CallOutput::Media(MediaAction::StopRecord),
                CallOutput::Media(MediaAction::Release)
            ]
        );
        assert!(!model.is_ended(), "Disconnected is still held");
        let out = model.handle(
            later,
            CallInput::RecordStopped(Ok(("file:///r.wav".into(), 7))),
        );
        assert!(matches!(
            &out[..],
            [
                CallOutput::Event(CallEvent::RecordStopped { duration: 7, .. }),
                CallOutput::Event(CallEvent::Disconnected { duration: 7, .. }),
            ]
        ));
        assert!(model.is_ended());
    }

    #[test]
    fn what_ends_a_call_in_each_phase() {
        let t0 = Instant::now();
        let mut alerting = CallModel::new();
        assert_eq!(
            command(
                &mut alerting,
                t0,
                CallCommand::Hangup {
                    headers: Default::default()
                }
            )[0],
            CallOutput::Signal(Signal::Reject(603))
        );
        let mut answering = CallModel::new();
        command(
            &mut answering,
            t0,
            CallCommand::Answer {
                headers: Default::default(),
            },
        );
        let out = command(
            &mut answering,
            t0,
            CallCommand::Hangup {
                headers: Default::default(),
            },
        );
        assert_eq!(
            out[0],
            CallOutput::Signal(Signal::Bye(ExtraHeaders::new())),
            "200 OK was sent: BYE"
        );
        let mut failed = CallModel::new();
        let out = failed.handle(t0, CallInput::SessionEnded { normal: false });
        assert_eq!(
            out,
            [
                CallOutput::Signal(Signal::Reject(500)),
                CallOutput::Media(MediaAction::Release)
            ]
        );
        let ignored = command(&mut failed, t0, CallCommand::HandleTones { enabled: true });
        assert_eq!(
            ignored,
            [CallOutput::Ignored(
                "handleTones ignored: the call is over".into()
            )]
        );
    }

    #[test]
    fn a_media_timeout_hangs_up_a_connected_call_only() {
        let t0 = Instant::now();
        let mut alerting = CallModel::new();
        assert!(
            alerting
                .handle(t0, CallInput::Expired("media timeout".into()))
                .is_empty()
        );
        let mut model = answered(t0);
        let out = model.handle(
            t0 + Duration::from_secs(61),
            CallInput::Expired("media timeout".into()),
        );
        assert_eq!(out[0], CallOutput::Signal(Signal::Bye(ExtraHeaders::new())));
        assert!(
            matches!(&out[1], CallOutput::Event(CallEvent::Disconnected { reason, duration: 61, .. }) if reason == "media timeout")
        );
    }

    #[test]
    fn tones_are_reported_only_when_asked_for_and_connected() {
        let t0 = Instant::now();
        let mut model = CallModel::new();
        command(&mut model, t0, CallCommand::HandleTones { enabled: true });
        let tone = || CallInput::Tone {
            tone: "5".into(),
            kind: "1",
        };
        assert!(model.handle(t0, tone()).is_empty(), "not connected yet");
        let mut model = answered(t0);
        assert!(model.handle(t0, tone()).is_empty(), "handleTones is off");
        command(&mut model, t0, CallCommand::HandleTones { enabled: true });
        assert_eq!(
            model.handle(t0, tone()),
            [CallOutput::Event(CallEvent::ToneReceived {
                tone: "5".into(),
                tone_type: "1".into()
            })]
        );
    }
}
