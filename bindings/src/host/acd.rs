//! Queues (`VoxEngine.enqueueACDRequest`, `require(Modules.ACD)`): what a session asks of the
//! host's queues and what they answer. The host keeps each application's queues and picks a
//! free, registered operator for the request at the head; the session then rings that
//! operator itself (an ordinary `callUser` leg) and says how it went, so the operator's call
//! is the scenario's own `Call`.

use serde::{Deserialize, Serialize};

/// A request's id (`acd-N` within its session).
pub type AcdRequestId = String;

/// What a session asks of the queues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub enum AcdCommand {
    /// Put a request in a queue of the session's application.
    Enqueue {
        /// The request.
        request: AcdRequestId,
        /// The queue's name.
        queue: String,
    },
    /// Report the request's place (`Waiting`).
    Status {
        /// The request.
        request: AcdRequestId,
    },
    /// Take the request out of its queue; an operator it holds is free again.
    Cancel {
        /// The request.
        request: AcdRequestId,
    },
    /// How ringing the offered operator went.
    Operator {
        /// The request.
        request: AcdRequestId,
        /// The operator (an application user).
        operator: String,
        /// What happened.
        outcome: OperatorOutcome,
    },
}

/// What became of the operator's call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "camelCase", deny_unknown_fields)]
pub enum OperatorOutcome {
    /// The operator answered (busy until `Ended`).
    Answered,
    /// The operator did not answer or refused (the request goes back to the head).
    Failed {
        /// The call's final SIP status.
        code: u16,
    },
    /// The operator's call ended after the answer (the operator is free again).
    Ended,
}

/// What the queues tell a session about one of its requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "camelCase")]
#[non_exhaustive]
pub enum AcdEvent {
    /// The request is in the queue.
    Queued,
    /// Its place (`getStatus`): 1 is next; `ewt` is the estimated wait in minutes.
    Waiting {
        /// Place in the queue.
        position: u32,
        /// Estimated minutes to wait.
        ewt: u32,
    },
    /// No operator of the queue is registered: the request was not queued.
    Offline,
    /// The queue holds its most requests: the request was not queued.
    QueueFull,
    /// Ring this operator for the request (the session places the call).
    Offer {
        /// The operator (an application user).
        operator: String,
    },
    /// The request cannot be served (no such queue ...).
    Error {
        /// Why.
        error: String,
    },
}

impl AcdEvent {
    /// The event's name: VoxEngine's `ACD.*` values; `ACD.Offer` is Dialtone's own (the
    /// facade turns it into `OperatorCallAttempt` once it rings the operator).
    pub fn name(&self) -> &'static str {
        match self {
            AcdEvent::Queued => "ACD.Queued",
            AcdEvent::Waiting { .. } => "ACD.Waiting",
            AcdEvent::Offline => "ACD.Offline",
            AcdEvent::QueueFull => "ACD.QueueFull",
            AcdEvent::Offer { .. } => "ACD.Offer",
            AcdEvent::Error { .. } => "ACD.Error",
        }
    }

    /// The event's fields without the tag.
    pub fn fields(&self) -> serde_json::Value {
        super::untagged_fields(self)
    }
}
