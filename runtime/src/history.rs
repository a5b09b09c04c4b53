//! Session history: every session's application, rule, caller, destination, times, end
//! reason and (redacted) log lines, kept for `server.history_days`: in an embedded SQLite
//! database in the data directory (`sqlite.rs`), or in the shared PostgreSQL store
//! (`postgres.rs`), where every node of a cluster reads every node's sessions.
//!
//! Calls never wait for the database: they send [`Write`]s to one writer thread that commits
//! them in batches. Queries use their own connection and first wait until the writer has
//! committed what was sent before them.

mod postgres;
mod sqlite;

use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone as _, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::store::PgPool;

/// The database file's name in the data directory.
pub const HISTORY_FILE: &str = "history.sqlite3";
/// Most writes committed in one transaction.
const BATCH: usize = 512;
/// How often old sessions are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Most sessions one list returns.
pub const MAX_LIMIT: u32 = 1000;

/// History errors.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// The database failed.
    #[error("session history {store}: {message}")]
    Db {
        /// The database: its file, or the store's URL without its password.
        store: String,
        /// What failed.
        message: String,
    },
    /// The writer thread is gone.
    #[error("the session history writer stopped")]
    Stopped,
}

/// One session as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionRow {
    /// Session id.
    pub id: String,
    /// Application.
    pub application: String,
    /// Rule.
    pub rule: String,
    /// SIP Call-ID of the call that started it.
    pub call_id: String,
    /// Caller number.
    pub caller: String,
    /// Dialed destination.
    pub destination: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended (none while it runs).
    pub ended_at: Option<DateTime<Utc>>,
    /// Seconds from start to end.
    pub duration: Option<f64>,
    /// `terminated`, `no_calls`, `shutdown`, `load_error`, `uncaught_error`, `limit`.
    pub end_kind: Option<String>,
    /// The end reason in words.
    pub end_reason: Option<String>,
}

impl SessionRow {
    /// A session that started at `started_at` and has not ended.
    pub fn started(
        id: &str,
        application: &str,
        rule: &str,
        call_id: &str,
        caller: &str,
        destination: &str,
        started_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: id.to_owned(),
            application: application.to_owned(),
            rule: rule.to_owned(),
            call_id: call_id.to_owned(),
            caller: caller.to_owned(),
            destination: destination.to_owned(),
            started_at,
            ended_at: None,
            duration: None,
            end_kind: None,
            end_reason: None,
        }
    }
}

/// One session-log line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogRow {
    /// When it was written.
    pub at: DateTime<Utc>,
    /// `info`, `warn`, `error`, or `event` (an event the session heard, by name).
    pub level: String,
    /// The (redacted) text.
    pub text: String,
}

/// What to list; every field narrows the result.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionFilter {
    /// Session id.
    pub id: Option<String>,
    /// Application.
    pub application: Option<String>,
    /// Rule.
    pub rule: Option<String>,
    /// Caller number.
    pub caller: Option<String>,
    /// Destination.
    pub destination: Option<String>,
    /// Started at or after.
    pub start: Option<DateTime<Utc>>,
    /// Started before.
    pub end: Option<DateTime<Utc>>,
    /// Lasted at least this many seconds.
    pub min_duration: Option<f64>,
    /// Lasted at most this many seconds.
    pub max_duration: Option<f64>,
    /// End kind (`terminated`, `load_error` ...).
    pub reason: Option<String>,
    /// Most rows (default 100, at most 1000).
    pub limit: Option<u32>,
    /// Rows to skip (newest first).
    pub offset: Option<u32>,
}

/// A write for the writer thread.
#[derive(Debug)]
pub enum Write {
    /// A session started.
    Start(SessionRow),
    /// A session-log line.
    Log {
        /// Session id.
        session_id: String,
        /// The line.
        line: LogRow,
    },
    /// A session ended.
    End {
        /// Session id.
        session_id: String,
        /// When.
        at: DateTime<Utc>,
        /// End kind.
        kind: String,
        /// End reason in words.
        reason: String,
    },
    /// Answer once everything sent before is committed.
    Flush(std_mpsc::Sender<()>),
}

