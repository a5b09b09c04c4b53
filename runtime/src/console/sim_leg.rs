//! The console's simulated inbound call leg: the shared call model ([`CallModel`], the one a
//! SIP call runs) with a simulated network and caller: realistic timing (playback length from
//! the file, speech length from the text), a scripted caller (DTMF digits, hang-up).
//!
//! Drive it like this: feed every command with [`SimLeg::on_command`], call
//! [`SimLeg::on_timeout`] when [`SimLeg::next_timeout`] is reached, and deliver every
//! [`LegOutput`] returned. Time is always passed in.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use dialtone_bindings::host::{CallCommand, CallEvent};
use tokio::time::Instant;

use crate::call_model::{
    CallInput, CallModel, CallOutput, MediaAction, Phase, PlaybackSource, Signal,
};
use crate::media;

/// Time from `answer()` to the caller's ACK.
const ANSWER_DELAY: Duration = Duration::from_millis(20);
/// Time from connect to the caller's first DTMF digit.
const FIRST_DIGIT_DELAY: Duration = Duration::from_secs(1);
/// Time between two DTMF digits; a `,` in the digit string waits [`DIGIT_PAUSE`].
const DIGIT_GAP: Duration = Duration::from_millis(250);
const DIGIT_PAUSE: Duration = Duration::from_secs(1);

/// What the simulated caller does.
#[derive(Debug, Clone, Default)]
pub struct CallerScript {
    /// The caller hangs up this long after the call starts (CANCEL before answer, BYE after).
    pub hangup_after: Option<Duration>,
    /// Digits the caller presses once connected; `,` pauses one second.
    pub dtmf: String,
    /// A WAV file the caller speaks once connected (`--caller-audio`).
    pub audio: Option<std::path::PathBuf>,
}

/// Where relative media paths of `startPlayback` are resolved.
#[derive(Debug, Clone, Default)]
pub struct MediaRoot(pub std::path::PathBuf);

/// What the leg reports.
#[derive(Debug, Clone, PartialEq)]
pub enum LegOutput {
    /// An event for the session.
    Event(CallEvent),
    /// A note for the transcript (what the simulated network or caller did).
    Note(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Ack,
    PlaybackEnd { generation: u64 },
    CallerHangup,
    Digit(char),
}

/// One simulated inbound call: the shared [`CallModel`] with a simulated network and caller.
#[derive(Debug)]
pub struct SimLeg {
    call_id: String,
    media_root: MediaRoot,
    script: CallerScript,
    model: CallModel,
    /// The length of the playback loaded last, by generation.
    loaded: Option<(u64, Duration)>,
    recording_url: Option<String>,
    schedule: BTreeMap<(Instant, u64), Action>,
    seq: u64,
}

impl SimLeg {
    /// A new alerting call that started at `now`.
    pub fn new(call_id: &str, script: CallerScript, media_root: MediaRoot, now: Instant) -> Self {
        let mut leg = Self {
            call_id: call_id.to_owned(),
            media_root,
            script,
            model: CallModel::new(),
            loaded: None,
            recording_url: None,
            schedule: BTreeMap::new(),
            seq: 0,
        };
        if let Some(after) = leg.script.hangup_after {
            leg.at(now + after, Action::CallerHangup);
        }
        leg
    }

    /// Whether the call is over.
    pub fn is_ended(&self) -> bool {
        self.model.is_ended()
    }

    /// When [`SimLeg::on_timeout`] must be called next.
    pub fn next_timeout(&self) -> Option<Instant> {
        self.schedule.keys().next().map(|(at, _)| *at)
    }

    fn at(&mut self, when: Instant, action: Action) {
        self.seq += 1;
        self.schedule.insert((when, self.seq), action);
    }

    /// Acts out one command from the scenario.
    pub fn on_command(&mut self, now: Instant, command: &CallCommand) -> Vec<LegOutput> {
        let mut out = Vec::new();
        self.feed(now, CallInput::Command(command.clone()), &mut out);
        out
    }

    /// Runs every action due at `now`.
    pub fn on_timeout(&mut self, now: Instant) -> Vec<LegOutput> {
        let mut out = Vec::new();
        while let Some(entry) = self.schedule.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let action = entry.remove();
            if self.model.phase() == Phase::Ended {
                continue;
            }
            match action {
                Action::Ack => {
                    out.push(note("ACK received"));
                    self.feed(now, CallInput::Acked, &mut out);
                }
                Action::PlaybackEnd { generation } => {
                    self.feed(now, CallInput::PlaybackEnded { generation }, &mut out);
                }
                Action::CallerHangup => {
                    let reason = if matches!(self.model.phase(), Phase::Connected { .. }) {
                        out.push(note("caller hung up (BYE)"));
                        "caller hung up"
                    } else {
                        out.push(note("caller gave up before answer (CANCEL, 487 sent)"));
                        "caller cancelled"
                    };
                    self.feed(
                        now,
                        CallInput::RemoteEnded(reason.into(), Default::default()),
                        &mut out,
                    );
                }
                Action::Digit(tone) => {
                    let before = out.len();
                    let input = CallInput::Tone {
                        tone: tone.to_string(),
                        kind: "1",
                    };
                    self.feed(now, input, &mut out);
                    if out.len() == before {
                        out.push(LegOutput::Note(format!(
                            "caller pressed {tone} (not reported: handleTones is off)"
                        )));
                    }
                }
            }
        }
        out
    }

