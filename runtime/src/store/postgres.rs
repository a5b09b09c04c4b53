//! PostgreSQL: a bounded pool of connections and the schema's versioned migrations.
//!
//! Connections are the synchronous `postgres` client; every store call runs on a blocking
//! thread (tokio's blocking pool or the history writer), as the SQLite code does. The pool
//! opens connections on demand up to its size, lends each to one caller at a time, and drops
//! a connection that broke instead of returning it.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use postgres::{Client, NoTls};

use super::{StoreError, redact};

/// The schema's migrations, in order; a migration's version is its place (from 1).
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "history and storage",
        include_str!("migrations/0001_history_and_storage.sql"),
    ),
    (
        "users and registrations",
        include_str!("migrations/0002_users_and_registrations.sql"),
    ),
    ("secrets", include_str!("migrations/0003_secrets.sql")),
    (
        "applications, rules and scenarios",
        include_str!("migrations/0004_catalog.sql"),
    ),
    (
        "registration paths",
        include_str!("migrations/0005_registration_paths.sql"),
    ),
];

/// The schema version this build needs.
pub fn schema_version() -> i32 {
    i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX)
}

/// How long a caller waits for a free connection, and a connection attempt for the server.
const WAIT: Duration = Duration::from_secs(10);
/// Connections per node unless `[store] max_connections` says otherwise.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 8;

/// Migrations run under this advisory lock, so two nodes migrating at once take turns.
const MIGRATION_LOCK: i64 = 0x6469_616c_746f_6e65; // "dialtone"

/// A bounded pool of connections to one database.
pub struct PgPool {
    config: postgres::Config,
    /// The URL without its password, for errors and logs.
    shown: String,
    max: usize,
    state: Mutex<PoolState>,
    freed: Condvar,
}

#[derive(Default)]
struct PoolState {
    idle: Vec<Client>,
    /// Connections open, lent or idle.
    open: usize,
}

impl std::fmt::Debug for PgPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgPool")
            .field("url", &self.shown)
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl PgPool {
    /// A pool for `url` of at most `max` connections; connects to check the server is there
    /// and its schema is this build's.
    pub fn connect(url: &str, max: u32) -> Result<Self, StoreError> {
        let pool = Self::new(url, max)?;
        let found = pool.with(current_version)?;
        let needed = schema_version();
        if found != needed {
            return Err(StoreError::Schema {
                url: pool.shown.clone(),
                found,
                needed,
                advice: if found < needed {
                    "run `dialtone store migrate` first"
                } else {
                    "this node is older than the schema; upgrade it"
                },
            });
        }
        Ok(pool)
    }

    /// A pool for `url` that has not connected yet.
    pub fn new(url: &str, max: u32) -> Result<Self, StoreError> {
        let shown = redact(url);
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e: postgres::Error| StoreError::Url(format!("{shown}: {e}")))?;
        config.connect_timeout(WAIT);
        if config.get_options().is_none() {
            // No statement may hold a connection (and a blocking thread) for ever.
            config.options("-c statement_timeout=30000");
        }
        if config.get_application_name().is_none() {
            config.application_name("dialtone");
        }
        Ok(Self {
            config,
            shown,
            max: usize::try_from(max.max(1)).unwrap_or(1),
            state: Mutex::new(PoolState::default()),
            freed: Condvar::new(),
        })
    }

    /// The URL without its password.
    pub fn url(&self) -> &str {
        &self.shown
    }

    /// The connection settings (for a connection of its own, such as a listener's).
    pub fn config(&self) -> &postgres::Config {
        &self.config
    }

    /// Runs `work` on a connection: an idle one, a new one while fewer than the most are open,
    /// else the first one freed (waiting at most [`WAIT`]). Blocking: call it from a blocking
    /// thread.
    ///
    /// An idle connection the server has closed since (a database restart) fails `work` with
    /// nothing done; `work` then runs again on another connection, at most once per connection
    /// the pool may hold, so a restart costs no caller an error.
    pub fn with<T>(
        &self,
        mut work: impl FnMut(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let mut tries = self.max + 1;
        loop {
            let (mut client, reused) = self.take()?;
            let result = work(&mut client);
            let stale = result.is_err() && reused && client.is_closed();
            self.give_back(client);
            tries -= 1;
            if !stale || tries == 0 {
                return result.map_err(|e| self.query_error(&e));
            }
        }
    }

    /// The error text of a failed statement.
    pub fn query_error(&self, e: &postgres::Error) -> StoreError {
        StoreError::Query {
            url: self.shown.clone(),
            message: describe(e),
        }
    }

    /// A connection, and whether it was idle in the pool (rather than opened now).
    fn take(&self) -> Result<(Client, bool), StoreError> {
        let deadline = std::time::Instant::now() + WAIT;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(client) = state.idle.pop() {
                return Ok((client, true));
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                return self.config.connect(NoTls).map(|c| (c, false)).map_err(|e| {
                    let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                    state.open -= 1;
                    self.freed.notify_one();
                    StoreError::Connect {
                        url: self.shown.clone(),
                        message: describe(&e),
                    }
                });
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return Err(StoreError::Busy {
                    url: self.shown.clone(),
                    waited_s: WAIT.as_secs(),
                });
            }
            state = self
                .freed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn give_back(&self, client: Client) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if client.is_closed() {
            state.open -= 1;
        } else {
            state.idle.push(client);
        }
        self.freed.notify_one();
    }
}

