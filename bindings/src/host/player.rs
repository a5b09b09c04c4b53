//! Player and recorder units in the host interface: what a scenario asks of them and what they
//! report (`PlayerEvents`, `SequencePlayerEvents`, `RecorderEvents`).

use serde::{Deserialize, Serialize};

use super::unit::UnitId;

/// A player the scenario created (`createTTSPlayer`, `createURLPlayer`,
/// `createToneScriptPlayer`, `createSequencePlayer`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlayerSpec {
    /// The unit id the session gave it.
    pub id: UnitId,
    /// What it plays, in order (one segment except for a sequence player).
    pub segments: Vec<PlayerSegment>,
    /// Start again from the beginning at the end, until stopped.
    #[serde(default, rename = "loop")]
    pub looped: bool,
    /// Load, then wait for `resume()` before playing (`onPause: true`).
    #[serde(default)]
    pub on_pause: bool,
    /// A `SequencePlayer`: its events are `SequencePlayer.*`.
    #[serde(default)]
    pub sequence: bool,
}

/// One thing a player plays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum PlayerSegment {
    /// Speech.
    Tts {
        /// The text.
        text: String,
        /// The voice: a locale such as `en-US` with an optional `+female`/`+male`, or an
        /// espeak-ng voice name; the host's default when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        voice: Option<String>,
    },
    /// A file path or an http(s) URL.
    Url {
        /// Where the audio is.
        url: String,
    },
    /// A ToneScript (`440@-19;1(.5/.5/1)`).
    ToneScript {
        /// The script.
        script: String,
    },
}

/// What a scenario tells a player.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase", deny_unknown_fields)]
pub enum PlayerAction {
    /// Hold the position.
    Pause,
    /// Play on (or start, after `onPause`).
    Resume,
    /// Stop and destroy the player; `Stopped` follows.
    Stop,
    /// Report `PlaybackMarkerReached` at this offset: from the start when positive, from the
    /// end when negative (milliseconds).
    AddMarker {
        /// Milliseconds.
        offset: i64,
    },
}

/// What a player reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "camelCase")]
#[non_exhaustive]
pub enum PlayerEvent {
    /// The audio is loaded (or synthesized).
    PlaybackReady,
    /// Playback started (or resumed after `onPause`).
    Started {
        /// Length in milliseconds.
        duration: u64,
    },
    /// Playback reached its end, or could not happen (`error`).
    PlaybackFinished {
        /// Why nothing (or not all) could be played.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// `stop()` took effect.
    Stopped,
    /// A marker was reached.
    PlaybackMarkerReached {
        /// The marker's offset as given.
        offset: i64,
    },
}

impl PlayerEvent {
    /// The event's name after the `Player.` / `SequencePlayer.` prefix.
    pub fn short_name(&self) -> &'static str {
        match self {
            PlayerEvent::PlaybackReady => "PlaybackReady",
            PlayerEvent::Started { .. } => "Started",
            PlayerEvent::PlaybackFinished { .. } => "PlaybackFinished",
            PlayerEvent::Stopped => "Stopped",
            PlayerEvent::PlaybackMarkerReached { .. } => "PlaybackMarkerReached",
        }
    }

    /// The event's fields without the tag.
    pub fn fields(&self) -> serde_json::Value {
        super::untagged_fields(self)
    }
}

/// A recorder the scenario created (`VoxEngine.createRecorder`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecorderSpec {
    /// The unit id the session gave it.
    pub id: UnitId,
    /// A name for the file (`name` parameter), sanitized by the host.
    #[serde(default)]
    pub name: String,
}

/// What a scenario tells a recorder.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase", deny_unknown_fields)]
pub enum RecorderAction {
    /// Record silence instead of the input (true) or the input again (false).
    Mute {
        /// On or off.
        mute: bool,
    },
    /// Close the file; `Stopped` follows.
    Stop,
}

/// What a recorder reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "camelCase")]
#[non_exhaustive]
pub enum RecorderEvent {
    /// Recording started; `url` is where the file is.
    Started {
        /// A `file://` URL.
        url: String,
    },
    /// The file is complete.
    Stopped {
        /// Always "0": recording costs nothing here.
        cost: String,
        /// Seconds recorded.
        duration: u64,
    },
    /// The file could not be written.
    RecorderError {
        /// Why.
        error: String,
    },
}

impl RecorderEvent {
    /// The VoxEngine event value, e.g. `Recorder.Started`.
    pub fn name(&self) -> &'static str {
        match self {
            RecorderEvent::Started { .. } => "Recorder.Started",
            RecorderEvent::Stopped { .. } => "Recorder.Stopped",
            RecorderEvent::RecorderError { .. } => "Recorder.Error",
        }
    }

    /// The event's fields without the tag.
    pub fn fields(&self) -> serde_json::Value {
        super::untagged_fields(self)
    }
}
