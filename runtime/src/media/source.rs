//! Where playback audio comes from: local WAV / raw G.711 files, http(s) URLs (fetched once and
//! cached), and text through the [`Tts`]. Everything becomes 8 kHz μ-law.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::convert::wav_to_ulaw;
use super::tts::Tts;
use super::voices::VoiceTable;
use super::{MediaError, g711};

/// Largest file or download played (about 35 minutes of μ-law at 8 kHz).
const MAX_MEDIA_BYTES: usize = 16 << 20;
/// Most URLs kept in the cache; the oldest half is dropped when it is full.
const CACHE_ENTRIES: usize = 64;
/// Timeout of one download.
const FETCH_TIMEOUT: Duration = Duration::from_secs(15);

/// μ-law audio shared between calls.
pub type Audio = Arc<[u8]>;

/// Loads playback audio for every call of a server.
#[derive(Debug)]
pub struct MediaSource {
    root: PathBuf,
    http: reqwest::Client,
    cache: Mutex<HashMap<String, Audio>>,
    tts: Arc<dyn Tts>,
    voices: VoiceTable,
}

impl MediaSource {
    /// Relative paths resolve against `root`; voices resolve with the built-in table.
    pub fn new(root: PathBuf, tts: Arc<dyn Tts>) -> Self {
        Self::with_voices(root, tts, VoiceTable::default())
    }

    /// [`MediaSource::new`] with a voice table (the config's `[voices]` over the built-in one).
    pub fn with_voices(root: PathBuf, tts: Arc<dyn Tts>, voices: VoiceTable) -> Self {
        // reqwest is built without a default TLS provider; ring is the one in the tree.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .unwrap_or_default();
        Self {
            root,
            http,
            cache: Mutex::new(HashMap::new()),
            tts,
            voices,
        }
    }

    /// Speaks `text` with the scenario's `voice` (a locale, or an espeak-ng voice name);
    /// also returns a warning when the voice was unknown and another one spoke.
    pub async fn speech(
        &self,
        text: &str,
        voice: Option<&str>,
    ) -> Result<(Audio, Option<String>), MediaError> {
        let resolved = self.voices.resolve(voice);
        let audio = self.tts.synthesize(text, resolved.voice.as_deref()).await?;
        Ok((audio.into(), resolved.warning))
    }

    /// Loads a path or URL.
    pub async fn load(&self, url: &str) -> Result<Audio, MediaError> {
        if url.starts_with("http://") || url.starts_with("https://") {
            return self.fetch(url).await;
        }
        let local = url.strip_prefix("file://").unwrap_or(url);
        let path = if Path::new(local).is_relative() {
            self.root.join(local)
        } else {
            PathBuf::from(local)
        };
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|source| MediaError::Read {
                path: url.into(),
                source,
            })?;
        if bytes.len() > MAX_MEDIA_BYTES {
            return Err(MediaError::Fetch {
                url: url.into(),
                reason: format!("larger than {} MiB", MAX_MEDIA_BYTES >> 20),
            });
        }
        decode(url, &extension(local), &bytes)
    }

    async fn fetch(&self, url: &str) -> Result<Audio, MediaError> {
        if let Some(audio) = self.lock().get(url) {
            return Ok(audio.clone());
        }
        let fail = |reason: String| MediaError::Fetch {
            url: url.into(),
            reason,
        };
        let mut response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if !response.status().is_success() {
            return Err(fail(format!("HTTP {}", response.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| fail(e.to_string()))? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_MEDIA_BYTES {
                return Err(fail(format!("larger than {} MiB", MAX_MEDIA_BYTES >> 20)));
            }
        }
        let path = url.split(['?', '#']).next().unwrap_or(url);
        let audio = decode(url, &extension(path), &body)?;
        let mut cache = self.lock();
        if cache.len() >= CACHE_ENTRIES {
            let drop: Vec<String> = cache.keys().take(CACHE_ENTRIES / 2).cloned().collect();
            for key in drop {
                cache.remove(&key);
            }
        }
        cache.insert(url.to_owned(), audio.clone());
        Ok(audio)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Audio>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn extension(path: &str) -> String {
    Path::new(path)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Turns file bytes into μ-law by content (a RIFF header) or else by extension.
fn decode(url: &str, extension: &str, bytes: &[u8]) -> Result<Audio, MediaError> {
    if bytes.starts_with(b"RIFF") || extension == "wav" {
        return wav_to_ulaw(bytes)
            .map(Audio::from)
            .map_err(|reason| MediaError::BadWav {
                path: url.into(),
                reason,
            });
    }
    match extension {
        "ulaw" | "pcmu" | "ul" | "mulaw" => Ok(bytes.into()),
        "alaw" | "pcma" | "al" => Ok(bytes
            .iter()
            .map(|&b| g711::encode(g711::decode_alaw(b)))
            .collect()),
        _ => Err(MediaError::Unsupported { path: url.into() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::tts::Espeak;
    use crate::media::wav;

    fn source(root: &Path) -> MediaSource {
        MediaSource::new(root.to_path_buf(), Arc::new(Espeak::default()))
    }

    #[tokio::test]
    async fn local_files_by_format() {
        let dir = std::env::temp_dir().join(format!("dialtone-source-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("a.ulaw"), [0xffu8; 800]).expect("write");
        let pcm: Vec<u8> = [0u8, 16].repeat(16_000); // 1 s of 16 kHz 16-bit
        std::fs::write(dir.join("b.wav"), wav::encode(1, 1, 16_000, 16, &pcm)).expect("write");
        std::fs::write(dir.join("c.mp3"), b"ID3").expect("write");
        let source = source(&dir);
        assert_eq!(source.load("a.ulaw").await.expect("ulaw").len(), 800);
        assert_eq!(source.load("b.wav").await.expect("wav").len(), 8000);
        let error = source.load("c.mp3").await.expect_err("mp3");
        assert!(
            error.to_string().contains("unsupported audio format"),
            "{error}"
        );
        let error = source.load("missing.wav").await.expect_err("missing");
        assert!(
            error.to_string().starts_with("cannot read 'missing.wav'"),
            "{error}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
