//! Errors of the engine itself (not of scenarios: those end sessions with an `EndReason`).

use thiserror::Error;

/// Why the engine could not run a session at all.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EngineError {
    /// QuickJS could not create a runtime or context (out of memory).
    #[error("could not create the JS runtime: {0}")]
    Runtime(#[from] rquickjs::Error),
    /// The session pool has shut down.
    #[error("the session pool is shut down")]
    PoolClosed,
    /// A worker thread could not be started.
    #[error("could not start a JS worker thread: {0}")]
    Thread(#[from] std::io::Error),
}
