//! Text-to-speech behind a trait, so a cloud TTS can replace the local one. The local one is
//! espeak-ng, run as a child process per utterance.

use std::future::Future;
use std::pin::Pin;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;

use super::MediaError;
use super::convert::wav_to_ulaw;

/// Longest text one `say` may speak (VoxEngine caps TTS text similarly).
pub const MAX_TEXT_CHARS: usize = 5000;
/// How long one synthesis may take.
const SYNTHESIS_TIMEOUT: Duration = Duration::from_secs(20);

/// A future returned by [`Tts::synthesize`].
pub type TtsFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, MediaError>> + Send + 'a>>;

/// A speech synthesizer producing 8 kHz μ-law audio.
pub trait Tts: Send + Sync + std::fmt::Debug {
    /// Speaks `text` with `voice` (engine-specific name; `None` for the default).
    fn synthesize<'a>(&'a self, text: &'a str, voice: Option<&'a str>) -> TtsFuture<'a>;
}

/// espeak-ng (Debian package `espeak-ng`): text on stdin, WAV on stdout.
#[derive(Debug, Clone)]
pub struct Espeak {
    /// The program to run.
    pub program: String,
    /// Voice when the scenario names none.
    pub default_voice: String,
}

impl Default for Espeak {
    fn default() -> Self {
        Self {
            program: "espeak-ng".into(),
            default_voice: "en-us".into(),
        }
    }
}

/// Whether `voice` is a plain espeak voice name (never an option or a path).
fn valid_voice(voice: &str) -> bool {
    !voice.is_empty()
        && voice.len() <= 64
        && !voice.starts_with('-')
        && voice
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+'))
}

impl Tts for Espeak {
    fn synthesize<'a>(&'a self, text: &'a str, voice: Option<&'a str>) -> TtsFuture<'a> {
        Box::pin(async move {
            if text.chars().count() > MAX_TEXT_CHARS {
                return Err(MediaError::Tts(format!(
                    "text longer than {MAX_TEXT_CHARS} characters"
                )));
            }
            let voice = voice.unwrap_or(&self.default_voice);
            if !valid_voice(voice) {
                return Err(MediaError::Tts(format!("invalid voice name '{voice}'")));
            }
            // A clean environment: the host's secrets (DIALTONE_MASTER_KEY ...) stay here.
            let mut child = dialtone_bindings::child::clean_command(&self.program)
                .args(["--stdout", "-v", voice])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| MediaError::Tts(format!("cannot run {}: {e}", self.program)))?;
            if let Some(mut stdin) = child.stdin.take() {
                stdin
                    .write_all(text.as_bytes())
                    .await
                    .map_err(|e| MediaError::Tts(format!("writing to {}: {e}", self.program)))?;
            }
            let output = tokio::time::timeout(SYNTHESIS_TIMEOUT, child.wait_with_output())
                .await
                .map_err(|_| MediaError::Tts(format!("{} timed out", self.program)))?
                .map_err(|e| MediaError::Tts(format!("{}: {e}", self.program)))?;
            if !output.status.success() {
                let stderr = String::from_utf8_lossy(&output.stderr);
                return Err(MediaError::Tts(format!(
                    "{} failed ({}): {}",
                    self.program,
                    output.status,
                    stderr.trim()
                )));
            }
            // Resampling runs on the blocking pool, off the runtime that paces RTP.
            let program = self.program.clone();
            tokio::task::spawn_blocking(move || {
                wav_to_ulaw(&output.stdout).map_err(|reason| {
                    MediaError::Tts(format!("{program} produced no usable WAV: {reason}"))
                })
            })
            .await
            .map_err(|e| MediaError::Tts(format!("converting speech stopped: {e}")))?
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voice_names_cannot_smuggle_options() {
        assert!(valid_voice("en-us"));
        assert!(valid_voice("en+f3"));
        assert!(!valid_voice("--help"));
        assert!(!valid_voice("../../etc/passwd"));
        assert!(!valid_voice(""));
    }

    #[tokio::test]
    async fn a_missing_program_is_a_clear_error() {
        let tts = Espeak {
            program: "/nonexistent/espeak-ng".into(),
            ..Espeak::default()
        };
        let error = tts.synthesize("hi", None).await.expect_err("no program");
        assert!(
            error
                .to_string()
                .contains("cannot run /nonexistent/espeak-ng")
        );
    }
}