    /// Gives the model one input and acts out what it asks, as the network and the caller
    /// would, feeding back what that produces.
    fn feed(&mut self, now: Instant, input: CallInput, out: &mut Vec<LegOutput>) {
        let mut work: VecDeque<CallOutput> = self.model.handle(now, input).into();
        while let Some(output) = work.pop_front() {
            let next = match output {
                CallOutput::Event(event) => {
                    if matches!(event, CallEvent::Connected { .. }) {
                        self.schedule_digits(now);
                    }
                    out.push(LegOutput::Event(event));
                    None
                }
                CallOutput::Ignored(text) => {
                    out.push(LegOutput::Note(text));
                    None
                }
                CallOutput::Signal(signal) => {
                    out.push(LegOutput::Note(match signal {
                        Signal::Ringing(_) => "180 Ringing sent to the caller".into(),
                        Signal::EarlyMedia(_) => {
                            "183 Session Progress sent with SDP (early media)".into()
                        }
                        Signal::Accept(_) => {
                            self.at(now + ANSWER_DELAY, Action::Ack);
                            "200 OK sent; waiting for the caller's ACK".into()
                        }
                        Signal::Reject(603) => "603 Decline sent to the caller".into(),
                        Signal::Reject(code) => format!("{code} sent to the caller"),
                        Signal::Bye(_) => "BYE sent to the caller".into(),
                    }));
                    None
                }
                CallOutput::Media(action) => self.media(now, action, out),
            };
            if let Some(input) = next {
                work.extend(self.model.handle(now, input));
            }
        }
    }

    /// A media action, simulated: lengths from the files and the text, no audio.
    fn media(
        &mut self,
        now: Instant,
        action: MediaAction,
        out: &mut Vec<LegOutput>,
    ) -> Option<CallInput> {
        match action {
            MediaAction::Load { generation, source } => {
                let result = match source {
                    PlaybackSource::Speech { text, .. } => Ok(media::speech_duration(&text)),
                    PlaybackSource::Url(url) => self.file_length(&url),
                };
                if let Ok(length) = result {
                    self.loaded = Some((generation, length));
                }
                Some(CallInput::Loaded {
                    generation,
                    result: result.map(|length| length.as_millis() as u64),
                })
            }
            MediaAction::Play { generation, looped } => {
                if let Some((loaded, length)) = self.loaded
                    && loaded == generation
                    && !looped
                {
                    self.at(now + length, Action::PlaybackEnd { generation });
                }
                None
            }
            MediaAction::Stop | MediaAction::Release => None,
            MediaAction::Digits(digits) => {
                out.push(LegOutput::Note(format!("caller hears DTMF {digits}")));
                None
            }
            MediaAction::StartRecord { .. } => {
                let url = format!("memory://recordings/{}.wav", self.call_id);
                self.recording_url = Some(url.clone());
                Some(CallInput::RecordStarted(Ok(url)))
            }
            MediaAction::StopRecord => {
                let seconds = self
                    .model
                    .recording_since()
                    .map_or(0, |since| (now - since).as_secs());
                let url = self.recording_url.take().unwrap_or_default();
                Some(CallInput::RecordStopped(Ok((url, seconds))))
            }
        }
    }

    /// How long a local file plays, with the same confinement as on a SIP call; the error
    /// names the file as the scenario did.
    fn file_length(&self, url: &str) -> Result<Duration, String> {
        if url.contains("://") && !url.starts_with("file://") {
            // The console plays local files only; file_duration says so.
            return media::file_duration(url).map_err(|e| e.to_string());
        }
        let path =
            media::source::confine(&self.media_root.0, None, "", url).map_err(|e| e.to_string())?;
        let path = path.to_string_lossy();
        media::file_duration(&path).map_err(|e| e.to_string().replace(&*path, url))
    }

    fn schedule_digits(&mut self, connected: Instant) {
        let mut at = connected + FIRST_DIGIT_DELAY;
        let digits: Vec<char> = self.script.dtmf.chars().collect();
        for digit in digits {
            if digit == ',' {
                at += DIGIT_PAUSE;
                continue;
            }
            self.at(at, Action::Digit(digit.to_ascii_uppercase()));
            at += DIGIT_GAP;
        }
    }
}

