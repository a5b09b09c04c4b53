//! Synthesized speech kept by (voice, text): the same prompt said on many calls is synthesized
//! once. Callers that ask for a text while its synthesis runs wait for that one instead of
//! starting another. Bounded by entries and by bytes; the least recently used go first. A
//! failed synthesis is not kept: the next call tries again.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::MediaError;

/// μ-law audio shared between calls (the same as `source::Audio`, which uses this cache).
type Audio = Arc<[u8]>;

/// Most texts kept.
pub const MAX_ENTRIES: usize = 4096;
/// Most audio kept: 64 MiB of 8 kHz μ-law is about 2.3 hours of speech.
pub const MAX_BYTES: usize = 64 << 20;

type Key = (Option<String>, String);

struct Entry {
    slot: Arc<OnceCell<Audio>>,
    /// Position in the recency order.
    tick: u64,
    /// Bytes counted for it (0 until its synthesis finished).
    bytes: usize,
}

#[derive(Default)]
struct Lru {
    entries: HashMap<Key, Entry>,
    /// Recency order: oldest tick first.
    order: BTreeMap<u64, Key>,
    next_tick: u64,
    bytes: usize,
}

impl Lru {
    fn touch(&mut self, key: &Key) -> Option<Arc<OnceCell<Audio>>> {
        let tick = self.next_tick;
        let entry = self.entries.get_mut(key)?;
        self.order.remove(&entry.tick);
        entry.tick = tick;
        self.order.insert(tick, key.clone());
        self.next_tick += 1;
        Some(entry.slot.clone())
    }

    fn remove(&mut self, key: &Key) {
        if let Some(entry) = self.entries.remove(key) {
            self.order.remove(&entry.tick);
            self.bytes -= entry.bytes;
        }
    }

    /// Drops the least recently used entries (never `keep`) until within both bounds.
    fn evict(&mut self, keep: &Key, max_entries: usize, max_bytes: usize) {
        while self.entries.len() > max_entries || self.bytes > max_bytes {
            let oldest = self.order.values().find(|key| *key != keep).cloned();
            match oldest {
                Some(key) => self.remove(&key),
                None => break,
            }
        }
    }
}

/// The cache of one server.
pub struct SpeechCache {
    lru: Mutex<Lru>,
    max_entries: usize,
    max_bytes: usize,
}

impl std::fmt::Debug for SpeechCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lru = self.lru.lock().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("SpeechCache")
            .field("entries", &lru.entries.len())
            .field("bytes", &lru.bytes)
            .finish()
    }
}

impl Default for SpeechCache {
    fn default() -> Self {
        Self::new(MAX_ENTRIES, MAX_BYTES)
    }
}

