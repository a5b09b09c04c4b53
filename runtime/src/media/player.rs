//! Player units (`createTTSPlayer`, `createURLPlayer`, `createToneScriptPlayer`,
//! `createSequencePlayer`): one task per player that loads its segments off the I/O path,
//! then plays them out on its own 20 ms clock to whatever the scenario linked it to, with
//! pause, resume, markers and stop. [`Playout`] is the sans-IO part: ticks in, frames and
//! events out.

use std::sync::Arc;
use std::time::Duration;

use dialtone_bindings::host::{
    HostEvent, HostEventSender, PlayerAction, PlayerEvent, PlayerSegment, PlayerSpec,
};
use dialtone_bindings::outbound::OutboundPolicy;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::g711;
use super::graph::{FRAME_SAMPLES, Frame, Ports, SILENT_FRAME};
use super::source::{Audio, MediaSource};
use super::tonescript;

/// Most segments a sequence player takes.
pub const MAX_SEGMENTS: usize = 50;
/// Most audio one player holds, all segments together (about 35 minutes).
const MAX_PLAYER_BYTES: usize = 16 << 20;
/// Longest text a TTS player speaks (VoxEngine's cap).
const MAX_TTS_CHARS: usize = 1500;
/// Samples per millisecond.
const PER_MS: usize = 8;

/// What a player plays: μ-law audio, and where the part that repeats forever starts.
#[derive(Debug, Clone)]
pub struct Track {
    /// 8 kHz μ-law.
    pub audio: Audio,
    /// The tail from this sample on repeats until the player stops (a ToneScript `*`).
    pub forever_from: Option<usize>,
}

impl Track {
    /// Length in milliseconds (the repeating part counted once).
    pub fn duration_ms(&self) -> u64 {
        (self.audio.len() / PER_MS) as u64
    }
}

/// The sans-IO playback of one loaded track.
#[derive(Debug)]
pub struct Playout {
    track: Track,
    looped: bool,
    position: usize,
    paused: bool,
    started: bool,
    finished: bool,
    /// (offset as given, sample position, reached)
    markers: Vec<(i64, usize, bool)>,
}

impl Playout {
    /// A playout of `track`, paused until [`Playout::resume`] when `on_pause`.
    pub fn new(track: Track, looped: bool, on_pause: bool) -> Self {
        Self {
            track,
            looped,
            position: 0,
            paused: on_pause,
            started: false,
            finished: false,
            markers: Vec::new(),
        }
    }

    /// `PlaybackReady`, then `Started` unless paused.
    pub fn begin(&mut self) -> Vec<PlayerEvent> {
        let mut events = vec![PlayerEvent::PlaybackReady];
        if !self.paused {
            events.push(self.start());
        }
        events
    }

    fn start(&mut self) -> PlayerEvent {
        self.started = true;
        PlayerEvent::Started {
            duration: self.track.duration_ms(),
        }
    }

    /// Whether a tick would play something.
    pub fn is_playing(&self) -> bool {
        !self.paused && !self.finished
    }

    /// Holds the position.
    pub fn pause(&mut self) {
        self.paused = true;
    }

    /// Plays on; the first resume after `onPause` reports `Started`.
    pub fn resume(&mut self) -> Option<PlayerEvent> {
        if !self.paused || self.finished {
            return None;
        }
        self.paused = false;
        (!self.started).then(|| self.start())
    }

    /// A marker `offset` ms from the start (or from the end, when negative).
    pub fn add_marker(&mut self, offset: i64) {
        let length = self.track.audio.len() as i64;
        let at = if offset >= 0 {
            offset.saturating_mul(PER_MS as i64)
        } else {
            length.saturating_add(offset.saturating_mul(PER_MS as i64))
        };
        let at = at.clamp(0, length) as usize;
        self.markers.push((offset, at, at < self.position));
    }

