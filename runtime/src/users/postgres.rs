//! Application users in the shared PostgreSQL store: every node keeps all users in memory (a
//! REGISTER is checked without a query) and reloads them when a node announces a change on
//! [`CHANNEL`].

use chrono::{TimeZone as _, Utc};

use super::{Entry, UserError, UsersFile};
use crate::store::PgPool;

/// The channel user changes are announced on.
pub(super) const CHANNEL: &str = "dialtone_users";

fn failed(e: crate::store::StoreError) -> UserError {
    UserError::Store(e.to_string())
}

/// Every application's users, as stored.
pub(super) fn load(pool: &PgPool) -> Result<UsersFile, UserError> {
    let rows = pool
        .with(|client| {
            client.query(
                "SELECT application, name, display_name, ha1_md5, ha1_sha256, created, modified
                 FROM users ORDER BY application, name",
                &[],
            )
        })
        .map_err(failed)?;
    let time = |ms: i64| Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    Ok(UsersFile {
        version: 1,
        users: rows
            .iter()
            .map(|row| Entry {
                application: row.get(0),
                name: row.get(1),
                display_name: row.get(2),
                ha1_md5: row.get(3),
                ha1_sha256: row.get(4),
                created: time(row.get(5)),
                modified: time(row.get(6)),
            })
            .collect(),
    })
}

/// Writes one user (added or changed), or deletes one, and announces it.
pub(super) fn save(
    pool: &PgPool,
    set: Option<&Entry>,
    removed: Option<(&str, &str)>,
) -> Result<(), UserError> {
    pool.with(|client| {
        if let Some(user) = set {
            client.execute(
                "INSERT INTO users (application, name, display_name, ha1_md5, ha1_sha256, created, modified)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (application, name) DO UPDATE SET display_name = EXCLUDED.display_name,
                   ha1_md5 = EXCLUDED.ha1_md5, ha1_sha256 = EXCLUDED.ha1_sha256, modified = EXCLUDED.modified",
                &[
                    &user.application,
                    &user.name,
                    &user.display_name,
                    &user.ha1_md5,
                    &user.ha1_sha256,
                    &user.created.timestamp_millis(),
                    &user.modified.timestamp_millis(),
                ],
            )?;
        }
        if let Some((application, name)) = removed {
            client.execute(
                "DELETE FROM users WHERE application = $1 AND name = $2",
                &[&application, &name],
            )?;
        }
        Ok(())
    })
    .map_err(failed)?;
    crate::store::listen::announce(pool, CHANNEL, "").map_err(failed)
}
