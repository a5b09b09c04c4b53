//! Per-application secrets: where a session's secrets come from, and the encrypted store
//! behind `dialtone secrets` and the admin API.
//!
//! - `key`: the master key (`DIALTONE_MASTER_KEY` or a 0600 key file).
//! - `store`: [`SecretStore`], AES-256-GCM values in `<data_dir>/secrets.json`.
//!
//! A call asks for its application's secrets when its session starts, and sees no other
//! application's.

pub mod key;
mod postgres;
pub mod store;

use std::collections::BTreeMap;
use std::path::PathBuf;

use thiserror::Error;

pub use key::{KEY_ENV, KEY_FILE, KeyOrigin, MasterKey};
pub use store::{STORE_FILE, SecretInfo, SecretStore};

/// Secret store errors; each says which file or key and what to do.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SecretError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The store file is not what Dialtone writes.
    #[error("secret store {} is damaged: {why}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// The key text is not a key.
    #[error("invalid master key in {origin}: {why}")]
    BadKey {
        /// Where it came from.
        origin: KeyOrigin,
        /// What is wrong.
        why: String,
    },
    /// The key does not open the store.
    #[error(
        "the master key from {origin} does not open the secret store {}: it was encrypted with another key (set {KEY_ENV} to that key, or restore its {KEY_FILE})",
        store.display()
    )]
    WrongKey {
        /// Where the key came from.
        origin: KeyOrigin,
        /// The store.
        store: PathBuf,
    },
    /// There is a store but no key.
    #[error(
        "the secret store {} exists but there is no master key: set {KEY_ENV}, or restore {KEY_FILE} next to it",
        store.display()
    )]
    MissingKey {
        /// The store.
        store: PathBuf,
    },
    /// The crypto library failed.
    #[error("secret encryption: {0}")]
    Crypto(String),
    /// A name, value or description breaks the rules.
    #[error("{0}")]
    Invalid(String),
    /// The shared store failed.
    #[error("{0}")]
    Store(String),
    /// The key does not open the shared store's secrets.
    #[error(
        "the master key from {origin} does not open the secrets of the store at {url}: they were encrypted with another key (give every node the same key: {KEY_ENV}, or the same {KEY_FILE})"
    )]
    WrongSharedKey {
        /// Where the key came from.
        origin: KeyOrigin,
        /// The store, without its password.
        url: String,
    },
}

/// A provider of per-application secrets.
pub trait SecretSource: Send + Sync + std::fmt::Debug {
    /// All secrets of `application`, by name.
    fn secrets(&self, application: &str) -> BTreeMap<String, String>;

    /// Stores a value a session changed (a refreshed MCP OAuth grant). The error is for the
    /// operator's log.
    fn update(&self, application: &str, name: &str, _value: &str) -> Result<(), String> {
        Err(format!(
            "secret '{name}' of application '{application}' changed in a session, but this secret source is read-only"
        ))
    }
}

/// Secrets held in memory, by application then name (tests, embedding).
#[derive(Debug, Default, Clone)]
pub struct StaticSecrets(pub BTreeMap<String, BTreeMap<String, String>>);

impl SecretSource for StaticSecrets {
    fn secrets(&self, application: &str) -> BTreeMap<String, String> {
        self.0.get(application).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_application_sees_only_its_own() {
        let source = StaticSecrets(BTreeMap::from([(
            "a".to_string(),
            BTreeMap::from([("TOKEN".to_string(), "x".to_string())]),
        )]));
        assert_eq!(source.secrets("a").len(), 1);
        assert!(source.secrets("b").is_empty());
    }
}
