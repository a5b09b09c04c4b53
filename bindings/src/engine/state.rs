//! Rust-side state of one session, shared by the event loop and the ops.
//!
//! It holds no JS values, so the ops' closures can keep it alive without keeping any JS object
//! alive: JS state (listeners, callbacks, calls) lives in the JS facade and is traced by the GC.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::async_ops::{AsyncOps, Settled};
use super::outbox;
use super::redact::Redactor;
use super::timers::{TimerLimitExceeded, TimerQueue};
use crate::host::{CallCommand, CallId, EndReason, LimitKind, Limits, LogLevel, Outbound};
use crate::mcp::{McpEvent, McpHub};
use crate::rate::{Budget, RateBudget};

/// Longest `Logger.write` line, in characters (VoxEngine's cap).
pub(crate) const LOG_LINE_MAX_CHARS: usize = 15_000;
/// Scenario log lines a session may write a second (bursts of as many); the excess is counted
/// and summarized, not written.
pub(crate) const LOG_LINES_PER_SECOND: u32 = 100;

/// Shared by the session loop and every op of the session.
#[derive(Debug)]
pub(crate) struct SessionState {
    pub(crate) session_id: String,
    pub(crate) application: String,
    pub(crate) rule: String,
    /// The session's access URL, if it has one.
    pub(crate) access_url: Option<String>,
    pub(crate) limits: Limits,
    secrets: RefCell<BTreeMap<String, String>>,
    /// Masks the secret values in everything sent to the host.
    redactor: RefCell<Redactor>,
    outbound: mpsc::UnboundedSender<Outbound>,
    custom_data: RefCell<String>,
    /// `VoxEngine.terminate()` was called.
    terminate_requested: Cell<bool>,
    /// The first abnormal end (uncaught error, limit); later ones are only logged.
    failure: RefCell<Option<EndReason>>,
    /// Set once the session runs its Terminating/Terminated handlers.
    ending: Cell<bool>,
    pub(crate) timers: RefCell<TimerQueue>,
    /// Where each of the session's calls is, for the call limits and for teardown.
    pub(crate) calls: RefCell<BTreeMap<CallId, CallPhase>>,
    /// Outbound calls placed so far.
    outbound_calls: Cell<u32>,
    /// The session's MCP clients.
    pub(crate) mcp: RefCell<McpHub>,
    /// Promise-returning ops under way (`Net`, `ApplicationStorage`).
    pub(crate) async_ops: AsyncOps,
    /// The session's `Net` requests: its slots on the wire and how many are pending.
    pub(crate) net: crate::net::NetSlots,
    pub(crate) net_pending: Rc<Cell<usize>>,
    /// The application's key-value store, if the host gave one.
    pub(crate) storage: Option<std::sync::Arc<dyn crate::host::storage::AppStorage>>,
    /// Where the session's outbound connections may go.
    pub(crate) outbound_policy: std::sync::Arc<crate::outbound::OutboundPolicy>,
    /// The runtime's clock is paused (simulated time) until the first MCP client.
    simulated_time: Cell<bool>,
    /// The scenario's log lines per second.
    log_budget: RefCell<RateBudget>,
    /// The nesting of the timer whose callback runs now, if one does.
    pub(crate) timer_nesting: Cell<Option<u32>>,
    /// Ids of the session's sequence players (their events are `SequencePlayer.*`).
    pub(crate) sequence_players: RefCell<std::collections::BTreeSet<String>>,
}

/// Where a call is, as far as the session's limits and teardown care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallPhase {
    /// Offered and not answered; dropped at `deadline` (none once the drop was sent).
    Alerting { deadline: Option<Instant> },
    /// An outbound call placed and not answered yet.
    Dialing,
    /// Connected.
    Connected,
    /// The scenario sent hangup or reject; waiting for the final event.
    Closing,
    /// Disconnected or failed.
    Ended,
}