impl SpeechCache {
    /// A cache of at most `max_entries` texts and `max_bytes` of audio.
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        Self {
            lru: Mutex::new(Lru::default()),
            max_entries: max_entries.max(1),
            max_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lru> {
        self.lru.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The audio of `text` in `voice`: kept, being synthesized by another caller (waited for),
    /// or synthesized now by `synthesize`.
    pub async fn get_or_synthesize<F>(
        &self,
        voice: Option<&str>,
        text: &str,
        synthesize: F,
    ) -> Result<Audio, MediaError>
    where
        F: Future<Output = Result<Audio, MediaError>>,
    {
        let key: Key = (voice.map(str::to_owned), text.to_owned());
        let slot = {
            let mut lru = self.lock();
            match lru.touch(&key) {
                Some(slot) => slot,
                None => {
                    let slot = Arc::new(OnceCell::new());
                    let tick = lru.next_tick;
                    lru.next_tick += 1;
                    lru.order.insert(tick, key.clone());
                    let entry = Entry {
                        slot: slot.clone(),
                        tick,
                        bytes: 0,
                    };
                    lru.entries.insert(key.clone(), entry);
                    lru.evict(&key, self.max_entries, self.max_bytes);
                    slot
                }
            }
        };
        match slot.get_or_try_init(|| synthesize).await {
            Ok(audio) => {
                let audio = audio.clone();
                let mut lru = self.lock();
                let ours = lru
                    .entries
                    .get(&key)
                    .is_some_and(|entry| entry.bytes == 0 && Arc::ptr_eq(&entry.slot, &slot));
                if ours && audio.len() > self.max_bytes {
                    // Larger than the whole cache: returned, not kept (nothing else evicted).
                    lru.remove(&key);
                } else if ours {
                    if let Some(entry) = lru.entries.get_mut(&key) {
                        entry.bytes = audio.len();
                    }
                    lru.bytes += audio.len();
                    lru.evict(&key, self.max_entries, self.max_bytes);
                }
                Ok(audio)
            }
            Err(e) => {
                let mut lru = self.lock();
                let ours = lru
                    .entries
                    .get(&key)
                    .is_some_and(|entry| Arc::ptr_eq(&entry.slot, &slot) && !slot.initialized());
                if ours {
                    lru.remove(&key);
                }
                Err(e)
            }
        }
    }

    /// Texts and bytes kept.
    pub fn size(&self) -> (usize, usize) {
        let lru = self.lock();
        (lru.entries.len(), lru.bytes)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn audio(len: usize) -> Audio {
        vec![0xFF; len].into()
    }

    #[tokio::test]
    async fn the_same_text_and_voice_is_synthesized_once_even_when_asked_at_once() {
        let cache = SpeechCache::default();
        let runs = AtomicUsize::new(0);
        let say = || async {
            runs.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            Ok(audio(800))
        };
        let (a, b) = tokio::join!(
            cache.get_or_synthesize(Some("en-us"), "Hello", say()),
            cache.get_or_synthesize(Some("en-us"), "Hello", say()),
        );
        assert_eq!((a.expect("a").len(), b.expect("b").len()), (800, 800));
        cache
            .get_or_synthesize(Some("en-us"), "Hello", say())
            .await
            .expect("kept");
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        cache
            .get_or_synthesize(Some("de-de"), "Hello", say())
            .await
            .expect("other voice");
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert_eq!(cache.size(), (2, 1600));
    }

    #[tokio::test]
    async fn a_failure_is_not_kept_and_the_next_caller_tries_again() {
        let cache = SpeechCache::default();
        let failed = cache
            .get_or_synthesize(None, "Hi", async { Err(MediaError::Tts("busy".into())) })
            .await;
        assert_eq!(
            failed.expect_err("fails").to_string(),
            "text-to-speech failed: busy"
        );
        assert_eq!(cache.size(), (0, 0));
        let ok = cache
            .get_or_synthesize(None, "Hi", async { Ok(audio(10)) })
            .await;
        assert_eq!(ok.expect("ok").len(), 10);
    }

    #[tokio::test]
    async fn the_least_recently_used_go_first_past_either_bound() {
        let cache = SpeechCache::new(3, 1000);
        for text in ["a", "b", "c"] {
            let _ = cache
                .get_or_synthesize(None, text, async { Ok(audio(300)) })
                .await;
        }
        // "a" is used again, so "b" is the oldest when "d" needs room (bytes bound).
        let _ = cache
            .get_or_synthesize(None, "a", async { Ok(audio(1)) })
            .await;
        let _ = cache
            .get_or_synthesize(None, "d", async { Ok(audio(300)) })
            .await;
        assert_eq!(cache.size(), (3, 900));
        let again = AtomicUsize::new(0);
        for text in ["a", "c", "d"] {
            let _ = cache
                .get_or_synthesize(None, text, async {
                    again.fetch_add(1, Ordering::SeqCst);
                    Ok(audio(300))
                })
                .await;
        }
        assert_eq!(again.load(Ordering::SeqCst), 0, "a, c and d were kept");
        // Audio larger than the whole cache is returned but not kept; it took one entry's room
        // while it was synthesized (the oldest, "a"), and evicts nothing for its bytes.
        let big = cache
            .get_or_synthesize(None, "big", async { Ok(audio(5000)) })
            .await;
        assert_eq!(big.expect("big").len(), 5000);
        assert_eq!(cache.size(), (2, 600));
    }
}
