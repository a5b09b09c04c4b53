//! The session history in SQLite: one file in the data directory, a writer connection (the
//! writer thread's) and a reader connection beside it (WAL mode lets both run at once).

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension as _, params_from_iter};

use super::{
    HISTORY_FILE, HistoryError, HistoryReads, HistoryWriter, LogRow, Param, SessionFilter,
    SessionRow, Write, from_millis, list_query, millis, session_row,
};

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    application TEXT NOT NULL,
    rule TEXT NOT NULL,
    call_id TEXT NOT NULL,
    caller TEXT NOT NULL,
    destination TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    end_kind TEXT,
    end_reason TEXT
);
CREATE INDEX IF NOT EXISTS sessions_by_start ON sessions (started_at);
CREATE TABLE IF NOT EXISTS session_logs (
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    level TEXT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
";

/// The writer and reader connections to `<data_dir>/history.sqlite3`, and its path as text.
pub(super) fn open(data_dir: &Path) -> Result<(SqliteWriter, SqliteReader, String), HistoryError> {
    let path = data_dir.join(HISTORY_FILE);
    let store = path.display().to_string();
    let db = |e: rusqlite::Error| HistoryError::Db {
        store: store.clone(),
        message: e.to_string(),
    };
    let _ = std::fs::create_dir_all(data_dir);
    let writer = Connection::open(&path).map_err(db)?;
    writer.execute_batch(SCHEMA).map_err(db)?;
    let reader = Connection::open(&path).map_err(db)?;
    reader.busy_timeout(Duration::from_secs(5)).map_err(db)?;
    Ok((
        SqliteWriter { db: writer },
        SqliteReader {
            db: Mutex::new(reader),
        },
        store,
    ))
}

/// The writer thread's connection.
pub(super) struct SqliteWriter {
    db: Connection,
}

impl HistoryWriter for SqliteWriter {
    fn commit(&mut self, writes: &[Write]) -> Result<(), String> {
        commit(&mut self.db, writes).map_err(|e| e.to_string())
    }

    fn prune(&mut self, cutoff_ms: i64) -> Result<(), String> {
        self.db
            .execute(
                "DELETE FROM session_logs WHERE session_id IN (SELECT id FROM sessions WHERE started_at < ?)",
                [cutoff_ms],
            )
            .and_then(|_| {
                self.db
                    .execute("DELETE FROM sessions WHERE started_at < ?", [cutoff_ms])
            })
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

fn commit(db: &mut Connection, writes: &[Write]) -> rusqlite::Result<()> {
    let tx = db.transaction()?;
    for write in writes {
        match write {
            Write::Start(row) => {
                tx.execute(
                    "INSERT OR REPLACE INTO sessions (id, application, rule, call_id, caller, destination, started_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rusqlite::params![row.id, row.application, row.rule, row.call_id, row.caller, row.destination, millis(row.started_at)],
                )?;
            }
            Write::Log { session_id, line } => {
                tx.execute(
                    "INSERT INTO session_logs (session_id, seq, at, level, text) VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM session_logs WHERE session_id = ?1), ?2, ?3, ?4)",
                    rusqlite::params![session_id, millis(line.at), line.level, line.text],
                )?;
            }
            Write::End {
                session_id,
                at,
                kind,
                reason,
            } => {
                tx.execute(
                    "UPDATE sessions SET ended_at = ?, end_kind = ?, end_reason = ? WHERE id = ?",
                    rusqlite::params![millis(*at), kind, reason, session_id],
                )?;
            }
            Write::Flush(_) => {}
        }
    }
    tx.commit()
}

/// The readers' connection.
#[derive(Debug)]
pub(super) struct SqliteReader {
    db: Mutex<Connection>,
}

impl HistoryReads for SqliteReader {
    fn list(&self, filter: &SessionFilter) -> Result<Vec<SessionRow>, String> {
        let (sql, values) = list_query(filter, |_| "?".to_owned());
        let values = values.into_iter().map(|value| match value {
            Param::Text(text) => rusqlite::types::Value::Text(text),
            Param::Int(int) => rusqlite::types::Value::Integer(int),
        });
        let db = self.db.lock().unwrap_or_else(|e| e.into_inner());
        let mut statement = db.prepare(&sql).map_err(|e| e.to_string())?;
        let rows = statement
            .query_map(params_from_iter(values), |row| {
                Ok(session_row(
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                    row.get(6)?,
                    row.get(7)?,
                    row.get(8)?,
                    row.get(9)?,
                ))
            })
            .map_err(|e| e.to_string())?;
        rows.collect::<Result<_, _>>().map_err(|e| e.to_string())
    }

    fn logs(&self, session_id: &str) -> Result<Option<Vec<LogRow>>, String> {
        let db = self.db.lock().unwrap_or_else(|e| e.into_inner());
        let exists = db
            .query_row("SELECT 1 FROM sessions WHERE id = ?", [session_id], |_| {
                Ok(())
            })
            .optional()
            .map_err(|e| e.to_string())?;
        if exists.is_none() {
            return Ok(None);
        }
        let mut statement = db
            .prepare("SELECT at, level, text FROM session_logs WHERE session_id = ? ORDER BY seq")
            .map_err(|e| e.to_string())?;
        let rows = statement
            .query_map([session_id], |row| {
                Ok(LogRow {
                    at: from_millis(row.get(0)?),
                    level: row.get(1)?,
                    text: row.get(2)?,
                })
            })
            .map_err(|e| e.to_string())?;
        rows.collect::<Result<Vec<_>, _>>()
            .map(Some)
            .map_err(|e| e.to_string())
    }
}
