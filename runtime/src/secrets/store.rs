//! The encrypted secret store: `<data_dir>/secrets.json`, one AES-256-GCM ciphertext per
//! value with a fresh nonce, the application and name bound as associated data (a value
//! copied to another name or application does not decrypt). A key-check entry sealed with the
//! master key tells a wrong key apart at open, instead of yielding garbage later.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::key::MasterKey;
use super::{SecretError, SecretSource};

/// The store file's name in the data directory.
pub const STORE_FILE: &str = "secrets.json";
/// Longest value, in characters (VoxEngine's limit).
pub const MAX_VALUE_CHARS: usize = 8192;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
const KEY_CHECK_PLAINTEXT: &[u8] = b"dialtone secrets store v1";
const KEY_CHECK_AAD: &[u8] = b"dialtone:key-check";

/// A secret as listed: never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretInfo {
    /// The application.
    pub application: String,
    /// The name.
    pub name: String,
    /// What it is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When it was first set.
    pub created: DateTime<Utc>,
    /// When its value or description last changed.
    pub modified: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Entry {
    pub(super) application: String,
    pub(super) name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) description: Option<String>,
    pub(super) created: DateTime<Utc>,
    pub(super) modified: DateTime<Utc>,
    /// base64(nonce ‖ ciphertext ‖ tag).
    pub(super) sealed: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoreFile {
    version: u32,
    key_check: String,
    #[serde(default)]
    secrets: Vec<Entry>,
}

/// Secrets encrypted at rest in the data directory.
#[derive(Debug)]
pub struct SecretStore {
    path: PathBuf,
    key: MasterKey,
    file: Mutex<StoreFile>,
    /// The shared store, when the secrets live there.
    shared: Option<std::sync::Arc<crate::store::PgPool>>,
}

/// A secret name VoxEngine accepts: `^[A-Za-z][A-Za-z0-9_]{0,63}$`.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn aad(application: &str, name: &str) -> Vec<u8> {
    format!("dialtone-secret\0{application}\0{name}").into_bytes()
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

