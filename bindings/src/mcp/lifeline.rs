//! What ties a client's transport tasks to the client. rmcp's workers, a POST whose answer
//! never comes, an SSE stream that stays silent: each watches [`Lifeline::ended`], so when a
//! connect is abandoned or the client ends, they stop with it instead of holding a socket.
//! The other way round, the transport tells the client here what rmcp only logs: that the
//! server broke the protocol (a stream that is not JSON-RPC), or that it stopped accepting
//! connections while the client was idle (its event stream could not be re-established), so
//! the scenario's close event can say it when it happens.

use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

/// Shared by one client and its transport tasks.
#[derive(Clone, Debug, Default)]
pub(crate) struct Lifeline {
    ended: CancellationToken,
    lost: CancellationToken,
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    /// Why the server broke the protocol.
    fault: Option<String>,
    /// Why the last attempt to (re)open an event stream could not reach the server.
    unreachable: Option<String>,
    /// Why the transport is given up for lost.
    lost: Option<String>,
}

impl Lifeline {
    /// Cancelled when the client has ended.
    pub(crate) fn ended(&self) -> &CancellationToken {
        &self.ended
    }

    /// Cancelled when the transport gave up reaching the server ([`Self::give_up`]).
    pub(crate) fn lost(&self) -> &CancellationToken {
        &self.lost
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> Option<T> {
        self.state.lock().ok().map(|mut state| f(&mut state))
    }

    /// Records that the server broke the protocol; the first reason stays.
    pub(crate) fn record_fault(&self, reason: String) {
        self.with_state(|state| {
            state.fault.get_or_insert(reason);
        });
    }

    /// Records how the last attempt to open an event stream went: `Some(why)` when the server
    /// could not be reached, `None` when it answered (even with an error status).
    pub(crate) fn note_stream_attempt(&self, unreachable: Option<String>) {
        self.with_state(|state| state.unreachable = unreachable);
    }

    /// The transport stopped trying to reopen an event stream. When its last attempt could not
    /// reach the server, the transport is lost and [`Self::lost`] fires.
    pub(crate) fn give_up(&self, attempts: usize) {
        let unreachable = self.with_state(|state| {
            let Some(why) = state.unreachable.take() else {
                return false;
            };
            state.lost.get_or_insert(format!(
                "the MCP server stopped accepting connections ({attempts} attempts to reopen \
                 its event stream failed): {why}"
            ));
            true
        });
        if unreachable == Some(true) {
            self.lost.cancel();
        }
    }

    /// The close code and reason of a dead transport: 1011 and the recorded fault when the
    /// server broke the protocol, else 1006 and why it was lost, or `otherwise`.
    pub(crate) fn death(&self, otherwise: impl FnOnce() -> String) -> (u16, String) {
        let (fault, lost) = self
            .with_state(|state| (state.fault.clone(), state.lost.clone()))
            .unwrap_or_default();
        match (fault, lost) {
            (Some(fault), _) => (1011, fault),
            (None, Some(lost)) => (1006, lost),
            (None, None) => (1006, otherwise()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn giving_up_is_a_loss_only_when_the_server_could_not_be_reached() {
        let lifeline = Lifeline::default();
        lifeline.note_stream_attempt(Some("connection refused".into()));
        lifeline.note_stream_attempt(None);
        lifeline.give_up(4);
        assert!(!lifeline.lost().is_cancelled(), "the server answered last");
        assert_eq!(lifeline.death(|| "closed".into()), (1006, "closed".into()));

        lifeline.note_stream_attempt(Some("connection refused".into()));
        lifeline.give_up(4);
        assert!(lifeline.lost().is_cancelled());
        let (code, reason) = lifeline.death(|| "closed".into());
        assert_eq!(code, 1006);
        assert!(reason.contains("4 attempts") && reason.ends_with("connection refused"));

        lifeline.record_fault("not JSON-RPC".into());
        assert_eq!(lifeline.death(String::new), (1011, "not JSON-RPC".into()));
    }
}
