//! The X- headers of the BYEs far ends send, by SIP Call-ID, from the moment the dispatcher
//! matches a BYE to a dialog until that dialog's call task reads them for its
//! `Disconnected` event (rsipstack reports a remote BYE as a state without the request).
//! Bounded: past [`MAX_WAITING`] BYEs unread, the headers of more are not kept.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// BYEs whose headers may wait to be read at once.
const MAX_WAITING: usize = 4096;

/// X- headers of BYEs not yet read, by Call-ID.
#[derive(Debug, Default)]
pub struct ByeHeaders(Mutex<HashMap<String, BTreeMap<String, String>>>);

impl ByeHeaders {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, BTreeMap<String, String>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps the X- headers of a BYE of call `call_id` (none: nothing kept).
    pub(crate) fn keep(&self, call_id: &str, headers: BTreeMap<String, String>) {
        if headers.is_empty() {
            return;
        }
        let mut waiting = self.lock();
        if waiting.len() < MAX_WAITING || waiting.contains_key(call_id) {
            waiting.insert(call_id.to_owned(), headers);
        }
    }

    /// The X- headers of the BYE that ended call `call_id` (empty when it had none).
    pub(crate) fn take(&self, call_id: &str) -> BTreeMap<String, String> {
        self.lock().remove(call_id).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_wait_until_read_and_are_bounded() {
        let byes = ByeHeaders::default();
        byes.keep("a", BTreeMap::from([("X-Why".into(), "done".into())]));
        byes.keep("b", BTreeMap::new());
        assert_eq!(byes.take("a")["X-Why"], "done");
        assert!(byes.take("a").is_empty());
        assert!(byes.take("b").is_empty());
        for i in 0..MAX_WAITING + 10 {
            byes.keep(&i.to_string(), BTreeMap::from([("X-N".into(), "1".into())]));
        }
        assert_eq!(byes.lock().len(), MAX_WAITING);
    }
}
