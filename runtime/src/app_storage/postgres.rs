//! `ApplicationStorage` in the shared PostgreSQL store: the same table and rules as the SQLite
//! store (keys compared in byte order, the "C" collation), so a key one node writes is what
//! every node reads.

use std::sync::Arc;

use dialtone_bindings::host::storage::{StorageError, StorageKey};

use super::{KeyStore, MAX_KEYS_PER_APPLICATION, now};
use crate::store::{PgPool, StoreError};

/// The keys' statements on the store's pool.
#[derive(Debug)]
pub(super) struct PgKeys {
    pool: Arc<PgPool>,
}

impl PgKeys {
    pub(super) fn new(pool: Arc<PgPool>) -> Self {
        Self { pool }
    }
}

fn failed(e: StoreError) -> StorageError {
    StorageError::Failed(e.to_string())
}

/// Why a put was refused, carried out of the transaction.
enum PutOutcome {
    Stored(StorageKey),
    Full,
}

impl KeyStore for PgKeys {
    fn entries(
        &self,
        application: &str,
        namespace: Option<&str>,
        count: usize,
    ) -> Result<Vec<StorageKey>, StorageError> {
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        // The namespace is the part before ':': the key itself and every "ns:..." (the range
        // ["ns:", "ns;") holds exactly those, ';' being the character after ':').
        let rows = self
            .pool
            .with(|client| {
                client.query(
                    "SELECT key, value, expire_at FROM app_storage
                     WHERE application = $1 AND expire_at > $2
                       AND ($3::TEXT IS NULL OR key = $3 OR (key >= $3 || ':' AND key < $3 || ';'))
                     ORDER BY key LIMIT $4",
                    &[&application, &now(), &namespace, &count],
                )
            })
            .map_err(failed)?;
        Ok(rows
            .iter()
            .map(|row| StorageKey {
                key: row.get(0),
                value: row.get(1),
                expire_at: row.get(2),
            })
            .collect())
    }

    fn put(
        &self,
        application: &str,
        key: &str,
        value: &str,
        ttl_s: u64,
    ) -> Result<StorageKey, StorageError> {
        let now = now();
        let expire_at = now.saturating_add(i64::try_from(ttl_s).unwrap_or(i64::MAX));
        let outcome = self
            .pool
            .with(|client| {
                let mut tx = client.transaction()?;
                tx.execute(
                    "DELETE FROM app_storage WHERE application = $1 AND expire_at <= $2",
                    &[&application, &now],
                )?;
                let exists = tx
                    .query_opt(
                        "SELECT 1 FROM app_storage WHERE application = $1 AND key = $2",
                        &[&application, &key],
                    )?
                    .is_some();
                if !exists {
                    let held: i64 = tx
                        .query_one(
                            "SELECT COUNT(*) FROM app_storage WHERE application = $1",
                            &[&application],
                        )?
                        .get(0);
                    if usize::try_from(held).unwrap_or(usize::MAX) >= MAX_KEYS_PER_APPLICATION {
                        return Ok(PutOutcome::Full);
                    }
                }
                tx.execute(
                    "INSERT INTO app_storage (application, key, value, expire_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (application, key) DO UPDATE SET value = EXCLUDED.value, expire_at = EXCLUDED.expire_at",
                    &[&application, &key, &value, &expire_at],
                )?;
                tx.commit()?;
                Ok(PutOutcome::Stored(StorageKey {
                    key: key.to_owned(),
                    value: value.to_owned(),
                    expire_at,
                }))
            })
            .map_err(failed)?;
        match outcome {
            PutOutcome::Stored(stored) => Ok(stored),
            PutOutcome::Full => Err(StorageError::Limit(format!(
                "application '{application}' already holds {MAX_KEYS_PER_APPLICATION} keys; remove some first"
            ))),
        }
    }

    fn get(&self, application: &str, key: &str) -> Result<Option<StorageKey>, StorageError> {
        let row = self
            .pool
            .with(|client| {
                client.query_opt(
                    "SELECT value, expire_at FROM app_storage
                     WHERE application = $1 AND key = $2 AND expire_at > $3",
                    &[&application, &key, &now()],
                )
            })
            .map_err(failed)?;
        Ok(row.map(|row| StorageKey {
            key: key.to_owned(),
            value: row.get(0),
            expire_at: row.get(1),
        }))
    }

    fn remove(&self, application: &str, key: &str) -> Result<Option<StorageKey>, StorageError> {
        let row = self
            .pool
            .with(|client| {
                client.query_opt(
                    "DELETE FROM app_storage WHERE application = $1 AND key = $2
                     RETURNING value, expire_at",
                    &[&application, &key],
                )
            })
            .map_err(failed)?;
        Ok(row
            .filter(|row| row.get::<_, i64>(1) > now())
            .map(|row| StorageKey {
                key: key.to_owned(),
                value: row.get(0),
                expire_at: row.get(1),
            }))
    }
}
