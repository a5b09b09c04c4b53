//! PostgreSQL's LISTEN/NOTIFY between nodes: a change one node writes to the shared store is
//! announced on a channel, and every node's listener thread hears it within a moment and
//! refreshes what it keeps in memory.
//!
//! A listener holds its own connection (not one of the pool's). When the connection breaks it
//! reconnects every second; after each (re)connect it reports a full refresh, since
//! announcements made while it was away are lost.

use std::sync::Arc;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator as _;

use super::PgPool;

/// What a listener reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// A change announced with this payload.
    Change(String),
    /// Announcements may have been missed (the listener just (re)connected): refresh all.
    Everything,
    /// A second passed without an announcement.
    Idle,
}

/// Announces a change on `channel` (the listeners of every node, this one's too, hear it).
pub fn announce(pool: &PgPool, channel: &str, payload: &str) -> Result<(), super::StoreError> {
    pool.with(|client| {
        client
            .execute("SELECT pg_notify($1, $2)", &[&channel, &payload])
            .map(drop)
    })
}

/// Starts a thread listening on `channel`; it calls `heard` with each announcement, a full
/// refresh after each (re)connect, and [`Heard::Idle`] every idle second, and ends when `heard`
/// returns false (what it refreshes is gone).
pub fn listen(
    pool: &PgPool,
    channel: &'static str,
    mut heard: impl FnMut(Heard) -> bool + Send + 'static,
) -> std::io::Result<()> {
    let config = pool.config().clone();
    let shown = pool.url().to_owned();
    std::thread::Builder::new()
        .name(format!("dialtone-listen-{channel}"))
        .spawn(move || {
            loop {
                let client = config
                    .connect(postgres::NoTls)
                    .and_then(|mut client| {
                        client.batch_execute(&format!("LISTEN {channel}"))?;
                        Ok(client)
                    });
                let mut client = match client {
                    Ok(client) => client,
                    Err(e) => {
                        tracing::warn!(
                            "the store at {shown}: cannot listen for changes ({}); retrying in 1 s",
                            super::postgres::describe(&e)
                        );
                        if !heard(Heard::Idle) {
                            return;
                        }
                        std::thread::sleep(Duration::from_secs(1));
                        continue;
                    }
                };
                if !heard(Heard::Everything) {
                    return;
                }
                loop {
                    // A fresh iterator per wait: one whose timeout has passed returns at once
                    // on every later call (its deadline is only moved by a notification), so
                    // reusing it would spin.
                    let next = client
                        .notifications()
                        .timeout_iter(Duration::from_secs(1))
                        .next();
                    match next {
                        Ok(Some(notification)) => {
                            if !heard(Heard::Change(notification.payload().to_owned())) {
                                return;
                            }
                        }
                        Ok(None) => {
                            if !heard(Heard::Idle) {
                                return;
                            }
                        }
                        Err(e) => {
                            tracing::warn!(
                                "the store at {shown}: listening for changes stopped ({}); reconnecting",
                                super::postgres::describe(&e)
                            );
                            break;
                        }
                    }
                }
            }
        })
        .map(drop)
}

/// Keeps what `target` holds in memory up to date with the store: after each (re)connect and
/// each announcement on `channel`, `load` reads it and `apply` puts it in place (a failed load
/// is logged as reloading `what`). The listener ends once `target` is dropped.
pub fn reload_on_change<T, V, E>(
    pool: &Arc<PgPool>,
    channel: &'static str,
    target: &Arc<T>,
    what: &'static str,
    load: fn(&PgPool) -> Result<V, E>,
    apply: fn(&T, V),
) -> std::io::Result<()>
where
    T: Send + Sync + 'static,
    V: 'static,
    E: std::fmt::Display + 'static,
{
    let weak = Arc::downgrade(target);
    let reload_from = pool.clone();
    listen(pool, channel, move |heard| {
        let Some(target) = weak.upgrade() else {
            return false;
        };
        if heard != Heard::Idle {
            match load(&reload_from) {
                Ok(value) => apply(&target, value),
                Err(e) => tracing::warn!("reloading {what}: {e}"),
            }
        }
        true
    })
}
