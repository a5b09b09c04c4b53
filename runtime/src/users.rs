//! Application users: the SIP accounts softphones register with and `VoxEngine.callUser` rings.
//! Kept in `<data_dir>/users.json` (mode 0600), or in the shared PostgreSQL store
//! (`postgres.rs`), as name, display name and password hashes: the digest HA1
//! (`H(name:realm:password)`, MD5 and SHA-256, realm = the application's name), so the
//! password itself is never stored and a registration is checked without it. Every node keeps
//! all users in memory either way.

mod postgres;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use md5::Digest as _;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The store file's name in the data directory.
pub const USERS_FILE: &str = "users.json";
/// Shortest password.
const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password.
const MAX_PASSWORD_CHARS: usize = 128;
/// Most users one application may have.
const MAX_USERS: usize = 10_000;

/// User store errors, for the operator.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum UserError {
    /// A name, display name or password that is not allowed.
    #[error("{0}")]
    Invalid(String),
    /// No such user.
    #[error("application '{application}' has no user named '{name}'")]
    NotFound {
        /// The application.
        application: String,
        /// The user name.
        name: String,
    },
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The shared store failed.
    #[error("{0}")]
    Store(String),
    /// The file is not a user store.
    #[error("{path} is not a Dialtone user store: {why}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
}

/// A user as listed: never a hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    /// The application.
    pub application: String,
    /// The SIP user name.
    pub name: String,
    /// Shown to the people it calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// When it was added.
    pub created: DateTime<Utc>,
    /// When its password or display name last changed.
    pub modified: DateTime<Utc>,
}

/// A user's digest secrets for one realm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// MD5 HA1, lowercase hex.
    pub ha1_md5: String,
    /// SHA-256 HA1, lowercase hex.
    pub ha1_sha256: String,
    /// The display name.
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    application: String,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    ha1_md5: String,
    ha1_sha256: String,
    created: DateTime<Utc>,
    modified: DateTime<Utc>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct UsersFile {
    version: u32,
    #[serde(default)]
    users: Vec<Entry>,
}

/// The users of every application, as stored.
#[derive(Debug)]
pub struct UserStore {
    path: PathBuf,
    users: RwLock<UsersFile>,
    /// The shared store, when the users live there.
    shared: Option<Arc<crate::store::PgPool>>,
}

impl UserStore {
    /// Opens `<data_dir>/users.json` (an empty store when absent).
    pub fn open(data_dir: &Path) -> Result<Self, UserError> {
        let path = data_dir.join(USERS_FILE);
        let file = match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice::<UsersFile>(&bytes).map_err(|e| UserError::Corrupt {
                    path: path.clone(),
                    why: format!("not valid JSON at line {}", e.line()),
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => UsersFile {
                version: 1,
                users: Vec::new(),
            },
            Err(source) => return Err(UserError::Io { path, source }),
        };
        Ok(Self {
            path,
            users: RwLock::new(file),
            shared: None,
        })
    }

    /// The users in the shared PostgreSQL store, loaded now and reloaded whenever a node
    /// announces a change. Blocking: call it from a blocking thread.
    pub fn postgres(pool: Arc<crate::store::PgPool>) -> Result<Arc<Self>, UserError> {
        let store = Arc::new(Self {
            path: PathBuf::new(),
            users: RwLock::new(postgres::load(&pool)?),
            shared: Some(pool.clone()),
        });
        crate::store::listen::reload_on_change(
            &pool,
            postgres::CHANNEL,
            &store,
            "the users",
            postgres::load,
            |store: &Self, users| *store.users.write().unwrap_or_else(|e| e.into_inner()) = users,
        )
        .map_err(|e| UserError::Store(format!("cannot start listening for user changes: {e}")))?;
        Ok(store)
    }

    /// A store kept in memory only (tests, the console).
    pub fn in_memory() -> Self {
        Self {
            path: PathBuf::new(),
            users: RwLock::new(UsersFile {
                version: 1,
                users: Vec::new(),
            }),
            shared: None,
        }
    }

    /// The users of `application`, by name.
    pub fn list(&self, application: &str) -> Vec<UserInfo> {
        let users = self.users.read().unwrap_or_else(|e| e.into_inner());
        let mut list: Vec<UserInfo> = users
            .users
            .iter()
            .filter(|u| u.application == application)
            .map(info)
            .collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        list
    }

    /// The digest secrets of user `name` of `application`.
    pub fn credentials(&self, application: &str, name: &str) -> Option<Credentials> {
        let users = self.users.read().unwrap_or_else(|e| e.into_inner());
        users
            .users
            .iter()
            .find(|u| u.application == application && u.name == name)
            .map(|u| Credentials {
                ha1_md5: u.ha1_md5.clone(),
                ha1_sha256: u.ha1_sha256.clone(),
                display_name: u.display_name.clone(),
            })
    }

    /// Adds user `name` or changes its password and display name; true when it was added.
    pub fn set(
        &self,
        application: &str,
        name: &str,
        password: &str,
        display_name: Option<&str>,
    ) -> Result<(UserInfo, bool), UserError> {
        check_name(name)?;
        let chars = password.chars().count();
        if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars)
            || password.chars().any(char::is_control)
        {
            return Err(UserError::Invalid(format!(
                "a password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters on one line"
            )));
        }
        if let Some(display) = display_name
            && (display.chars().count() > 128
                || display.chars().any(|c| c.is_control() || c == '"'))
        {
            return Err(UserError::Invalid(
                "a display name must be at most 128 characters on one line, without quotes".into(),
            ));
        }
        let now = Utc::now();
        let (ha1_md5, ha1_sha256) = ha1(name, application, password);
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        let mut next = users.clone();
        let added = match next
            .users
            .iter_mut()
            .find(|u| u.application == application && u.name == name)
        {
            Some(user) => {
                user.ha1_md5 = ha1_md5;
                user.ha1_sha256 = ha1_sha256;
                user.display_name = display_name.map(str::to_owned);
                user.modified = now;
                false
            }
            None => {
                if next
                    .users
                    .iter()
                    .filter(|u| u.application == application)
                    .count()
                    >= MAX_USERS
                {
                    return Err(UserError::Invalid(format!(
                        "application '{application}' has {MAX_USERS} users, the most it may have"
                    )));
                }
                next.users.push(Entry {
                    application: application.to_owned(),
                    name: name.to_owned(),
                    display_name: display_name.map(str::to_owned),
                    ha1_md5,
                    ha1_sha256,
                    created: now,
                    modified: now,
                });
                true
            }
        };
        match &self.shared {
            Some(pool) => {
                let entry = next
                    .users
                    .iter()
                    .find(|u| u.application == application && u.name == name);
                postgres::save(pool, entry, None)?;
            }
            None => self.save(&next)?,
        }
        *users = next;
        let user = users
            .users
            .iter()
            .find(|u| u.application == application && u.name == name)
            .map(info)
            .ok_or_else(|| UserError::NotFound {
                application: application.to_owned(),
                name: name.to_owned(),
            })?;
        Ok((user, added))
    }

