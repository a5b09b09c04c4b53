//! Media: audio files and their formats, G.711, conversion to 8 kHz μ-law, RTP, and the
//! per-call paced RTP stream with playback, DTMF and recording.

pub mod asr_unit;
pub mod compressed;
pub mod conference;
pub mod convert;
pub mod frame_clock;
pub mod g711;
pub mod graph;
pub mod pacing;
pub mod player;
#[cfg(test)]
mod properties;
pub mod recorder;
pub mod recorder_unit;
pub mod resample;
pub mod rtcp;
pub mod rtp;
pub mod session;
pub mod source;
pub mod speech_cache;
pub mod stream;
pub mod tonescript;
pub mod tts;
pub mod voices;
pub mod wav;
pub mod websocket;
pub mod wire;

use std::path::Path;
use std::time::Duration;

use thiserror::Error;

/// Media errors: each says which file and what is wrong with it.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The file could not be read.
    #[error("cannot read '{path}': {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a WAV file this reader understands.
    #[error("'{path}' is not a playable WAV file: {reason}")]
    BadWav {
        /// The file.
        path: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The file extension names no supported format.
    #[error("'{path}': unsupported audio format (use .wav, .mp3, .ogg, .flac, .ulaw or .alaw)")]
    Unsupported {
        /// The file.
        path: String,
    },
    /// An http(s) URL could not be fetched.
    #[error("cannot fetch '{url}': {reason}")]
    Fetch {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// Speech synthesis failed.
    #[error("text-to-speech failed: {0}")]
    Tts(String),
    /// A recording could not be written.
    #[error("cannot write recording '{path}': {source}")]
    Record {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file outside what the application may play (another application's recordings,
    /// `/dev/*`, anything outside the media directory).
    #[error(
        "'{path}' is outside the application's media directory (the config's directory and the application's own recordings)"
    )]
    Forbidden {
        /// The path as the scenario gave it.
        path: String,
    },
    /// The file is larger than a prompt may be.
    #[error("'{path}' is larger than {max_mib} MiB")]
    TooLarge {
        /// The path or URL.
        path: String,
        /// The cap.
        max_mib: usize,
    },
    /// A compressed file (MP3, Ogg, FLAC) could not be decoded.
    #[error("'{path}': {reason}")]
    Decode {
        /// The path or URL.
        path: String,
        /// What is wrong, e.g. "it plays longer than 35 minutes".
        reason: String,
    },
    /// Audio could not be converted to another sample rate.
    #[error("{0}")]
    Resample(String),
    /// A URL was given where only local files are played.
    #[error("'{url}': the console plays local files only")]
    RemoteUrl {
        /// The URL.
        url: String,
    },
}

/// A `file://` URL for a local file (recordings are reported so).
pub fn file_url(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    format!("file://{}", absolute.display())
}

/// How long a local audio file plays.
pub fn file_duration(path: &str) -> Result<Duration, MediaError> {
    if path.starts_with("http://") || path.starts_with("https://") {
        return Err(MediaError::RemoteUrl { url: path.into() });
    }
    let local = path.strip_prefix("file://").unwrap_or(path);
    let extension = Path::new(local)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let read = |p: &str| {
        std::fs::read(p).map_err(|source| MediaError::Read {
            path: p.into(),
            source,
        })
    };
    match extension.as_deref() {
        Some("wav") => {
            let info = wav::WavInfo::parse(&read(local)?).map_err(|reason| MediaError::BadWav {
                path: local.into(),
                reason,
            })?;
            Ok(info.duration())
        }
        Some(extension) if compressed::handles(extension) => {
            let bytes = read(local)?;
            let samples = compressed::decode_to_8k(bytes, extension).map_err(|reason| {
                MediaError::Decode {
                    path: local.into(),
                    reason,
                }
            })?;
            Ok(Duration::from_millis(samples.len() as u64 / 8))
        }
        // Raw G.711 at 8 kHz: one byte per sample.
        Some("ulaw" | "pcmu" | "alaw" | "pcma") => {
            let bytes = std::fs::metadata(local)
                .map_err(|source| MediaError::Read {
                    path: local.into(),
                    source,
                })?
                .len();
            Ok(Duration::from_millis(bytes / 8))
        }
        _ => Err(MediaError::Unsupported { path: local.into() }),
    }
}

/// Estimated length of `text` spoken by a TTS at about 165 words per minute.
pub fn speech_duration(text: &str) -> Duration {
    let words = text.split_whitespace().count() as u64;
    Duration::from_millis(300 + words * 60_000 / 165)
}
