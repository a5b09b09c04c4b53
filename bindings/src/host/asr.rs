//! Speech recognition units (`VoxEngine.createASR`): what the scenario asks of one and what
//! it reports (`ASREvents`). The host runs the recognizer; audio reaches it by links
//! (`call.sendMediaTo(asr)`), as for a recorder.

use serde::{Deserialize, Serialize};

use super::unit::UnitId;

/// A recognizer the scenario created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AsrSpec {
    /// The unit id the session gave it.
    pub id: UnitId,
    /// The language asked for (a BCP-47 tag such as `en-US`), from `profile`, `lang` or
    /// `language`; the host says when it recognizes another.
    #[serde(default)]
    pub language: Option<String>,
    /// Phrases to expect (`phraseHints`): when given, only those are recognized.
    #[serde(default)]
    pub phrase_hints: Vec<String>,
    /// Report `InterimResult`s (`interimResults`).
    #[serde(default)]
    pub interim_results: bool,
    /// Stop after the first `Result` (`singleUtterance`).
    #[serde(default)]
    pub single_utterance: bool,
}

/// What a scenario tells a recognizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase", deny_unknown_fields)]
pub enum AsrAction {
    /// Stop recognizing; `Stopped` follows.
    Stop,
}

/// What a recognizer reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "camelCase")]
#[non_exhaustive]
pub enum AsrEvent {
    /// The recognizer is listening.
    Started,
    /// Speech began.
    CaptureStarted,
    /// Speech ended; its `Result` follows.
    SpeechCaptured,
    /// The guess so far (with `interimResults`).
    InterimResult {
        /// The words.
        text: String,
    },
    /// What was said.
    Result {
        /// The words.
        text: String,
        /// 0 to 1.
        confidence: f64,
    },
    /// The recognizer stopped.
    Stopped {
        /// Always "0": recognition costs nothing here.
        cost: String,
        /// Seconds it ran.
        duration: u64,
    },
    /// The recognizer failed or could not start.
    AsrError {
        /// Why.
        error: String,
    },
}

impl AsrEvent {
    /// The VoxEngine event value, e.g. `ASR.Result`.
    pub fn name(&self) -> &'static str {
        match self {
            AsrEvent::Started => "ASR.Started",
            AsrEvent::CaptureStarted => "ASR.CaptureStarted",
            AsrEvent::SpeechCaptured => "ASR.SpeechCaptured",
            AsrEvent::InterimResult { .. } => "ASR.InterimResult",
            AsrEvent::Result { .. } => "ASR.Result",
            AsrEvent::Stopped { .. } => "ASR.Stopped",
            AsrEvent::AsrError { .. } => "ASR.Error",
        }
    }

    /// The event's fields without the tag.
    pub fn fields(&self) -> serde_json::Value {
        super::untagged_fields(self)
    }
}