impl SecretStore {
    /// Opens (or creates) the store in `data_dir`. The key is `DIALTONE_MASTER_KEY`, else
    /// `<data_dir>/master.key`, created when there is no store yet. A key that does not open
    /// the store, or a store without its key, is an error that says so.
    pub fn open(data_dir: &Path) -> Result<Self, SecretError> {
        let path = data_dir.join(STORE_FILE);
        let existing = match std::fs::read_to_string(&path) {
            Ok(text) => Some(serde_json::from_str::<StoreFile>(&text).map_err(|e| {
                SecretError::Corrupt {
                    path: path.clone(),
                    why: e.to_string(),
                }
            })?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(SecretError::Io { path, source }),
        };
        let key = match (MasterKey::find(data_dir)?, &existing) {
            (Some(key), _) => key,
            (None, None) => MasterKey::create(data_dir)?,
            (None, Some(_)) => return Err(SecretError::MissingKey { store: path }),
        };
        let file = match existing {
            Some(file) => {
                let check = b64().decode(&file.key_check).unwrap_or_default();
                if key.open(&check, KEY_CHECK_AAD).as_deref() != Some(KEY_CHECK_PLAINTEXT) {
                    return Err(SecretError::WrongKey {
                        origin: key.origin.clone(),
                        store: path,
                    });
                }
                file
            }
            None => {
                let file = StoreFile {
                    version: 1,
                    key_check: b64().encode(key.seal(KEY_CHECK_PLAINTEXT, KEY_CHECK_AAD)?),
                    secrets: Vec::new(),
                };
                write_atomically(&path, &file)?;
                file
            }
        };
        Ok(Self {
            path,
            key,
            file: Mutex::new(file),
            shared: None,
        })
    }

    /// The secrets in the shared PostgreSQL store, sealed with the master key of `data_dir`
    /// (or the environment; a new key file when there is neither and the store holds no
    /// secrets yet), loaded now and reloaded whenever a node announces a change. A key other
    /// than the one the store's secrets were sealed with is refused. Blocking: call it from a
    /// blocking thread.
    pub fn open_shared(
        data_dir: &Path,
        pool: std::sync::Arc<crate::store::PgPool>,
    ) -> Result<std::sync::Arc<Self>, SecretError> {
        let key = match MasterKey::find(data_dir)? {
            Some(key) => key,
            None => MasterKey::create(data_dir)?,
        };
        let ours = b64().encode(key.seal(KEY_CHECK_PLAINTEXT, KEY_CHECK_AAD)?);
        let stored = super::postgres::key_check(&pool, &ours)?;
        let check = b64().decode(&stored).unwrap_or_default();
        if key.open(&check, KEY_CHECK_AAD).as_deref() != Some(KEY_CHECK_PLAINTEXT) {
            return Err(SecretError::WrongSharedKey {
                origin: key.origin.clone(),
                url: pool.url().to_owned(),
            });
        }
        let store = std::sync::Arc::new(Self {
            path: PathBuf::from(pool.url()),
            key,
            file: Mutex::new(StoreFile {
                version: 1,
                key_check: stored,
                secrets: super::postgres::load(&pool)?,
            }),
            shared: Some(pool.clone()),
        });
        crate::store::listen::reload_on_change(
            &pool,
            super::postgres::CHANNEL,
            &store,
            "the secrets",
            super::postgres::load,
            |store: &Self, secrets| store.lock().secrets = secrets,
        )
        .map_err(|e| {
            SecretError::Store(format!("cannot start listening for secret changes: {e}"))
        })?;
        Ok(store)
    }

    /// Writes the store after `change`: the file, or the shared store (one row).
    fn persist(
        &self,
        next: &StoreFile,
        change: super::postgres::Change<'_>,
    ) -> Result<(), SecretError> {
        match &self.shared {
            Some(pool) => super::postgres::save(pool, change),
            None => write_atomically(&self.path, next),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StoreFile> {
        self.file.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets a value (and description, when given). Returns the secret and whether it is new.
    pub fn set(
        &self,
        application: &str,
        name: &str,
        value: &str,
        description: Option<&str>,
    ) -> Result<(SecretInfo, bool), SecretError> {
        if !valid_name(name) {
            return Err(SecretError::Invalid(format!(
                "secret name '{name}' must match ^[A-Za-z][A-Za-z0-9_]{{0,63}}$"
            )));
        }
        if value.chars().count() > MAX_VALUE_CHARS {
            return Err(SecretError::Invalid(format!(
                "secret value is longer than {MAX_VALUE_CHARS} characters"
            )));
        }
        if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS) {
            return Err(SecretError::Invalid(format!(
                "secret description is longer than {MAX_DESCRIPTION_CHARS} characters"
            )));
        }
        let sealed = b64().encode(self.key.seal(value.as_bytes(), &aad(application, name))?);
        let now = Utc::now();
        let mut file = self.lock();
        let mut next = file.clone();
        let position = next
            .secrets
            .iter()
            .position(|e| e.application == application && e.name == name);
        let created = position.is_none();
        let entry = match position {
            Some(i) => {
                let entry = &mut next.secrets[i];
                entry.sealed = sealed;
                entry.modified = now;
                if let Some(d) = description {
                    entry.description = Some(d.to_owned()).filter(|d| !d.is_empty());
                }
                entry.clone()
            }
            None => {
                let entry = Entry {
                    application: application.to_owned(),
                    name: name.to_owned(),
                    description: description.map(str::to_owned).filter(|d| !d.is_empty()),
                    created: now,
                    modified: now,
                    sealed,
                };
                next.secrets.push(entry.clone());
                entry
            }
        };
        self.persist(&next, super::postgres::Change::Set(&entry))?;
        *file = next;
        Ok((info(&entry), created))
    }

    /// The application's secrets, by name, without values.
    pub fn list(&self, application: &str) -> Vec<SecretInfo> {
        let mut list: Vec<SecretInfo> = self
            .lock()
            .secrets
            .iter()
            .filter(|e| e.application == application)
            .map(info)
            .collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        list
    }

    /// Removes a secret; false when there was none.
    pub fn remove(&self, application: &str, name: &str) -> Result<bool, SecretError> {
        let mut file = self.lock();
        let mut next = file.clone();
        next.secrets
            .retain(|e| !(e.application == application && e.name == name));
        if next.secrets.len() == file.secrets.len() {
            return Ok(false);
        }
        self.persist(&next, super::postgres::Change::Remove(application, name))?;
        *file = next;
        Ok(true)
    }

    /// Removes every secret of an application (when the application is deleted).
    pub fn remove_application(&self, application: &str) -> Result<usize, SecretError> {
        let mut file = self.lock();
        let mut next = file.clone();
        next.secrets.retain(|e| e.application != application);
        let removed = file.secrets.len() - next.secrets.len();
        if removed > 0 {
            self.persist(
                &next,
                super::postgres::Change::RemoveApplication(application),
            )?;
            *file = next;
        }
        Ok(removed)
    }

    /// Decrypted values of the application's secrets.
    pub fn values(&self, application: &str) -> BTreeMap<String, String> {
        let file = self.lock();
        let mut values = BTreeMap::new();
        for entry in file.secrets.iter().filter(|e| e.application == application) {
            let plain = b64()
                .decode(&entry.sealed)
                .ok()
                .and_then(|sealed| self.key.open(&sealed, &aad(application, &entry.name)))
                .and_then(|plain| String::from_utf8(plain).ok());
            match plain {
                Some(value) => {
                    values.insert(entry.name.clone(), value);
                }
                None => tracing::error!(
                    "secret '{}' of application '{application}' in {} does not decrypt (altered?); skipped",
                    entry.name,
                    self.path.display()
                ),
            }
        }
        values
    }
}

impl SecretSource for SecretStore {
    fn secrets(&self, application: &str) -> BTreeMap<String, String> {
        self.values(application)
    }

    fn update(&self, application: &str, name: &str, value: &str) -> Result<(), String> {
        self.set(application, name, value, None)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

fn info(entry: &Entry) -> SecretInfo {
    SecretInfo {
        application: entry.application.clone(),
        name: entry.name.clone(),
        description: entry.description.clone(),
        created: entry.created,
        modified: entry.modified,
    }
}

/// Writes `file` to a temporary file (mode 0600), syncs it and renames it over `path`.
fn write_atomically(path: &Path, file: &StoreFile) -> Result<(), SecretError> {
    let text = serde_json::to_vec_pretty(file).map_err(|e| SecretError::Corrupt {
        path: path.to_owned(),
        why: e.to_string(),
    })?;
    crate::private_file::write(path, &text).map_err(|source| SecretError::Io {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("dialtone-secrets-{tag}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn set_list_values_remove_and_nothing_in_clear_on_disk() {
        let dir = temp_dir("roundtrip");
        let store = SecretStore::open(&dir).expect("open");
        let (info, created) = store
            .set("a", "TOKEN", "very-secret-value", Some("the token"))
            .expect("set");
        assert!(created);
        assert_eq!(info.description.as_deref(), Some("the token"));
        let (_, created) = store
            .set("a", "TOKEN", "other-value", None)
            .expect("update");
        assert!(!created);
        assert_eq!(store.list("a").len(), 1);
        assert!(store.list("b").is_empty());
        assert_eq!(store.values("a")["TOKEN"], "other-value");
        assert!(store.values("b").is_empty());
        let reopened = SecretStore::open(&dir).expect("reopen");
        assert_eq!(reopened.values("a")["TOKEN"], "other-value");
        for entry in std::fs::read_dir(&dir).expect("dir") {
            let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains("other-value") && !text.contains("very-secret"));
        }
        assert!(reopened.remove("a", "TOKEN").expect("rm"));
        assert!(!reopened.remove("a", "TOKEN").expect("rm again"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn names_and_sizes_follow_voxengine_limits() {
        let dir = temp_dir("limits");
        let store = SecretStore::open(&dir).expect("open");
        for bad in ["", "1A", "A-B", &"A".repeat(65)] {
            assert!(store.set("a", bad, "v", None).is_err(), "{bad}");
        }
        assert!(store.set("a", &"A".repeat(64), "v", None).is_ok());
        assert!(store.set("a", "BIG", &"x".repeat(8193), None).is_err());
        assert!(store.set("a", "MAX", &"x".repeat(8192), None).is_ok());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_value_moved_to_another_application_does_not_decrypt() {
        let dir = temp_dir("aad");
        let store = SecretStore::open(&dir).expect("open");
        store.set("a", "TOKEN", "for-a", None).expect("set");
        let path = dir.join(STORE_FILE);
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(
            &path,
            text.replace("\"application\": \"a\"", "\"application\": \"b\""),
        )
        .expect("write");
        let store = SecretStore::open(&dir).expect("open");
        assert!(store.values("b").is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }
}