    /// One 20 ms tick: the frame to play (if playing) and what happened.
    pub fn tick(&mut self) -> (Option<Frame>, Vec<PlayerEvent>) {
        let mut events = Vec::new();
        if !self.is_playing() {
            return (None, events);
        }
        let audio = &self.track.audio;
        let mut frame = SILENT_FRAME;
        let mut filled = 0;
        while filled < FRAME_SAMPLES {
            if self.position >= audio.len() {
                match (self.track.forever_from, self.looped) {
                    (Some(from), _) if from < audio.len() => self.position = from,
                    (_, true) if !audio.is_empty() => self.position = 0,
                    _ => break,
                }
            }
            let take = (FRAME_SAMPLES - filled).min(audio.len() - self.position);
            for (out, &code) in frame[filled..filled + take]
                .iter_mut()
                .zip(&audio[self.position..self.position + take])
            {
                *out = g711::decode(code);
            }
            filled += take;
            self.position += take;
            for (offset, at, reached) in &mut self.markers {
                if !*reached && *at <= self.position {
                    *reached = true;
                    events.push(PlayerEvent::PlaybackMarkerReached { offset: *offset });
                }
            }
            if self.position >= audio.len() && self.looped {
                // Markers fire again on every pass of a looped player.
                for marker in &mut self.markers {
                    marker.2 = false;
                }
            }
        }
        let ended =
            self.position >= audio.len() && self.track.forever_from.is_none() && !self.looped;
        if ended {
            self.finished = true;
            events.push(PlayerEvent::PlaybackFinished { error: None });
        }
        ((filled > 0).then_some(frame), events)
    }
}

/// The session host's handle on a player's task; dropping it ends the task quietly.
#[derive(Debug)]
pub struct PlayerHandle {
    commands: mpsc::UnboundedSender<PlayerAction>,
}

impl PlayerHandle {
    /// Passes on `pause`, `resume`, `stop` or `addMarker`.
    pub fn control(&self, action: PlayerAction) {
        let _ = self.commands.send(action);
    }
}

/// Starts a player's task: it loads, reports, and plays into `ports.outlet`.
pub fn spawn(
    spec: PlayerSpec,
    ports: Ports,
    events: HostEventSender,
    source: Arc<MediaSource>,
    outbound: Arc<OutboundPolicy>,
) -> PlayerHandle {
    let (commands, rx) = mpsc::unbounded_channel();
    tokio::spawn(run(spec, ports, events, source, outbound, rx));
    PlayerHandle { commands }
}

async fn run(
    spec: PlayerSpec,
    ports: Ports,
    events: HostEventSender,
    source: Arc<MediaSource>,
    outbound: Arc<OutboundPolicy>,
    mut commands: mpsc::UnboundedReceiver<PlayerAction>,
) {
    let report = |event: PlayerEvent| {
        let _ = events.send(HostEvent::Player {
            id: spec.id.clone(),
            event,
        });
    };
    let warn = |text: String| {
        let _ = events.send(HostEvent::Warning { text });
    };
    // Commands that arrive while loading are kept and applied once the track is there.
    let mut early = Vec::new();
    let loading = load(&spec.segments, &source, &outbound, &warn);
    tokio::pin!(loading);
    let track = loop {
        tokio::select! {
            loaded = &mut loading => break loaded,
            command = commands.recv() => match command {
                Some(PlayerAction::Stop) => {
                    report(PlayerEvent::Stopped);
                    return;
                }
                Some(other) => early.push(other),
                None => return,
            },
        }
    };
    let track = match track {
        Ok(track) => track,
        Err(error) => {
            report(PlayerEvent::PlaybackFinished { error: Some(error) });
            return;
        }
    };
    let mut playout = Playout::new(track, spec.looped, spec.on_pause);
    for event in playout.begin() {
        report(event);
    }
    let mut clock = tokio::time::interval(Duration::from_millis(20));
    clock.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut pending = early.into_iter();
    loop {
        let command = match pending.next() {
            Some(command) => Some(command),
            None => {
                tokio::select! {
                    command = commands.recv() => match command {
                        Some(command) => Some(command),
                        None => return,
                    },
                    _ = clock.tick(), if playout.is_playing() => None,
                }
            }
        };
        match command {
            Some(PlayerAction::Pause) => playout.pause(),
            Some(PlayerAction::Resume) => {
                if let Some(event) = playout.resume() {
                    report(event);
                }
                clock.reset();
            }
            Some(PlayerAction::AddMarker { offset }) => playout.add_marker(offset),
            Some(PlayerAction::Stop) => {
                report(PlayerEvent::Stopped);
                return;
            }
            None => {
                let (frame, happened) = playout.tick();
                if let Some(frame) = frame {
                    ports.outlet.push_frame("", &frame);
                }
                for event in happened {
                    report(event);
                }
            }
        }
    }
}

