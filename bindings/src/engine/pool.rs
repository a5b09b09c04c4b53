//! [`SessionPool`]: the JS worker threads sessions run on.
//!
//! QuickJS runtimes are `!Send`, so each worker is a thread with a current-thread tokio runtime
//! and a `LocalSet`; a session stays on the worker it started on. Sessions are assigned round
//! robin. SIP and media I/O stay on the host's multi-thread runtime and reach sessions only
//! through their [`SessionIo`] channels; a session's MCP clients run on its worker. Reports
//! to the host go out when the worker is about to park ([`outbox`]).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use super::{EngineError, outbox, run_session};
use crate::host::{EndReason, SessionIo, SessionSpec};

/// Stack size of a JS worker thread: room for the JS stack limit plus the host's frames.
const WORKER_STACK_BYTES: usize = 8 << 20;

struct Job {
    spec: SessionSpec,
    io: SessionIo,
    done: oneshot::Sender<EndReason>,
}

/// A fixed set of JS worker threads.
pub struct SessionPool {
    workers: Vec<mpsc::UnboundedSender<Job>>,
    next: AtomicUsize,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for SessionPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionPool")
            .field("workers", &self.workers.len())
            .finish()
    }
}

impl SessionPool {
    /// Starts `threads` workers (at least one). `0` means one per available core.
    pub fn new(threads: usize) -> Result<Self, EngineError> {
        let count = match threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let mut workers = Vec::with_capacity(count);
        let mut handles = Vec::with_capacity(count);
        for index in 0..count {
            let (tx, rx) = mpsc::unbounded_channel();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .on_thread_park(outbox::flush)
                .build()?;
            let handle = std::thread::Builder::new()
                .name(format!("dialtone-js-{index}"))
                .stack_size(WORKER_STACK_BYTES)
                .spawn(move || worker(runtime, rx))?;
            workers.push(tx);
            handles.push(handle);
        }
        Ok(Self {
            workers,
            next: AtomicUsize::new(0),
            threads: Mutex::new(handles),
        })
    }

    /// Number of worker threads.
    pub fn threads(&self) -> usize {
        self.workers.len()
    }

    /// Starts a session on the next worker. The receiver yields why it ended.
    pub fn spawn(
        &self,
        spec: SessionSpec,
        io: SessionIo,
    ) -> Result<oneshot::Receiver<EndReason>, EngineError> {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.workers.len();
        let (done, ended) = oneshot::channel();
        self.workers[index]
            .send(Job { spec, io, done })
            .map_err(|_| EngineError::PoolClosed)?;
        Ok(ended)
    }

    /// Stops accepting sessions and waits for the running ones to end.
    pub fn shutdown(mut self) {
        self.workers.clear();
        let handles = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        for handle in handles {
            let _ = handle.join();
        }
    }
}

fn worker(runtime: tokio::runtime::Runtime, mut jobs: mpsc::UnboundedReceiver<Job>) {
    outbox::enable();
    let local = tokio::task::LocalSet::new();
    local.spawn_local(async move {
        while let Some(Job { spec, io, done }) = jobs.recv().await {
            tokio::task::spawn_local(async move {
                let reason = run_session(spec, io).await;
                let _ = done.send(reason);
            });
        }
    });
    runtime.block_on(local);
    // A session that panicked may have left reports held.
    outbox::flush();
}