impl SessionState {
    /// The state, and the receivers of the session's MCP client events and async op outcomes.
    pub(crate) fn new(
        spec: &crate::host::SessionSpec,
        outbound: mpsc::UnboundedSender<Outbound>,
    ) -> (
        Self,
        crate::host::ShedReceiver<McpEvent>,
        mpsc::Receiver<Settled>,
    ) {
        let (mcp, mcp_events) =
            McpHub::new(spec.application.clone(), spec.mcp, spec.outbound.clone());
        let (async_ops, settled) = AsyncOps::new();
        let state = Self {
            session_id: spec.session_id.clone(),
            application: spec.application.clone(),
            rule: spec.rule.clone(),
            access_url: spec.access_url.clone(),
            limits: spec.limits,
            secrets: RefCell::new(spec.secrets.clone()),
            redactor: RefCell::new(Redactor::new(spec.secrets.values())),
            outbound,
            custom_data: RefCell::new(spec.custom_data.clone()),
            terminate_requested: Cell::new(false),
            failure: RefCell::new(None),
            ending: Cell::new(false),
            timers: RefCell::new(TimerQueue::new(spec.limits.max_timers)),
            calls: RefCell::new(BTreeMap::new()),
            outbound_calls: Cell::new(0),
            mcp: RefCell::new(mcp),
            async_ops,
            net: crate::net::NetSlots::default(),
            net_pending: Rc::default(),
            outbound_policy: spec.outbound.clone(),
            storage: spec.storage.clone(),
            simulated_time: Cell::new(spec.simulated_time),
            sequence_players: RefCell::default(),
            timer_nesting: Cell::new(None),
            log_budget: RefCell::new(RateBudget::new(LOG_LINES_PER_SECOND)),
        };
        (state, mcp_events, settled)
    }

    /// Sends a message to the host, with every secret value masked in log lines, events and
    /// end reasons (call commands go unmasked: the call needs what the scenario said); on a
    /// pool worker, reports wait until the worker idles ([`outbox`]). A host
    /// that went away is not an error for the scenario: the session notices the closed event
    /// channel and ends.
    pub(crate) fn send(&self, message: Outbound) {
        let message = match message {
            Outbound::Log { level, text } => Outbound::Log {
                level,
                text: self.redactor.borrow().text(&text).into_owned(),
            },
            Outbound::Event { name, mut payload } => {
                self.redactor.borrow().json(&mut payload);
                Outbound::Event { name, payload }
            }
            Outbound::Ended(reason) => {
                Outbound::Ended(reason.map_text(|t| self.redactor.borrow().text(t).into_owned()))
            }
            other => other,
        };
        outbox::send(&self.outbound, message);
    }

    /// Network I/O is about to start: a simulated clock gives way to real time, once.
    /// `who` names what talks to the network (`MCP`, `a WebSocket`).
    pub(crate) fn leave_simulated_time(&self, who: &str) {
        if self.simulated_time.replace(false) {
            tokio::time::resume();
            self.log(
                LogLevel::Warn,
                &format!("simulated time ends here: {who} talks to a real server, so the rest of the session runs on real time"),
            );
        }
    }

    /// A line the scenario writes (`Logger.write`, the facade's warnings): at most
    /// [`LOG_LINES_PER_SECOND`], the excess counted and summarized.
    pub(crate) fn scenario_log(&self, level: LogLevel, text: &str) {
        let budget = self.log_budget.borrow_mut().take(Instant::now());
        match budget {
            Budget::Spend => self.log(level, text),
            Budget::Drop => {}
            Budget::DropAndTell(dropped) => self.log_dropped(dropped),
        }
    }

    /// Says how many scenario log lines were dropped and not yet said (at the session's end).
    pub(crate) fn log_dropped_untold(&self) {
        let untold = self.log_budget.borrow_mut().take_untold();
        if untold > 0 {
            self.log_dropped(untold);
        }
    }

    fn log_dropped(&self, dropped: u64) {
        self.log(
            LogLevel::Warn,
            &format!(
                "log lines dropped: {dropped} (a scenario writes at most {LOG_LINES_PER_SECOND} lines a second)"
            ),
        );
    }

    /// Writes a session-log line, capped at [`LOG_LINE_MAX_CHARS`].
    pub(crate) fn log(&self, level: LogLevel, text: &str) {
        let text = cap_chars(text, LOG_LINE_MAX_CHARS);
        self.send(Outbound::Log { level, text });
    }

