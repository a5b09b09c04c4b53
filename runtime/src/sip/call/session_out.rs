//! What a session host does with the session's output that is not about one call: log lines
//! and events (operator log and history), media commands, refreshed secrets, MCP metrics, answers to
//! access-URL requests, and the end in the history. Shared by the call task (`call.rs`) and
//! the host of a session started without a call (`api_session.rs`).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use dialtone_bindings::host::{HostEvent, HostEventSender, LogLevel, Outbound};

use crate::history::{LogRow, Write};
use crate::media::session::SessionMedia;
use crate::sip::CallContext;

/// Whose output it is.
pub(super) struct SessionOut<'a> {
    pub(super) context: &'a Arc<CallContext>,
    pub(super) application: &'a str,
    pub(super) session_id: &'a str,
}

/// What became of one message.
pub(super) enum Handled {
    /// Done; observers see it.
    Observed,
    /// Done; not for observers (metrics, secrets).
    Quiet,
    /// Not one of these: the host handles it.
    Not,
}

impl SessionOut<'_> {
    /// Handles `message` if it is one of the session-wide kinds.
    pub(super) fn handle(
        &self,
        message: &Outbound,
        media: &mut SessionMedia,
        events: &HostEventSender,
    ) -> Handled {
        let session = self.session_id;
        match message {
            Outbound::Log { level, text } => {
                match level {
                    LogLevel::Info => tracing::info!(session = %session, "{text}"),
                    LogLevel::Warn => tracing::warn!(session = %session, "{text}"),
                    LogLevel::Error => tracing::error!(session = %session, "{text}"),
                }
                self.history(|session_id| Write::Log {
                    session_id,
                    line: LogRow {
                        at: chrono::Utc::now(),
                        level: level_name(*level).to_owned(),
                        text: text.clone(),
                    },
                });
                Handled::Observed
            }
            Outbound::Media(command) => {
                if let Err(e) = media.apply(command.clone()) {
                    let _ = events.send(HostEvent::Warning {
                        text: e.to_string(),
                    });
                }
                Handled::Observed
            }
            Outbound::SecretUpdate { name, value } => {
                // The store may write to a database: off the call's task.
                let secrets = self.context.secrets.clone();
                let (application, name, value) =
                    (self.application.to_owned(), name.clone(), value.clone());
                let session = session.to_string();
                tokio::task::spawn_blocking(move || {
                    match secrets.update(&application, &name, &value) {
                        Ok(()) => {
                            tracing::info!(session = %session, "secret '{name}' updated (refreshed OAuth grant)")
                        }
                        Err(e) => tracing::warn!(session = %session, "{e}"),
                    }
                });
                Handled::Quiet
            }
            Outbound::McpRequest {
                method,
                ok,
                elapsed,
            } => {
                self.context.metrics.mcp.observe(method, *ok, *elapsed);
                Handled::Quiet
            }
            Outbound::Acd(command) => {
                let asker = crate::acd::Asker {
                    application: self.application,
                    session: self.session_id,
                    events,
                };
                self.context
                    .acd
                    .command(self.context.as_ref(), asker, command);
                Handled::Observed
            }
            Outbound::HttpResponse(answer) => {
                self.context.access.answer(answer.clone());
                Handled::Observed
            }
            Outbound::Event { name, payload } => {
                // The history's timeline: each event by name (a call's end with its reason).
                let mut text = name.clone();
                if let Some(reason) = payload.get("reason").and_then(|r| r.as_str()) {
                    text.push_str(": ");
                    text.push_str(reason);
                }
                self.history(|session_id| Write::Log {
                    session_id,
                    line: LogRow {
                        at: chrono::Utc::now(),
                        level: "event".to_owned(),
                        text,
                    },
                });
                Handled::Not
            }
            Outbound::Ended(reason) => {
                self.context.acd.forget_session(self.session_id);
                self.history(|session_id| Write::End {
                    session_id,
                    at: chrono::Utc::now(),
                    kind: reason.kind().to_owned(),
                    reason: reason.to_string(),
                });
                Handled::Not
            }
            _ => Handled::Not,
        }
    }

    /// Writes to the session history (a full history queue drops the line, counted).
    pub(super) fn history(&self, write: impl FnOnce(String) -> Write) {
        if let Some(history) = &self.context.history
            && !history.write(write(self.session_id.to_owned()))
        {
            self.context
                .metrics
                .history_lines_dropped
                .fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The media context of session `session_id` running `plan`: recordings go to the
/// application's directory under the data directory.
pub(crate) fn media_context(
    context: &CallContext,
    plan: &crate::catalog::CallPlan,
    session_id: &str,
) -> crate::media::session::MediaContext {
    crate::media::session::MediaContext {
        application: plan.route.application.clone(),
        session_id: session_id.to_owned(),
        source: context.media.clone(),
        recordings: context
            .data_dir
            .join("recordings")
            .join(&plan.route.application),
        outbound: plan.outbound.clone(),
    }
}

/// A session started: the counters and its history row (`call_id`, `caller`, `destination`
/// empty for a session without a call).
pub(crate) fn session_started(
    context: &CallContext,
    session_id: &str,
    route: &crate::router::Route,
    call_id: &str,
    caller: &str,
    destination: &str,
) {
    context
        .metrics
        .sessions_total
        .fetch_add(1, Ordering::Relaxed);
    context
        .metrics
        .sessions_active
        .fetch_add(1, Ordering::Relaxed);
    if let Some(history) = &context.history {
        history.write(Write::Start(crate::history::SessionRow::started(
            session_id,
            &route.application,
            &route.rule,
            call_id,
            caller,
            destination,
            chrono::Utc::now(),
        )));
    }
}

fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    }
}
