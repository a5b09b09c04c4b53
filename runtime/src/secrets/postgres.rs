//! Secrets in the shared PostgreSQL store: sealed exactly as in `secrets.json` (every node
//! holds the same master key), kept in memory by every node and reloaded when a node
//! announces a change on [`CHANNEL`]. The stored key check makes a node with another key
//! refuse to start instead of failing every secret later.

use chrono::{TimeZone as _, Utc};

use super::SecretError;
use super::store::Entry;
use crate::store::PgPool;

/// The channel secret changes are announced on.
pub(super) const CHANNEL: &str = "dialtone_secrets";

fn failed(e: crate::store::StoreError) -> SecretError {
    SecretError::Store(e.to_string())
}

/// The key check the store holds, storing `ours` first when it holds none.
pub(super) fn key_check(pool: &PgPool, ours: &str) -> Result<String, SecretError> {
    pool.with(|client| {
        client.execute(
            "INSERT INTO secret_key_check (id, sealed) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
            &[&ours],
        )?;
        Ok(client
            .query_one("SELECT sealed FROM secret_key_check WHERE id = 1", &[])?
            .get(0))
    })
    .map_err(failed)
}

/// Every secret, sealed.
pub(super) fn load(pool: &PgPool) -> Result<Vec<Entry>, SecretError> {
    let rows = pool
        .with(|client| {
            client.query(
                "SELECT application, name, description, created, modified, sealed FROM secrets
                 ORDER BY application, name",
                &[],
            )
        })
        .map_err(failed)?;
    let time = |ms: i64| Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    Ok(rows
        .iter()
        .map(|row| Entry {
            application: row.get(0),
            name: row.get(1),
            description: row.get(2),
            created: time(row.get(3)),
            modified: time(row.get(4)),
            sealed: row.get(5),
        })
        .collect())
}

/// What one change does to the stored secrets.
pub(super) enum Change<'a> {
    /// Added or replaced.
    Set(&'a Entry),
    /// One removed.
    Remove(&'a str, &'a str),
    /// Every secret of an application removed.
    RemoveApplication(&'a str),
}

/// Writes one change and announces it.
pub(super) fn save(pool: &PgPool, change: Change<'_>) -> Result<(), SecretError> {
    pool.with(|client| {
        match &change {
            Change::Set(entry) => client.execute(
                "INSERT INTO secrets (application, name, description, created, modified, sealed)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (application, name) DO UPDATE SET description = EXCLUDED.description,
                   modified = EXCLUDED.modified, sealed = EXCLUDED.sealed",
                &[
                    &entry.application,
                    &entry.name,
                    &entry.description,
                    &entry.created.timestamp_millis(),
                    &entry.modified.timestamp_millis(),
                    &entry.sealed,
                ],
            )?,
            Change::Remove(application, name) => client.execute(
                "DELETE FROM secrets WHERE application = $1 AND name = $2",
                &[application, name],
            )?,
            Change::RemoveApplication(application) => {
                client.execute("DELETE FROM secrets WHERE application = $1", &[application])?
            }
        };
        Ok(())
    })
    .map_err(failed)?;
    crate::store::listen::announce(pool, CHANNEL, "").map_err(failed)
}
