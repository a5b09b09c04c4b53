//! The application's key-value store behind `ApplicationStorage`, as the host provides it.
//! The runtime keeps it in SQLite beside the session history; the session calls it off the JS
//! thread (its methods may block on the disk).

use std::fmt::Debug;

use serde::{Deserialize, Serialize};

/// Longest key, in characters (VoxEngine's).
pub const MAX_KEY_CHARS: usize = 200;
/// Longest value, in characters (VoxEngine's).
pub const MAX_VALUE_CHARS: usize = 2000;
/// Longest time to live, in seconds (90 days, VoxEngine's); also what a TTL of 0 means.
pub const MAX_TTL_S: u64 = 7_776_000;
/// Most keys one `keys()` call returns.
pub const MAX_KEYS_PAGE: usize = 1000;

/// One stored key, as `ApplicationStorage` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageKey {
    /// The key.
    pub key: String,
    /// Its value.
    pub value: String,
    /// When it expires (Unix seconds).
    pub expire_at: i64,
}

/// Why a storage call failed, in words for the scenario author or operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// A key, value or TTL past VoxEngine's limits, or an application's key count at its cap.
    #[error("{0}")]
    Limit(String),
    /// The store failed (disk, database).
    #[error("the application storage failed: {0}")]
    Failed(String),
}

/// An application's key-value store. Every method is for one application's keys; expired
/// keys are never returned.
pub trait AppStorage: Send + Sync + Debug {
    /// Creates or replaces `key`, expiring `ttl_s` seconds from now (the caller has applied
    /// [`ttl_seconds`]).
    fn put(
        &self,
        application: &str,
        key: &str,
        value: &str,
        ttl_s: u64,
    ) -> Result<StorageKey, StorageError>;
    /// The key, if it is there.
    fn get(&self, application: &str, key: &str) -> Result<Option<StorageKey>, StorageError>;
    /// Deletes the key; what it held, if it was there.
    fn remove(&self, application: &str, key: &str) -> Result<Option<StorageKey>, StorageError>;
    /// Up to `count` keys in key order: all, or those of `namespace` (the key itself and
    /// every `namespace:...`).
    fn keys(
        &self,
        application: &str,
        namespace: Option<&str>,
        count: usize,
    ) -> Result<Vec<String>, StorageError>;
}

/// The seconds a key put with `ttl_s` lives: 0 means the most ([`MAX_TTL_S`], 90 days); none
/// past the most.
pub fn ttl_seconds(ttl_s: u64) -> Option<u64> {
    match ttl_s {
        0 => Some(MAX_TTL_S),
        s if s <= MAX_TTL_S => Some(s),
        _ => None,
    }
}

/// Checks a key and value against VoxEngine's limits.
pub fn check_entry(key: &str, value: Option<&str>) -> Result<(), StorageError> {
    if key.is_empty() {
        return Err(StorageError::Limit("the key is empty".into()));
    }
    let chars = key.chars().count();
    if chars > MAX_KEY_CHARS {
        return Err(StorageError::Limit(format!(
            "the key is {chars} characters long; the most is {MAX_KEY_CHARS}"
        )));
    }
    if let Some(value) = value {
        let chars = value.chars().count();
        if chars > MAX_VALUE_CHARS {
            return Err(StorageError::Limit(format!(
                "the value is {chars} characters long; the most is {MAX_VALUE_CHARS}"
            )));
        }
    }
    Ok(())
}
