//! What ties a client's transport tasks to the client. rmcp's workers, a POST whose answer
//! never comes, an SSE stream that stays silent: each watches [`Lifeline::ended`], so when a
//! connect is abandoned or the client ends, they stop with it instead of holding a socket.
//! And when a transport dies of the server's fault (a stream that is not JSON-RPC), rmcp only
//! logs why; the transport records it here so the scenario's close event can say it.

use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

/// Shared by one client and its transport tasks.
#[derive(Clone, Default)]
pub(crate) struct Lifeline {
    ended: CancellationToken,
    fault: Arc<Mutex<Option<String>>>,
}

impl Lifeline {
    /// Cancelled when the client has ended.
    pub(crate) fn ended(&self) -> &CancellationToken {
        &self.ended
    }

    /// Records that the server broke the protocol; the first reason stays.
    pub(crate) fn record_fault(&self, reason: String) {
        if let Ok(mut fault) = self.fault.lock() {
            fault.get_or_insert(reason);
        }
    }

    /// Why the server broke the protocol, if it did.
    pub(crate) fn fault(&self) -> Option<String> {
        self.fault.lock().ok().and_then(|fault| fault.clone())
    }

    /// The close code and reason of a dead transport: 1011 and the recorded fault when the
    /// server broke the protocol, else 1006 and `otherwise` (the connection was lost).
    pub(crate) fn death(&self, otherwise: impl FnOnce() -> String) -> (u16, String) {
        match self.fault() {
            Some(fault) => (1011, fault),
            None => (1006, otherwise()),
        }
    }
}