impl Drop for PgPool {
    /// Closes the idle connections on a thread of their own: closing one blocks on its I/O,
    /// which must not happen on an async worker, where the last owner of a pool may be.
    fn drop(&mut self) {
        let idle =
            std::mem::take(&mut self.state.get_mut().unwrap_or_else(|e| e.into_inner()).idle);
        if !idle.is_empty() {
            let _ = std::thread::Builder::new()
                .name("dialtone-store-close".into())
                .spawn(move || drop(idle));
        }
    }
}

/// A PostgreSQL error as an operator reads it: the server's message (and detail), or the
/// client's.
pub fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_owned(),
        },
        None => {
            let text = e.to_string();
            match std::error::Error::source(e) {
                Some(source) if !text.contains(&source.to_string()) => format!("{text}: {source}"),
                _ => text,
            }
        }
    }
}

/// The schema version recorded in the database (0: none yet).
fn current_version(client: &mut Client) -> Result<i32, postgres::Error> {
    let exists: bool = client
        .query_one("SELECT to_regclass('dialtone_schema') IS NOT NULL", &[])?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let row = client.query_one("SELECT COALESCE(MAX(version), 0) FROM dialtone_schema", &[])?;
    Ok(row.get(0))
}

/// What `dialtone store migrate` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrated {
    /// The version found.
    pub from: i32,
    /// The version now.
    pub to: i32,
}

/// Brings the database at `url` to this build's schema: each migration not yet applied, in
/// its own transaction, under an advisory lock (nodes migrating at once take turns).
pub fn migrate(url: &str) -> Result<Migrated, StoreError> {
    let pool = PgPool::new(url, 1)?;
    pool.with(|client| {
        client.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
        let result = apply_migrations(client);
        let unlock = client.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
        let migrated = result?;
        unlock?;
        Ok(migrated)
    })
}

fn apply_migrations(client: &mut Client) -> Result<Migrated, postgres::Error> {
    client.batch_execute(
        "CREATE TABLE IF NOT EXISTS dialtone_schema (
             version INTEGER PRIMARY KEY,
             name TEXT NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )?;
    let from = current_version(client)?;
    for (index, (name, sql)) in MIGRATIONS.iter().enumerate() {
        let version = i32::try_from(index + 1).unwrap_or(i32::MAX);
        if version <= from {
            continue;
        }
        let mut tx = client.transaction()?;
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO dialtone_schema (version, name) VALUES ($1, $2)",
            &[&version, name],
        )?;
        tx.commit()?;
    }
    Ok(Migrated {
        from,
        to: from.max(schema_version()),
    })
}