/// Loads every segment, in order, into one track.
async fn load(
    segments: &[PlayerSegment],
    source: &MediaSource,
    outbound: &OutboundPolicy,
    warn: &impl Fn(String),
) -> Result<Track, String> {
    if segments.is_empty() || segments.len() > MAX_SEGMENTS {
        return Err(format!("a player plays 1 to {MAX_SEGMENTS} segments"));
    }
    let mut audio: Vec<u8> = Vec::new();
    let mut forever_from = None;
    for (index, segment) in segments.iter().enumerate() {
        if forever_from.is_some() {
            return Err(format!(
                "segment {} follows a tone that repeats forever and would never play",
                index + 1
            ));
        }
        match segment {
            PlayerSegment::Tts { text, voice } => {
                if text.chars().count() > MAX_TTS_CHARS {
                    return Err(format!(
                        "the text to speak is longer than {MAX_TTS_CHARS} characters"
                    ));
                }
                let (speech, warning) = source
                    .speech(text, voice.as_deref())
                    .await
                    .map_err(|e| e.to_string())?;
                if let Some(warning) = warning {
                    warn(warning);
                }
                audio.extend_from_slice(&speech);
            }
            PlayerSegment::Url { url } => {
                let loaded = source
                    .load(url, outbound)
                    .await
                    .map_err(|e| e.to_string())?;
                audio.extend_from_slice(&loaded);
            }
            PlayerSegment::ToneScript { script } => {
                let rendered = tonescript::render(script).map_err(|e| e.to_string())?;
                audio.extend(rendered.once.iter().map(|&s| g711::encode(s)));
                if let Some(forever) = rendered.forever {
                    forever_from = Some(audio.len());
                    audio.extend(forever.iter().map(|&s| g711::encode(s)));
                }
            }
        }
        if audio.len() > MAX_PLAYER_BYTES {
            return Err(format!(
                "the player's audio is longer than {} minutes",
                MAX_PLAYER_BYTES / 8_000 / 60
            ));
        }
    }
    Ok(Track {
        audio: audio.into(),
        forever_from,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(ms: usize) -> Track {
        Track {
            audio: vec![0x80u8; ms * PER_MS].into(),
            forever_from: None,
        }
    }

    fn run_ticks(playout: &mut Playout, ticks: usize) -> Vec<PlayerEvent> {
        (0..ticks).flat_map(|_| playout.tick().1).collect()
    }

    #[test]
    fn plays_to_the_end_with_markers_from_either_end() {
        let mut playout = Playout::new(track(100), false, false);
        assert_eq!(
            playout.begin(),
            [
                PlayerEvent::PlaybackReady,
                PlayerEvent::Started { duration: 100 }
            ]
        );
        playout.add_marker(30);
        playout.add_marker(-20);
        let events = run_ticks(&mut playout, 10);
        assert_eq!(
            events,
            [
                PlayerEvent::PlaybackMarkerReached { offset: 30 },
                PlayerEvent::PlaybackMarkerReached { offset: -20 },
                PlayerEvent::PlaybackFinished { error: None },
            ]
        );
        assert!(!playout.is_playing());
        assert_eq!(playout.tick(), (None, vec![]));
    }

    #[test]
    fn on_pause_waits_for_resume_which_reports_started_once() {
        let mut playout = Playout::new(track(40), false, true);
        assert_eq!(playout.begin(), [PlayerEvent::PlaybackReady]);
        assert_eq!(playout.tick(), (None, vec![]));
        assert_eq!(
            playout.resume(),
            Some(PlayerEvent::Started { duration: 40 })
        );
        playout.pause();
        assert_eq!(playout.resume(), None, "Started fires once");
        let events = run_ticks(&mut playout, 2);
        assert_eq!(events, [PlayerEvent::PlaybackFinished { error: None }]);
    }

    #[test]
    fn a_forever_tail_and_a_looped_player_never_finish() {
        let mut tones = Playout::new(
            Track {
                audio: vec![0x80u8; 320].into(),
                forever_from: Some(160),
            },
            false,
            false,
        );
        assert!(run_ticks(&mut tones, 100).is_empty());
        assert!(tones.tick().0.is_some());
        let mut looped = Playout::new(track(20), true, false);
        looped.add_marker(10);
        let events = run_ticks(&mut looped, 3);
        assert_eq!(events.len(), 3, "the marker on every pass: {events:?}");
    }
}
