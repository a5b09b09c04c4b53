//! The session history in the shared PostgreSQL store: the writer thread and the readers each
//! borrow a connection of the store's pool per batch or query.

use std::sync::Arc;

use postgres::types::ToSql;

use super::{
    HistoryReads, HistoryWriter, LogRow, Param, SessionFilter, SessionRow, Write, from_millis,
    list_query, millis, session_row,
};
use crate::store::PgPool;
use crate::store::postgres::describe;

/// The history's statements on the store's pool.
#[derive(Debug)]
pub(super) struct PgHistory {
    pool: Arc<PgPool>,
}

impl PgHistory {
    pub(super) fn new(pool: Arc<PgPool>) -> Self {
        Self { pool }
    }
}

fn text(e: crate::store::StoreError) -> String {
    match e {
        crate::store::StoreError::Query { message, .. } => message,
        other => other.to_string(),
    }
}

impl HistoryWriter for PgHistory {
    fn commit(&mut self, writes: &[Write]) -> Result<(), String> {
        self.pool
            .with(|client| {
                let mut tx = client.transaction()?;
                for write in writes {
                    match write {
                        Write::Start(row) => {
                            tx.execute(
                                "INSERT INTO sessions (id, application, rule, call_id, caller, destination, started_at)
                                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                                 ON CONFLICT (id) DO UPDATE SET application = EXCLUDED.application,
                                   rule = EXCLUDED.rule, call_id = EXCLUDED.call_id, caller = EXCLUDED.caller,
                                   destination = EXCLUDED.destination, started_at = EXCLUDED.started_at,
                                   ended_at = NULL, end_kind = NULL, end_reason = NULL",
                                &[
                                    &row.id,
                                    &row.application,
                                    &row.rule,
                                    &row.call_id,
                                    &row.caller,
                                    &row.destination,
                                    &millis(row.started_at),
                                ],
                            )?;
                        }
                        Write::Log { session_id, line } => {
                            tx.execute(
                                "INSERT INTO session_logs (session_id, seq, at, level, text)
                                 VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM session_logs WHERE session_id = $1), $2, $3, $4)",
                                &[session_id, &millis(line.at), &line.level, &line.text],
                            )?;
                        }
                        Write::End {
                            session_id,
                            at,
                            kind,
                            reason,
                        } => {
                            tx.execute(
                                "UPDATE sessions SET ended_at = $1, end_kind = $2, end_reason = $3 WHERE id = $4",
                                &[&millis(*at), kind, reason, session_id],
                            )?;
                        }
                        Write::Flush(_) => {}
                    }
                }
                tx.commit()
            })
            .map_err(text)
    }

    fn prune(&mut self, cutoff_ms: i64) -> Result<(), String> {
        self.pool
            .with(|client| {
                let mut tx = client.transaction()?;
                tx.execute(
                    "DELETE FROM session_logs WHERE session_id IN (SELECT id FROM sessions WHERE started_at < $1)",
                    &[&cutoff_ms],
                )?;
                tx.execute("DELETE FROM sessions WHERE started_at < $1", &[&cutoff_ms])?;
                tx.commit()
            })
            .map_err(text)
    }
}

impl HistoryReads for PgHistory {
    fn list(&self, filter: &SessionFilter) -> Result<Vec<SessionRow>, String> {
        let (sql, values) = list_query(filter, |n| format!("${n}"));
        let params: Vec<&(dyn ToSql + Sync)> = values
            .iter()
            .map(|value| match value {
                Param::Text(text) => text as &(dyn ToSql + Sync),
                Param::Int(int) => int as &(dyn ToSql + Sync),
            })
            .collect();
        let rows = self
            .pool
            .with(|client| client.query(sql.as_str(), &params))
            .map_err(text)?;
        rows.iter()
            .map(|row| {
                Ok(session_row(
                    row.try_get(0)?,
                    row.try_get(1)?,
                    row.try_get(2)?,
                    row.try_get(3)?,
                    row.try_get(4)?,
                    row.try_get(5)?,
                    row.try_get(6)?,
                    row.try_get(7)?,
                    row.try_get(8)?,
                    row.try_get(9)?,
                ))
            })
            .collect::<Result<_, postgres::Error>>()
            .map_err(|e| describe(&e))
    }

    fn logs(&self, session_id: &str) -> Result<Option<Vec<LogRow>>, String> {
        let (exists, rows) = self
            .pool
            .with(|client| {
                let exists = client
                    .query_opt("SELECT 1 FROM sessions WHERE id = $1", &[&session_id])?
                    .is_some();
                let rows = client.query(
                    "SELECT at, level, text FROM session_logs WHERE session_id = $1 ORDER BY seq",
                    &[&session_id],
                )?;
                Ok((exists, rows))
            })
            .map_err(text)?;
        if !exists {
            return Ok(None);
        }
        rows.iter()
            .map(|row| {
                Ok(LogRow {
                    at: from_millis(row.try_get(0)?),
                    level: row.try_get(1)?,
                    text: row.try_get(2)?,
                })
            })
            .collect::<Result<Vec<_>, postgres::Error>>()
            .map(Some)
            .map_err(|e| describe(&e))
    }
}
