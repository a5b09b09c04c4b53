//! Where playback audio comes from: local WAV / raw G.711 files, http(s) URLs (fetched once and
//! cached), and text through the [`Tts`]. Everything becomes 8 kHz μ-law.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dialtone_bindings::outbound::OutboundPolicy;
use tokio::io::AsyncReadExt as _;

use super::compressed;
use super::convert::wav_to_ulaw;
use super::speech_cache::SpeechCache;
use super::tts::Tts;
use super::voices::VoiceTable;
use super::{MediaError, g711};

/// Largest file or download played (about 35 minutes of μ-law at 8 kHz).
const MAX_MEDIA_BYTES: usize = 16 << 20;
/// Most URLs kept in the cache; the oldest half is dropped when it is full.
const CACHE_ENTRIES: usize = 64;
/// Timeout of one download.
const FETCH_TIMEOUT: Duration = Duration::from_secs(15);
/// HTTP clients kept (one per distinct outbound policy); past it they are built again.
const MAX_CLIENTS: usize = 64;

/// μ-law audio shared between calls.
pub type Audio = Arc<[u8]>;

/// Loads playback audio for every call of a server.
#[derive(Debug)]
pub struct MediaSource {
    root: PathBuf,
    /// One HTTP client per outbound policy.
    clients: Mutex<HashMap<OutboundPolicy, reqwest::Client>>,
    cache: Mutex<HashMap<String, Audio>>,
    tts: Arc<dyn Tts>,
    /// Speech already synthesized, by (voice, text).
    speech: SpeechCache,
    voices: VoiceTable,
    recordings: Option<PathBuf>,
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
        Self {
            root,
            clients: Mutex::new(HashMap::new()),
            cache: Mutex::new(HashMap::new()),
            tts,
            speech: SpeechCache::default(),
            voices,
            recordings: None,
        }
    }

    /// Speaks `text` with the scenario's `voice` (a locale, or an espeak-ng voice name);
    /// also returns a warning when the voice was unknown and another one spoke. A text said
    /// before in the same voice comes from the cache (one synthesis for every call).
    pub async fn speech(
        &self,
        text: &str,
        voice: Option<&str>,
    ) -> Result<(Audio, Option<String>), MediaError> {
        let resolved = self.voices.resolve(voice);
        let voice = resolved.voice.as_deref();
        let synthesize = async {
            let audio = self.tts.synthesize(text, voice).await?;
            Ok(Audio::from(audio))
        };
        let audio = self
            .speech
            .get_or_synthesize(voice, text, synthesize)
            .await?;
        Ok((audio, resolved.warning))
    }

    /// Where recordings are kept (`data_dir/recordings`): an application may play its own
    /// (`recordings/<application>/`), never another's.
    pub fn with_recordings(mut self, recordings: PathBuf) -> Self {
        self.recordings = Some(recordings);
        self
    }

    /// Loads a path or URL for the application of `outbound`. Local files must lie in the
    /// media directory or the application's recordings; URLs must pass its outbound policy;
    /// the size cap holds before anything is read.
    pub async fn load(&self, url: &str, outbound: &OutboundPolicy) -> Result<Audio, MediaError> {
        if url.starts_with("http://") || url.starts_with("https://") {
            return self.fetch(url, outbound).await;
        }
        let path = self.local_path(url, &outbound.application)?;
        let read = |source| MediaError::Read {
            path: url.into(),
            source,
        };
        let file = tokio::fs::File::open(&path).await.map_err(read)?;
        let mut bytes = Vec::new();
        // At most one byte over the cap is read, whatever the file claims to be.
        file.take(MAX_MEDIA_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .await
            .map_err(read)?;
        if bytes.len() > MAX_MEDIA_BYTES {
            return Err(MediaError::TooLarge {
                path: url.into(),
                max_mib: MAX_MEDIA_BYTES >> 20,
            });
        }
        let (url, extension) = (url.to_owned(), extension(&path.to_string_lossy()));
        decode_off_runtime(url, extension, bytes).await
    }

    /// The file `url` names, if `application` may play it.
    pub fn local_path(&self, url: &str, application: &str) -> Result<PathBuf, MediaError> {
        confine(&self.root, self.recordings.as_deref(), application, url)
    }

    async fn fetch(&self, url: &str, outbound: &OutboundPolicy) -> Result<Audio, MediaError> {
        let fail = |reason: String| MediaError::Fetch {
            url: url.into(),
            reason,
        };
        let parsed = url::Url::parse(url).map_err(|e| fail(e.to_string()))?;
        outbound
            .check_url(&parsed)
            .map_err(|e| fail(e.to_string()))?;
        // Cached per application: what one may fetch is not served to another.
        let key = format!("{}\n{url}", outbound.application);
        if let Some(audio) = self.lock().get(&key) {
            return Ok(audio.clone());
        }
        let mut response = self
            .client(outbound)?
            .get(url)
            .send()
            .await
            .map_err(|e| fail(request_failure(&e)))?;
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
        let audio = decode_off_runtime(url.to_owned(), extension(path), body).await?;
        let mut cache = self.lock();
        if cache.len() >= CACHE_ENTRIES {
            let drop: Vec<String> = cache.keys().take(CACHE_ENTRIES / 2).cloned().collect();
            for key in drop {
                cache.remove(&key);
            }
        }
        cache.insert(key, audio.clone());
        Ok(audio)
    }

    /// The HTTP client for `outbound` (one per distinct policy).
    fn client(&self, outbound: &OutboundPolicy) -> Result<reqwest::Client, MediaError> {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(client) = clients.get(outbound) {
            return Ok(client.clone());
        }
        let policy = Arc::new(outbound.clone());
        let client = policy
            .apply(reqwest::Client::builder())
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| MediaError::Fetch {
                url: String::new(),
                reason: format!("cannot build the HTTP client: {e}"),
            })?;
        if clients.len() >= MAX_CLIENTS {
            clients.clear();
        }
        clients.insert(outbound.clone(), client.clone());
        Ok(client)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Audio>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Why a request failed, in words: the outbound policy's own when it refused the host (by
/// name, or in a redirect), else the deepest cause reqwest reports.
fn request_failure(error: &reqwest::Error) -> String {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    let mut deepest = error.to_string();
    while let Some(e) = cause {
        if let Some(refused) = e.downcast_ref::<dialtone_bindings::outbound::OutboundError>() {
            return refused.to_string();
        }
        deepest = e.to_string();
        cause = e.source();
    }
    if deepest == error.to_string() {
        deepest
    } else {
        format!("{error}: {deepest}")
    }
}

/// Decodes (and resamples) on the blocking pool: the I/O runtime paces RTP.
async fn decode_off_runtime(
    url: String,
    extension: String,
    bytes: Vec<u8>,
) -> Result<Audio, MediaError> {
    let task = tokio::task::spawn_blocking(move || decode(&url, &extension, &bytes));
    task.await
        .map_err(|e| MediaError::Tts(format!("decoding stopped: {e}")))?
}

/// Where a scenario's local `url` points, if the application may play it: inside `root`
/// (not in the recordings of another application), or inside its own recordings.
pub fn confine(
    root: &Path,
    recordings: Option<&Path>,
    application: &str,
    url: &str,
) -> Result<PathBuf, MediaError> {
    let local = url.strip_prefix("file://").unwrap_or(url);
    // A scenario given as a bare file name has an empty directory: the current one.
    let root = if root.as_os_str().is_empty() {
        Path::new(".")
    } else {
        root
    };
    let path = if Path::new(local).is_relative() {
        root.join(local)
    } else {
        PathBuf::from(local)
    };
    let real = std::fs::canonicalize(&path).map_err(|source| MediaError::Read {
        path: url.into(),
        source,
    })?;
    let forbidden = || MediaError::Forbidden { path: url.into() };
    let within = |dir: &Path| {
        std::fs::canonicalize(dir)
            .map(|dir| real.starts_with(dir))
            .unwrap_or(false)
    };
    if let Some(recordings) = recordings
        && within(recordings)
    {
        return if within(&recordings.join(application)) {
            Ok(real)
        } else {
            Err(forbidden())
        };
    }
    if within(root) && real.is_file() {
        Ok(real)
    } else {
        Err(forbidden())
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
    if compressed::handles(extension)
        || bytes.starts_with(b"ID3")
        || bytes.starts_with(b"OggS")
        || bytes.starts_with(b"fLaC")
    {
        let hint = if compressed::handles(extension) {
            extension
        } else {
            "mp3"
        };
        return compressed::decode_to_8k(bytes.to_vec(), hint)
            .map(|samples| samples.into_iter().map(g711::encode).collect())
            .map_err(|reason| MediaError::Decode {
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

    /// Application "app", allowed everything.
    fn app() -> OutboundPolicy {
        OutboundPolicy {
            application: "app".into(),
            ..OutboundPolicy::open()
        }
    }
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
        std::fs::write(dir.join("c.txt"), b"text").expect("write");
        let source = source(&dir);
        assert_eq!(
            source.load("a.ulaw", &app()).await.expect("ulaw").len(),
            800
        );
        assert_eq!(source.load("b.wav", &app()).await.expect("wav").len(), 8000);
        let error = source.load("c.txt", &app()).await.expect_err("txt");
        assert!(
            error.to_string().contains("unsupported audio format"),
            "{error}"
        );
        let error = source
            .load("missing.wav", &app())
            .await
            .expect_err("missing");
        assert!(
            error.to_string().starts_with("cannot read 'missing.wav'"),
            "{error}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn files_outside_the_media_directory_and_other_applications_recordings_are_refused() {
        let base = std::env::temp_dir().join(format!("dialtone-confine-{}", std::process::id()));
        let root = base.join("config");
        let recordings = root.join("data").join("recordings");
        std::fs::create_dir_all(recordings.join("app")).expect("dir");
        std::fs::create_dir_all(recordings.join("other")).expect("dir");
        std::fs::write(recordings.join("app/mine.ulaw"), [0xffu8; 160]).expect("write");
        std::fs::write(recordings.join("other/theirs.ulaw"), [0xffu8; 160]).expect("write");
        std::fs::write(base.join("outside.ulaw"), [0xffu8; 160]).expect("write");
        let source = source(&root).with_recordings(recordings.clone());
        let mine = recordings.join("app/mine.ulaw").display().to_string();
        assert_eq!(
            source
                .load(&mine, &app())
                .await
                .expect("own recording")
                .len(),
            160
        );
        let refused = |url: String| {
            let source = &source;
            async move {
                source
                    .load(&url, &app())
                    .await
                    .expect_err("refused")
                    .to_string()
            }
        };
        let theirs = recordings.join("other/theirs.ulaw").display().to_string();
        assert_eq!(
            refused(theirs.clone()).await,
            format!(
                "'{theirs}' is outside the application's media directory (the config's directory and the application's own recordings)"
            )
        );
        assert!(
            refused("../outside.ulaw".into())
                .await
                .contains("outside the application's media directory")
        );
        assert!(
            refused("/dev/zero".into())
                .await
                .contains("outside the application's media directory")
        );
        let _ = std::fs::remove_dir_all(&base);
    }
}