/// The session history.
#[derive(Debug)]
pub struct History {
    /// The database: its file, or the store's URL without its password.
    store: String,
    writes: Mutex<std_mpsc::Sender<Write>>,
    reader: Box<dyn HistoryReads>,
    /// Writes queued and not yet taken by the writer.
    waiting: Arc<AtomicUsize>,
    /// Log lines dropped because [`MAX_WAITING`] writes were waiting.
    dropped: AtomicU64,
}

/// Writes that may wait for the disk before log lines are dropped (sessions' starts and ends
/// are always kept: there is one of each per call).
pub const MAX_WAITING: usize = 65_536;

/// What a backend's writer does (on the writer thread).
trait HistoryWriter: Send + 'static {
    /// Commits `writes` (starts, log lines, ends) in one transaction.
    fn commit(&mut self, writes: &[Write]) -> Result<(), String>;
    /// Deletes the sessions started before `cutoff_ms`, and their log lines.
    fn prune(&mut self, cutoff_ms: i64) -> Result<(), String>;
}

/// What a backend's readers do (on blocking threads).
trait HistoryReads: Send + Sync + std::fmt::Debug {
    /// Sessions matching the filter, newest first.
    fn list(&self, filter: &SessionFilter) -> Result<Vec<SessionRow>, String>;
    /// One session's log lines in order; `None` when there is no such session.
    fn logs(&self, session_id: &str) -> Result<Option<Vec<LogRow>>, String>;
}

/// A value bound into a history query.
#[derive(Debug, Clone, PartialEq)]
enum Param {
    Text(String),
    Int(i64),
}

/// The sessions query of `filter`, with `placeholder(n)` for the n-th value (from 1): one
/// query text for both backends (`?` for SQLite, `$n` for PostgreSQL).
fn list_query(filter: &SessionFilter, placeholder: fn(usize) -> String) -> (String, Vec<Param>) {
    let mut sql = String::from(
        "SELECT id, application, rule, call_id, caller, destination, started_at, ended_at, \
         end_kind, end_reason FROM sessions WHERE 1 = 1",
    );
    let mut values = Vec::new();
    let mut bind = |sql: &mut String, condition: &str, value: Param| {
        values.push(value);
        sql.push_str(&condition.replace('?', &placeholder(values.len())));
    };
    for (column, value) in [
        ("id", &filter.id),
        ("application", &filter.application),
        ("rule", &filter.rule),
        ("caller", &filter.caller),
        ("destination", &filter.destination),
        ("end_kind", &filter.reason),
    ] {
        if let Some(v) = value {
            bind(
                &mut sql,
                &format!(" AND {column} = ?"),
                Param::Text(v.clone()),
            );
        }
    }
    if let Some(start) = filter.start {
        bind(&mut sql, " AND started_at >= ?", Param::Int(millis(start)));
    }
    if let Some(end) = filter.end {
        bind(&mut sql, " AND started_at < ?", Param::Int(millis(end)));
    }
    if let Some(min) = filter.min_duration {
        let ms = Param::Int((min * 1000.0) as i64);
        bind(
            &mut sql,
            " AND ended_at IS NOT NULL AND ended_at - started_at >= ?",
            ms,
        );
    }
    if let Some(max) = filter.max_duration {
        let ms = Param::Int((max * 1000.0) as i64);
        bind(
            &mut sql,
            " AND ended_at IS NOT NULL AND ended_at - started_at <= ?",
            ms,
        );
    }
    let limit = filter.limit.unwrap_or(100).min(MAX_LIMIT);
    sql.push_str(" ORDER BY started_at DESC, id");
    bind(&mut sql, " LIMIT ?", Param::Int(i64::from(limit)));
    bind(
        &mut sql,
        " OFFSET ?",
        Param::Int(i64::from(filter.offset.unwrap_or(0))),
    );
    (sql, values)
}