fn note(text: &str) -> LegOutput {
    LegOutput::Note(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(out: &[LegOutput]) -> Vec<&'static str> {
        out.iter()
            .filter_map(|o| match o {
                LegOutput::Event(e) => Some(e.name()),
                LegOutput::Note(_) => None,
            })
            .collect()
    }

    fn answer(leg: &mut SimLeg, t0: Instant) -> Instant {
        leg.on_command(
            t0,
            &CallCommand::Answer {
                headers: Default::default(),
            },
        );
        let at = leg.next_timeout().expect("ACK scheduled");
        assert_eq!(at, t0 + ANSWER_DELAY);
        assert_eq!(events(&leg.on_timeout(at)), ["Call.Connected"]);
        at
    }

    #[test]
    fn say_finishes_after_the_estimated_speech_time() {
        let t0 = Instant::now();
        let mut leg = SimLeg::new("c", CallerScript::default(), MediaRoot::default(), t0);
        let t1 = answer(&mut leg, t0);
        let out = leg.on_command(
            t1,
            &CallCommand::Say {
                text: "one two three".into(),
                voice: None,
            },
        );
        assert_eq!(
            out,
            [
                LegOutput::Event(CallEvent::PlaybackReady),
                LegOutput::Event(CallEvent::PlaybackStarted {
                    duration: Some(1390)
                })
            ]
        );
        assert!(leg.on_timeout(t1 + Duration::from_millis(1389)).is_empty());
        assert_eq!(
            events(&leg.on_timeout(t1 + Duration::from_millis(1390))),
            ["Call.PlaybackFinished"]
        );
    }

    #[test]
    fn a_new_playback_replaces_the_old_one_without_finishing_it() {
        let t0 = Instant::now();
        let mut leg = SimLeg::new("c", CallerScript::default(), MediaRoot::default(), t0);
        leg.on_command(
            t0,
            &CallCommand::Say {
                text: "a b c d e f".into(),
                voice: None,
            },
        );
        leg.on_command(
            t0,
            &CallCommand::Say {
                text: "x".into(),
                voice: None,
            },
        );
        let out = leg.on_timeout(t0 + Duration::from_secs(10));
        assert_eq!(
            events(&out),
            ["Call.PlaybackFinished"],
            "only the second one finishes"
        );
    }

    #[test]
    fn missing_file_finishes_with_an_error() {
        let t0 = Instant::now();
        let mut leg = SimLeg::new("c", CallerScript::default(), MediaRoot::default(), t0);
        let out = leg.on_command(
            t0,
            &CallCommand::StartPlayback {
                url: "/nonexistent.wav".into(),
                looped: false,
            },
        );
        match &out[..] {
            [LegOutput::Event(CallEvent::PlaybackFinished { error: Some(e) })] => {
                assert!(e.starts_with("cannot read '/nonexistent.wav'"), "{e}")
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn digits_are_reported_only_with_handle_tones() {
        let t0 = Instant::now();
        let script = CallerScript {
            hangup_after: None,
            dtmf: "1,#".into(),
            audio: None,
        };
        let mut leg = SimLeg::new("c", script, MediaRoot::default(), t0);
        let t1 = answer(&mut leg, t0);
        leg.on_command(t1, &CallCommand::HandleTones { enabled: true });
        let first = leg.on_timeout(t1 + FIRST_DIGIT_DELAY);
        assert_eq!(
            first,
            [LegOutput::Event(CallEvent::ToneReceived {
                tone: "1".into(),
                tone_type: "1".into()
            })]
        );
        leg.on_command(t1, &CallCommand::HandleTones { enabled: false });
        let second = leg.on_timeout(t1 + FIRST_DIGIT_DELAY + DIGIT_GAP + DIGIT_PAUSE);
        assert_eq!(
            second,
            [LegOutput::Note(
                "caller pressed # (not reported: handleTones is off)".into()
            )]
        );
    }

    #[test]
    fn caller_hangup_before_and_after_answer() {
        let t0 = Instant::now();
        let script = CallerScript {
            hangup_after: Some(Duration::from_secs(5)),
            dtmf: String::new(),
            audio: None,
        };
        let mut leg = SimLeg::new("c", script.clone(), MediaRoot::default(), t0);
        let out = leg.on_timeout(t0 + Duration::from_secs(5));
        assert!(
            matches!(out.last(), Some(LegOutput::Event(CallEvent::Disconnected { reason, duration: 0, .. })) if reason == "caller cancelled")
        );
        assert!(leg.is_ended());

        let mut leg = SimLeg::new("c", script, MediaRoot::default(), t0);
        let t1 = answer(&mut leg, t0);
        leg.on_command(t1, &CallCommand::Record { stereo: false });
        let out = leg.on_timeout(t0 + Duration::from_secs(5));
        assert_eq!(events(&out), ["Call.RecordStopped", "Call.Disconnected"]);
        assert!(matches!(
            &out[2],
            LegOutput::Event(CallEvent::Disconnected { duration: 4, .. })
        ));
    }
}
