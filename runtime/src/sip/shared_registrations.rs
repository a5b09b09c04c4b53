//! Registrations shared through the PostgreSQL store: the node that takes a REGISTER keeps the
//! binding in its registrar (answered at once), writes it to the store and announces it; every
//! node's listener then reloads that user's bindings, so `callUser` on any node rings every
//! device the user registered through any node.

use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::Utc;

use super::CallContext;
use crate::store::listen::{self, Heard};
use crate::store::{PgPool, StoreError};

/// The channel registration changes are announced on (payload: application, newline, user).
const CHANNEL: &str = "dialtone_registrations";

/// One stored binding.
pub(super) struct Row {
    pub(super) application: String,
    pub(super) name: String,
    pub(super) contact: String,
    /// Milliseconds it has left.
    pub(super) left_ms: i64,
    /// The Path its REGISTER came through (empty: none).
    pub(super) path: String,
}

/// Shares `context`'s registrations through `pool` from now on: its registrar writes to the
/// store, and a listener keeps its bindings up to date with every node's.
pub fn share(context: &Arc<CallContext>, pool: Arc<PgPool>) -> std::io::Result<()> {
    context.registrar.share(pool.clone());
    let weak: Weak<CallContext> = Arc::downgrade(context);
    let reload_from = pool.clone();
    listen::listen(&pool, CHANNEL, move |heard| {
        let Some(context) = weak.upgrade() else {
            return false;
        };
        let user = match &heard {
            Heard::Idle => return true,
            Heard::Everything => None,
            Heard::Change(payload) => match payload.split_once('\n') {
                Some((application, name)) => Some((application.to_owned(), name.to_owned())),
                None => return true,
            },
        };
        match load(&reload_from, user.as_ref()) {
            Ok(rows) => context.registrar.replace(user.as_ref(), rows),
            Err(e) => tracing::warn!("reloading registrations: {e}"),
        }
        true
    })
}

/// The live bindings of one user, or of everyone.
fn load(pool: &PgPool, user: Option<&(String, String)>) -> Result<Vec<Row>, StoreError> {
    let now = Utc::now().timestamp_millis();
    let rows = pool.with(|client| match user {
        Some((application, name)) => client.query(
            "SELECT application, name, contact, expires_at - $1, path FROM registrations
             WHERE application = $2 AND name = $3 AND expires_at > $1",
            &[&now, application, name],
        ),
        None => client.query(
            "SELECT application, name, contact, expires_at - $1, path FROM registrations
             WHERE expires_at > $1",
            &[&now],
        ),
    })?;
    Ok(rows
        .iter()
        .map(|row| Row {
            application: row.get(0),
            name: row.get(1),
            contact: row.get(2),
            left_ms: row.get(3),
            path: row.get(4),
        })
        .collect())
}

/// Writes one REGISTER's changes (contact, seconds; 0 removes) and the Path it came through
/// to the store and announces them, on a blocking thread; a failure is logged (the node's own
/// registrar has the binding).
pub(super) fn save(
    pool: Arc<PgPool>,
    (application, name): (String, String),
    changes: Vec<(String, u32)>,
    path: String,
    remove_all: bool,
) {
    tokio::task::spawn_blocking(move || {
        let now = Utc::now().timestamp_millis();
        let written = pool.with(|client| {
            let mut tx = client.transaction()?;
            if remove_all {
                tx.execute(
                    "DELETE FROM registrations WHERE application = $1 AND name = $2",
                    &[&application, &name],
                )?;
            }
            for (contact, seconds) in &changes {
                if *seconds == 0 {
                    tx.execute(
                        "DELETE FROM registrations WHERE application = $1 AND name = $2 AND contact = $3",
                        &[&application, &name, contact],
                    )?;
                } else {
                    let expires_at = now + i64::from(*seconds) * 1000;
                    tx.execute(
                        "INSERT INTO registrations (application, name, contact, expires_at, path)
                         VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (application, name, contact)
                         DO UPDATE SET expires_at = EXCLUDED.expires_at, path = EXCLUDED.path",
                        &[&application, &name, contact, &expires_at, &path],
                    )?;
                }
            }
            tx.execute("DELETE FROM registrations WHERE expires_at <= $1", &[&now])?;
            tx.commit()
        });
        let result = written
            .and_then(|()| listen::announce(&pool, CHANNEL, &format!("{application}\n{name}")));
        if let Err(e) = result {
            tracing::warn!(
                "the registration of user '{name}' of application '{application}' was not shared: {e}"
            );
        }
    });
}

/// Milliseconds left -> a deadline on the registrar's clock.
pub(super) fn deadline(left_ms: i64) -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_millis(u64::try_from(left_ms).unwrap_or(0))
}
