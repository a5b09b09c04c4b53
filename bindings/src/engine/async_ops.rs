//! Promise-returning ops: an op starts work off the JS thread and returns an id at once; the
//! work's outcome comes back through one bounded channel the session loop reads, and settles
//! the promise the JS facade keeps under that id (`dispatch.settle`). `Net` and
//! `ApplicationStorage` work this way.
//!
//! Each op's work is a task of the session's own set: at most [`MAX_IN_FLIGHT`] are under way
//! (checked when one starts), and the channel holds no more outcomes than that. A session that
//! ends drops the set, which aborts what is still running (work handed to another runtime,
//! such as a request already sent, finishes there on its own bound).

use std::cell::{Cell, RefCell};
use std::future::Future;

use serde_json::Value;
use tokio::sync::mpsc;

/// Most async ops a session may have under way at once (their outcomes included).
pub(crate) const MAX_IN_FLIGHT: usize = 256;

/// Why an op failed: a stable `code` and the message for the scenario author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OpFailure {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

/// The outcome of one op, for the promise under `id`.
#[derive(Debug)]
pub(crate) struct Settled {
    pub(crate) id: u32,
    pub(crate) outcome: Result<Value, OpFailure>,
}

/// The session's side: ids and the sender every op's task gets a clone of.
#[derive(Debug)]
pub(crate) struct AsyncOps {
    tx: mpsc::Sender<Settled>,
    next: Cell<u32>,
    tasks: RefCell<tokio::task::JoinSet<()>>,
}

/// Too many ops under way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this session already has {MAX_IN_FLIGHT} requests under way")]
pub(crate) struct TooMany;

impl AsyncOps {
    /// The ops and the receiver the session loop reads outcomes from.
    pub(crate) fn new() -> (Self, mpsc::Receiver<Settled>) {
        let (tx, rx) = mpsc::channel(MAX_IN_FLIGHT);
        let ops = Self {
            tx,
            next: Cell::new(0),
            tasks: RefCell::default(),
        };
        (ops, rx)
    }

    /// Starts `work` on the session's thread (it may hand its I/O to another runtime) and
    /// returns the id its outcome will carry.
    pub(crate) fn start(
        &self,
        work: impl Future<Output = Result<Value, OpFailure>> + 'static,
    ) -> Result<u32, TooMany> {
        let mut tasks = self.tasks.borrow_mut();
        while tasks.try_join_next().is_some() {}
        if tasks.len() >= MAX_IN_FLIGHT {
            return Err(TooMany);
        }
        let id = self.next.get().wrapping_add(1).max(1);
        self.next.set(id);
        let tx = self.tx.clone();
        // A slot stays taken until the outcome is queued (or the session is gone).
        tasks.spawn_local(async move {
            let outcome = work.await;
            let _ = tx.send(Settled { id, outcome }).await;
        });
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn outcomes_come_back_under_their_ids_and_the_in_flight_bound_holds() {
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let (ops, mut rx) = AsyncOps::new();
                let (gate_tx, gate_rx) = tokio::sync::watch::channel(false);
                let mut ids = Vec::new();
                for n in 0..MAX_IN_FLIGHT {
                    let mut gate = gate_rx.clone();
                    let id = ops
                        .start(async move {
                            let _ = gate.wait_for(|open| *open).await;
                            Ok(Value::from(n))
                        })
                        .expect("under the bound");
                    ids.push(id);
                }
                assert_eq!(ops.start(async { Ok(Value::Null) }), Err(TooMany));
                assert_eq!(
                    TooMany.to_string(),
                    "this session already has 256 requests under way"
                );
                gate_tx.send(true).expect("gate");
                let first = rx.recv().await.expect("an outcome");
                assert_eq!(first.id, ids[0]);
                assert_eq!(first.outcome, Ok(Value::from(0)));
                for _ in 1..MAX_IN_FLIGHT {
                    rx.recv().await.expect("an outcome");
                }
                // Every slot is free again.
                tokio::task::yield_now().await;
                assert!(ops.start(async { Ok(Value::Null) }).is_ok());
            })
            .await;
    }
}