    /// Removes user `name`.
    pub fn remove(&self, application: &str, name: &str) -> Result<(), UserError> {
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        let mut next = users.clone();
        let before = next.users.len();
        next.users
            .retain(|u| !(u.application == application && u.name == name));
        if next.users.len() == before {
            return Err(UserError::NotFound {
                application: application.to_owned(),
                name: name.to_owned(),
            });
        }
        match &self.shared {
            Some(pool) => postgres::save(pool, None, Some((application, name)))?,
            None => self.save(&next)?,
        }
        *users = next;
        Ok(())
    }

    /// Writes the file (mode 0600) through a temporary file and a rename.
    fn save(&self, file: &UsersFile) -> Result<(), UserError> {
        if self.path.as_os_str().is_empty() {
            return Ok(());
        }
        let text = serde_json::to_vec_pretty(file).map_err(|e| UserError::Corrupt {
            path: self.path.clone(),
            why: e.to_string(),
        })?;
        crate::private_file::write(&self.path, &text).map_err(|source| UserError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

/// A user name: 1-64 letters, digits, `.`, `_` or `-` (what `callUser` accepts).
pub fn check_name(name: &str) -> Result<(), UserError> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(UserError::Invalid(format!(
            "user name '{name}' must be 1-64 letters, digits, '.', '_' or '-'"
        )));
    }
    Ok(())
}

/// The digest HA1 of `name` in `realm` with `password`: MD5 and SHA-256, lowercase hex.
pub fn ha1(name: &str, realm: &str, password: &str) -> (String, String) {
    let text = format!("{name}:{realm}:{password}");
    (md5_hex(&text), sha256_hex(&text))
}

/// MD5 of `text`, lowercase hex.
pub fn md5_hex(text: &str) -> String {
    hex(&md5::Md5::digest(text.as_bytes()))
}

/// SHA-256 of `text`, lowercase hex.
pub fn sha256_hex(text: &str) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()).as_ref())
}

/// `bytes` as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn info(entry: &Entry) -> UserInfo {
    UserInfo {
        application: entry.application.clone(),
        name: entry.name.clone(),
        display_name: entry.display_name.clone(),
        created: entry.created,
        modified: entry.modified,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_stored_as_hashes_and_reopened() -> Result<(), UserError> {
        let dir = std::env::temp_dir().join(format!("dialtone-users-{}", std::process::id()));
        let store = UserStore::open(&dir)?;
        let (alice, added) = store.set("default", "alice", "correct horse", Some("Alice"))?;
        assert!(added);
        assert_eq!(alice.display_name.as_deref(), Some("Alice"));
        // RFC 2617's HA1 for these inputs, by any MD5.
        let expected = md5_hex("alice:default:correct horse");
        assert_eq!(
            store.credentials("default", "alice").map(|c| c.ha1_md5),
            Some(expected)
        );
        let text =
            std::fs::read_to_string(dir.join(USERS_FILE)).map_err(|source| UserError::Io {
                path: dir.clone(),
                source,
            })?;
        assert!(!text.contains("correct horse"), "{text}");
        let reopened = UserStore::open(&dir)?;
        assert_eq!(reopened.list("default").len(), 1);
        assert!(reopened.list("other").is_empty());
        reopened.remove("default", "alice")?;
        assert!(UserStore::open(&dir)?.list("default").is_empty());
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    #[test]
    fn bad_names_and_passwords_are_refused_in_words() {
        let store = UserStore::in_memory();
        let message =
            |r: Result<(UserInfo, bool), UserError>| r.map_err(|e| e.to_string()).map(|_| ());
        assert_eq!(
            message(store.set("default", "bob smith", "long enough", None)),
            Err("user name 'bob smith' must be 1-64 letters, digits, '.', '_' or '-'".into())
        );
        assert_eq!(
            message(store.set("default", "bob", "short", None)),
            Err("a password must be 8 to 128 characters on one line".into())
        );
        assert_eq!(
            store.remove("default", "nobody").map_err(|e| e.to_string()),
            Err("application 'default' has no user named 'nobody'".into())
        );
        assert_eq!(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
    }
}