/// A stored session from its columns.
#[allow(clippy::too_many_arguments)]
fn session_row(
    id: String,
    application: String,
    rule: String,
    call_id: String,
    caller: String,
    destination: String,
    started: i64,
    ended: Option<i64>,
    end_kind: Option<String>,
    end_reason: Option<String>,
) -> SessionRow {
    SessionRow {
        id,
        application,
        rule,
        call_id,
        caller,
        destination,
        started_at: from_millis(started),
        ended_at: ended.map(from_millis),
        duration: ended.map(|e| (e - started) as f64 / 1000.0),
        end_kind,
        end_reason,
    }
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

impl History {
    /// Opens (or creates) `<data_dir>/history.sqlite3` and starts the writer, which prunes
    /// sessions older than `retention_days` now and every hour.
    pub fn open(data_dir: &Path, retention_days: u32) -> Result<Self, HistoryError> {
        let (writer, reader, store) = sqlite::open(data_dir)?;
        Self::start(Box::new(writer), Box::new(reader), store, retention_days)
    }

    /// The history in the shared PostgreSQL store (every node writes its sessions there and
    /// reads everyone's); the writer prunes as [`History::open`]'s does.
    pub fn open_postgres(pool: Arc<PgPool>, retention_days: u32) -> Result<Self, HistoryError> {
        let store = pool.url().to_owned();
        let writer = postgres::PgHistory::new(pool.clone());
        let reader = postgres::PgHistory::new(pool);
        Self::start(Box::new(writer), Box::new(reader), store, retention_days)
    }

    fn start(
        writer: Box<dyn HistoryWriter>,
        reader: Box<dyn HistoryReads>,
        store: String,
        retention_days: u32,
    ) -> Result<Self, HistoryError> {
        let (writes, receiver) = std_mpsc::channel();
        let thread_store = store.clone();
        let waiting = Arc::new(AtomicUsize::new(0));
        let taken = waiting.clone();
        std::thread::Builder::new()
            .name("dialtone-history".into())
            .spawn(move || write_loop(writer, receiver, retention_days, &thread_store, &taken))
            .map_err(|e| HistoryError::Db {
                store: store.clone(),
                message: format!("cannot start the writer thread: {e}"),
            })?;
        Ok(Self {
            store,
            writes: Mutex::new(writes),
            reader,
            waiting,
            dropped: AtomicU64::new(0),
        })
    }

    /// Queues a write (never blocks on the disk); false when it was dropped: a log line is
    /// dropped, and counted, when the disk has fallen [`MAX_WAITING`] writes behind.
    pub fn write(&self, write: Write) -> bool {
        if matches!(write, Write::Log { .. }) && self.waiting.load(Ordering::Relaxed) >= MAX_WAITING
        {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        let sender = self.writes.lock().unwrap_or_else(|e| e.into_inner());
        self.waiting.fetch_add(1, Ordering::Relaxed);
        if sender.send(write).is_err() {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Log lines dropped so far because the disk fell behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Waits (at most 10 s) until every write queued so far is committed.
    pub fn flush(&self) -> Result<(), HistoryError> {
        let (done, wait) = std_mpsc::channel();
        let _ = self.write(Write::Flush(done));
        wait.recv_timeout(Duration::from_secs(10))
            .map_err(|_| HistoryError::Stopped)
    }

    fn db_error(&self, message: String) -> HistoryError {
        HistoryError::Db {
            store: self.store.clone(),
            message,
        }
    }

    /// Sessions matching `filter`, newest first. Blocking: call from a blocking task.
    pub fn list(&self, filter: &SessionFilter) -> Result<Vec<SessionRow>, HistoryError> {
        self.flush()?;
        self.reader.list(filter).map_err(|e| self.db_error(e))
    }

    /// One session's log lines in order; `None` when there is no such session.
    pub fn logs(&self, session_id: &str) -> Result<Option<Vec<LogRow>>, HistoryError> {
        self.flush()?;
        self.reader.logs(session_id).map_err(|e| self.db_error(e))
    }
}

fn write_loop(
    mut db: Box<dyn HistoryWriter>,
    writes: std_mpsc::Receiver<Write>,
    retention_days: u32,
    store: &str,
    waiting: &AtomicUsize,
) {
    let mut next_prune = std::time::Instant::now();
    loop {
        if std::time::Instant::now() >= next_prune {
            let cutoff = Utc::now() - chrono::Duration::days(i64::from(retention_days));
            if let Err(e) = db.prune(millis(cutoff)) {
                tracing::error!("session history {store}: pruning failed: {e}");
            }
            next_prune = std::time::Instant::now() + PRUNE_EVERY;
        }
        let first = match writes.recv_timeout(PRUNE_EVERY) {
            Ok(write) => write,
            Err(std_mpsc::RecvTimeoutError::Timeout) => continue,
            Err(std_mpsc::RecvTimeoutError::Disconnected) => return,
        };
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match writes.try_recv() {
                Ok(write) => batch.push(write),
                Err(_) => break,
            }
        }
        waiting.fetch_sub(batch.len(), Ordering::Relaxed);
        let (flushes, batch): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .partition(|write| matches!(write, Write::Flush(_)));
        if !batch.is_empty()
            && let Err(e) = db.commit(&batch)
        {
            tracing::error!("session history {store}: {e}; some entries were lost");
        }
        for flush in flushes {
            if let Write::Flush(done) = flush {
                let _ = done.send(());
            }
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, application: &str, started_at: DateTime<Utc>) -> SessionRow {
        SessionRow::started(
            id,
            application,
            "r",
            &format!("call-{id}"),
            "1001",
            "2000",
            started_at,
        )
    }

    #[test]
    fn stores_filters_and_prunes_sessions() {
        let dir = std::env::temp_dir().join(format!("dialtone-history-{}", uuid::Uuid::new_v4()));
        let history = History::open(&dir, 7).expect("open");
        let now = Utc::now();
        history.write(Write::Start(row("s1", "a", now)));
        history.write(Write::Start(row("s2", "b", now)));
        for text in ["one", "two"] {
            history.write(Write::Log {
                session_id: "s1".into(),
                line: LogRow {
                    at: now,
                    level: "info".into(),
                    text: text.into(),
                },
            });
        }
        history.write(Write::End {
            session_id: "s1".into(),
            at: now + chrono::Duration::seconds(3),
            kind: "terminated".into(),
            reason: "terminated by the scenario".into(),
        });
        let all = history.list(&SessionFilter::default()).expect("list");
        assert_eq!(all.len(), 2);
        let filter = SessionFilter {
            application: Some("a".into()),
            min_duration: Some(2.5),
            reason: Some("terminated".into()),
            ..Default::default()
        };
        let found = history.list(&filter).expect("list");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].duration, Some(3.0));
        let logs = history.logs("s1").expect("logs").expect("exists");
        let texts: Vec<&str> = logs.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["one", "two"]);
        assert_eq!(history.logs("nope").expect("logs"), None);
        drop(history);

        // A session older than the retention is pruned when the history opens again.
        let old = History::open(&dir, 7).expect("reopen");
        old.write(Write::Start(row(
            "s0",
            "a",
            now - chrono::Duration::days(8),
        )));
        assert_eq!(old.list(&SessionFilter::default()).expect("list").len(), 3);
        drop(old);
        let reopened = History::open(&dir, 7).expect("reopen");
        let ids: Vec<String> = reopened
            .list(&SessionFilter::default())
            .expect("list")
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids.len(), 2, "{ids:?}");
        assert!(!ids.contains(&"s0".to_string()));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn when_the_disk_falls_behind_log_lines_go_and_session_ends_stay() {
        let dir =
            std::env::temp_dir().join(format!("dialtone-history-behind-{}", std::process::id()));
        let history = History::open(&dir, 7).expect("open");
        // As if the writer were MAX_WAITING writes behind.
        history.waiting.fetch_add(MAX_WAITING, Ordering::Relaxed);
        let log = Write::Log {
            session_id: "s".into(),
            line: LogRow {
                at: Utc::now(),
                level: "info".into(),
                text: "hello".into(),
            },
        };
        assert!(!history.write(log), "a log line is dropped");
        assert_eq!(history.dropped(), 1);
        assert!(
            history.write(Write::Start(row("s", "app", Utc::now()))),
            "a start is kept"
        );
        history.waiting.fetch_sub(MAX_WAITING, Ordering::Relaxed);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
