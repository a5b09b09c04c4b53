//! `ApplicationStorage`'s keys: per application, with expiry, in the session history's SQLite
//! database (its own table and connection, WAL beside the history writer), or in the shared
//! PostgreSQL store (`postgres.rs`), where a key one node writes is read by every node.
//! Sessions reach it through the [`AppStorage`] host interface; the admin API and `dialtone
//! storage` through [`AppStore::entries`] and the same calls.
//!
//! Expired keys are never returned and are deleted when their application next writes. An
//! application holds at most [`MAX_KEYS_PER_APPLICATION`] keys.

mod postgres;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use dialtone_bindings::host::storage::{AppStorage, StorageError, StorageKey};
use rusqlite::{Connection, OptionalExtension as _, params};

use crate::history::HISTORY_FILE;
use crate::store::PgPool;

/// Most keys one application may hold (a scenario cannot fill the disk).
pub const MAX_KEYS_PER_APPLICATION: usize = 100_000;

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS app_storage (
    application TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    expire_at INTEGER NOT NULL,
    PRIMARY KEY (application, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS app_storage_expiry ON app_storage (application, expire_at);
";

/// The store: SQLite in the data directory, or the shared PostgreSQL store.
#[derive(Debug)]
pub struct AppStore(Backend);

#[derive(Debug)]
enum Backend {
    Sqlite(SqliteKeys),
    Postgres(postgres::PgKeys),
}

/// What each backend does; [`AppStore`] builds the host interface on it.
trait KeyStore: Send + Sync + std::fmt::Debug {
    /// Creates or replaces `key`, expiring `ttl_s` seconds from now.
    fn put(
        &self,
        application: &str,
        key: &str,
        value: &str,
        ttl_s: u64,
    ) -> Result<StorageKey, StorageError>;
    /// The key, if it is there and live.
    fn get(&self, application: &str, key: &str) -> Result<Option<StorageKey>, StorageError>;
    /// Deletes the key; what it held, if it was there and live.
    fn remove(&self, application: &str, key: &str) -> Result<Option<StorageKey>, StorageError>;
    /// Up to `count` live keys with their values, in key order: all, or `namespace`'s.
    fn entries(
        &self,
        application: &str,
        namespace: Option<&str>,
        count: usize,
    ) -> Result<Vec<StorageKey>, StorageError>;
}

impl AppStore {
    /// Opens (creating) the store in `data_dir`'s history database now.
    pub fn open(data_dir: &Path) -> Result<Self, StorageError> {
        let store = SqliteKeys::lazy(data_dir);
        drop(store.db()?);
        Ok(Self(Backend::Sqlite(store)))
    }

    /// The store in `data_dir`, opened (and created) only when first used: the console does
    /// not leave a database behind for scenarios that never touch it.
    pub fn lazy(data_dir: &Path) -> Self {
        Self(Backend::Sqlite(SqliteKeys::lazy(data_dir)))
    }

    /// The store in the shared PostgreSQL store.
    pub fn postgres(pool: Arc<PgPool>) -> Self {
        Self(Backend::Postgres(postgres::PgKeys::new(pool)))
    }

    fn backend(&self) -> &dyn KeyStore {
        match &self.0 {
            Backend::Sqlite(store) => store,
            Backend::Postgres(store) => store,
        }
    }

    /// Up to `count` live keys with their values, in key order: all, or `namespace`'s.
    pub fn entries(
        &self,
        application: &str,
        namespace: Option<&str>,
        count: usize,
    ) -> Result<Vec<StorageKey>, StorageError> {
        self.backend().entries(application, namespace, count)
    }
}

impl AppStorage for AppStore {
    fn put(
        &self,
        application: &str,
        key: &str,
        value: &str,
        ttl_s: u64,
    ) -> Result<StorageKey, StorageError> {
        self.backend().put(application, key, value, ttl_s)
    }

    fn get(&self, application: &str, key: &str) -> Result<Option<StorageKey>, StorageError> {
        self.backend().get(application, key)
    }

    fn remove(&self, application: &str, key: &str) -> Result<Option<StorageKey>, StorageError> {
        self.backend().remove(application, key)
    }

    fn keys(
        &self,
        application: &str,
        namespace: Option<&str>,
        count: usize,
    ) -> Result<Vec<String>, StorageError> {
        Ok(self
            .backend()
            .entries(application, namespace, count)?
            .into_iter()
            .map(|k| k.key)
            .collect())
    }
}

/// The SQLite store, on one connection opened at first use.
#[derive(Debug)]
struct SqliteKeys {
    dir: PathBuf,
    db: OnceLock<Mutex<Connection>>,
}

/// Seconds since the Unix epoch, as expiry times are kept.
fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl SqliteKeys {
    fn lazy(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.to_owned(),
            db: OnceLock::new(),
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.join(HISTORY_FILE)
    }

    fn failed(&self, e: &rusqlite::Error) -> StorageError {
        StorageError::Failed(format!("{}: {e}", self.path().display()))
    }

    fn db(&self) -> Result<std::sync::MutexGuard<'_, Connection>, StorageError> {
        if self.db.get().is_none() {
            let path = self.path();
            let failed = |e: rusqlite::Error| {
                StorageError::Failed(format!("cannot open {}: {e}", path.display()))
            };
            let _ = std::fs::create_dir_all(&self.dir);
            let db = Connection::open(&path).map_err(failed)?;
            db.busy_timeout(Duration::from_secs(5)).map_err(failed)?;
            db.execute_batch(SCHEMA).map_err(failed)?;
            let _ = self.db.set(Mutex::new(db));
        }
        let db = self
            .db
            .get()
            .ok_or_else(|| StorageError::Failed("the store did not open".into()))?;
        Ok(db.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl KeyStore for SqliteKeys {
    fn entries(
        &self,
        application: &str,
        namespace: Option<&str>,
        count: usize,
    ) -> Result<Vec<StorageKey>, StorageError> {
        let db = self.db()?;
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        let row = |r: &rusqlite::Row<'_>| {
            Ok(StorageKey {
                key: r.get(0)?,
                value: r.get(1)?,
                expire_at: r.get(2)?,
            })
        };
        // The namespace is the part before ':': the key itself and every "ns:..." (the range
        // ["ns:", "ns;") holds exactly those, ';' being the character after ':').
        let mut query = db
            .prepare_cached(
                "SELECT key, value, expire_at FROM app_storage
                 WHERE application = ?1 AND expire_at > ?2
                   AND (?3 IS NULL OR key = ?3 OR (key >= ?3 || ':' AND key < ?3 || ';'))
                 ORDER BY key LIMIT ?4",
            )
            .map_err(|e| self.failed(&e))?;
        let rows = query
            .query_map(params![application, now(), namespace, count], row)
            .and_then(Iterator::collect);
        rows.map_err(|e| self.failed(&e))
    }

    fn put(
        &self,
        application: &str,
        key: &str,
        value: &str,
        ttl_s: u64,
    ) -> Result<StorageKey, StorageError> {
        let mut db = self.db()?;
        let now = now();
        let expire_at = now.saturating_add(i64::try_from(ttl_s).unwrap_or(i64::MAX));
        let tx = db.transaction().map_err(|e| self.failed(&e))?;
        tx.execute(
            "DELETE FROM app_storage WHERE application = ?1 AND expire_at <= ?2",
            params![application, now],
        )
        .map_err(|e| self.failed(&e))?;
        let exists: bool = tx
            .query_row(
                "SELECT 1 FROM app_storage WHERE application = ?1 AND key = ?2",
                params![application, key],
                |_| Ok(true),
            )
            .optional()
            .map_err(|e| self.failed(&e))?
            .unwrap_or(false);
        if !exists {
            let held: i64 = tx
                .query_row(
                    "SELECT COUNT(*) FROM app_storage WHERE application = ?1",
                    params![application],
                    |r| r.get(0),
                )
                .map_err(|e| self.failed(&e))?;
            if usize::try_from(held).unwrap_or(usize::MAX) >= MAX_KEYS_PER_APPLICATION {
                return Err(StorageError::Limit(format!(
                    "application '{application}' already holds {MAX_KEYS_PER_APPLICATION} keys; remove some first"
                )));
            }
        }
        tx.execute(
            "INSERT INTO app_storage (application, key, value, expire_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (application, key) DO UPDATE SET value = excluded.value, expire_at = excluded.expire_at",
            params![application, key, value, expire_at],
        )
        .map_err(|e| self.failed(&e))?;
        tx.commit().map_err(|e| self.failed(&e))?;
        Ok(StorageKey {
            key: key.to_owned(),
            value: value.to_owned(),
            expire_at,
        })
    }

    fn get(&self, application: &str, key: &str) -> Result<Option<StorageKey>, StorageError> {
        self.db()?
            .query_row(
                "SELECT value, expire_at FROM app_storage
                 WHERE application = ?1 AND key = ?2 AND expire_at > ?3",
                params![application, key, now()],
                |r| {
                    Ok(StorageKey {
                        key: key.to_owned(),
                        value: r.get(0)?,
                        expire_at: r.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.failed(&e))
    }

    fn remove(&self, application: &str, key: &str) -> Result<Option<StorageKey>, StorageError> {
        let found = self.get(application, key)?;
        self.db()?
            .execute(
                "DELETE FROM app_storage WHERE application = ?1 AND key = ?2",
                params![application, key],
            )
            .map_err(|e| self.failed(&e))?;
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (AppStore, PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "dialtone-app-storage-{}-{}",
            std::process::id(),
            crate::media::stream::rand_u32()
        ));
        (AppStore::open(&dir).expect("open"), dir)
    }

    #[test]
    fn keys_are_per_application_expire_and_list_by_namespace() {
        let (store, dir) = store();
        let put = store.put("a", "user:1", "one", 60).expect("put");
        assert_eq!((put.key.as_str(), put.value.as_str()), ("user:1", "one"));
        assert!((put.expire_at - now() - 60).abs() <= 1);
        store.put("a", "user:2", "two", 60).expect("put");
        store.put("a", "user", "self", 60).expect("put");
        store
            .put("a", "users:3", "other namespace", 60)
            .expect("put");
        store.put("a", "gone", "expired", 0).expect("put");
        store.put("b", "user:1", "b's", 60).expect("put");
        assert_eq!(store.get("a", "gone").expect("get"), None);
        assert_eq!(
            store.get("b", "user:1").expect("get").map(|k| k.value),
            Some("b's".into())
        );
        assert_eq!(
            store.keys("a", Some("user"), 1000).expect("keys"),
            ["user", "user:1", "user:2"]
        );
        assert_eq!(store.keys("a", None, 2).expect("keys"), ["user", "user:1"]);
        let removed = store.remove("a", "user:1").expect("remove");
        assert_eq!(removed.map(|k| k.value), Some("one".into()));
        assert_eq!(store.remove("a", "user:1").expect("remove"), None);
        // Reopened (a restart), the keys are still there.
        drop(store);
        let reopened = AppStore::open(&dir).expect("reopen");
        assert_eq!(
            reopened.keys("a", None, 1000).expect("keys"),
            ["user", "user:2", "users:3"]
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