    /// Records an abnormal end and logs why. Only the first one decides the end reason.
    pub(crate) fn fail(&self, reason: EndReason, detail: &str) {
        self.log(LogLevel::Error, detail);
        let mut failure = self.failure.borrow_mut();
        if failure.is_none() {
            *failure = Some(reason);
        }
    }

    pub(crate) fn request_terminate(&self) {
        self.terminate_requested.set(true);
    }

    /// Why the session must end now, if it must.
    pub(crate) fn end_reason(&self) -> Option<EndReason> {
        if let Some(failure) = self.failure.borrow().clone() {
            return Some(failure);
        }
        self.terminate_requested
            .get()
            .then_some(EndReason::Terminated)
    }

    pub(crate) fn failure(&self) -> Option<EndReason> {
        self.failure.borrow().clone()
    }

    pub(crate) fn set_ending(&self) {
        self.ending.set(true);
    }

    /// True once the session is ending: commands and new timers are dropped.
    pub(crate) fn is_ending(&self) -> bool {
        self.ending.get() || self.end_reason().is_some()
    }

    /// The number of the session's next outbound call (its id is `out-<number>`).
    pub(crate) fn next_outbound_call(&self) -> u32 {
        let number = self.outbound_calls.get() + 1;
        self.outbound_calls.set(number);
        number
    }

    pub(crate) fn secret(&self, name: &str) -> Option<String> {
        self.secrets.borrow().get(name).cloned()
    }

    /// A secret the session changed (a refreshed OAuth grant): later reads see it, and it is
    /// redacted like the others.
    pub(crate) fn set_secret(&self, name: &str, value: &str) {
        let mut secrets = self.secrets.borrow_mut();
        secrets.insert(name.to_owned(), value.to_owned());
        *self.redactor.borrow_mut() = Redactor::new(secrets.values());
    }

    pub(crate) fn custom_data(&self) -> String {
        self.custom_data.borrow().clone()
    }

    pub(crate) fn set_custom_data(&self, data: String) {
        *self.custom_data.borrow_mut() = data;
    }

    /// Notes a command sent to a call: after hangup or reject the session waits for the end.
    pub(crate) fn note_command(&self, call_id: &str, command: &CallCommand) {
        if matches!(
            command,
            CallCommand::Hangup { .. } | CallCommand::Reject { .. }
        ) && let Some(phase) = self.calls.borrow_mut().get_mut(call_id)
            && *phase != CallPhase::Ended
        {
            *phase = CallPhase::Closing;
        }
    }

    /// Whether any call of the session is not over yet.
    pub(crate) fn has_live_call(&self) -> bool {
        self.calls
            .borrow()
            .values()
            .any(|phase| *phase != CallPhase::Ended)
    }

    /// Starts a timer; over the limit, the session fails with the timer limit. A timer set
    /// from a timer callback is one level deeper than that callback's timer.
    pub(crate) fn start_timer(&self, id: u32, delay: Duration, repeat: bool) -> bool {
        if self.is_ending() {
            return true;
        }
        let nesting = self.timer_nesting.get().map_or(0, |n| n.saturating_add(1));
        let started = self
            .timers
            .borrow_mut()
            .start(id, Instant::now(), delay, repeat, nesting);
        match started {
            Ok(()) => true,
            Err(TimerLimitExceeded) => {
                let max = self.limits.max_timers;
                self.fail(
                    EndReason::Limit(LimitKind::Timers(max)),
                    &format!("limit exceeded: more than {max} active timers (timer limit)"),
                );
                false
            }
        }
    }
}

/// `text` cut to at most `max` characters, saying how much was cut.
pub(crate) fn cap_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((at, _)) => {
            let dropped = text[at..].chars().count();
            format!("{}… [{dropped} more characters cut]", &text[..at])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::cap_chars;

    #[test]
    fn cap_keeps_short_text_and_cuts_long_text_on_char_boundaries() {
        assert_eq!(cap_chars("héllo", 5), "héllo");
        assert_eq!(cap_chars("héllo", 2), "hé… [3 more characters cut]");
    }
}
