//! A session started without a call (VoxEngine's `StartScenarios`): the admin API's `POST
//! /applications/{app}/sessions` or `dialtone console --no-call` names a rule and passes custom
//! data; the session gets `AppEvents.Started` with that `customData` and its `accessURL`, and
//! no `CallAlerting`. Its host task owns what a call task owns but the inbound call: the media
//! graph, the outbound legs the scenario places (a call-back: `callPSTN`, then `easyProcess`
//! with a second leg), and the session's output. The session ends as any other: terminate(),
//! an error, or the no-call timeout once it has no call left.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use dialtone_bindings::host::{self, CallCommand, HostEvent, HostIo, Outbound};
use thiserror::Error;

use super::SessionRecord;
use super::legs::OutboundLegs;
use super::refresh::until;
use super::room_host::RoomHost;
use super::session_out::{Handled, SessionOut};
use crate::catalog::CatalogError;
use crate::media::session::SessionMedia;
use crate::sip::CallContext;
use crate::sip::rooms::RoomInput;
use tokio::sync::mpsc;

/// Longest custom data, in bytes (VoxEngine's limit for `customData`).
pub const MAX_CUSTOM_DATA_BYTES: usize = 200;

/// Why a session could not start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StartError {
    /// No such application or rule, or its scenarios cannot be read.
    #[error(transparent)]
    Plan(#[from] CatalogError),
    /// The custom data is too long.
    #[error("customData is {0} bytes, more than the {MAX_CUSTOM_DATA_BYTES} allowed")]
    CustomData(usize),
    /// The session pool refused it.
    #[error("cannot start the session: {0}")]
    Pool(String),
}

/// A session started without a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedSession {
    /// Its id (`AppEvents.Started.sessionId`).
    pub session_id: String,
    /// Its access URL, when the HTTP listener runs.
    pub access_url: Option<String>,
}

/// Starts rule `rule` of `application` as a session with no call; it runs on its own task.
pub fn start(
    context: &Arc<CallContext>,
    application: &str,
    rule: &str,
    custom_data: &str,
) -> Result<StartedSession, StartError> {
    if custom_data.len() > MAX_CUSTOM_DATA_BYTES {
        return Err(StartError::CustomData(custom_data.len()));
    }
    let plan = context.catalog.current().plan_rule(application, rule)?;
    start_plan(context, plan, custom_data, None)
}

/// Starts the room session of conference `conference` (the rule matching the id), whose
/// calls arrive on `inputs` (`VoxEngine.callConference`).
pub(crate) fn start_room(
    context: &Arc<CallContext>,
    application: &str,
    conference: &str,
    inputs: mpsc::UnboundedReceiver<RoomInput>,
) -> Result<(), String> {
    let plan = context
        .catalog
        .current()
        .plan(application, conference)
        .map_err(|e| format!("no session for conference '{conference}': {e}"))?;
    let room = RoomHost::new(application, conference, inputs);
    start_plan(context, plan, "", Some(room))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn start_plan(
    context: &Arc<CallContext>,
    plan: crate::catalog::CallPlan,
    custom_data: &str,
    room: Option<RoomHost>,
) -> Result<StartedSession, StartError> {
    let (host, session_io) = host::channel();
    let session_id = uuid::Uuid::new_v4().to_string();
    let access_key = crate::access::new_key();
    let access_url = crate::access::url(context.http_base.get(), &session_id, &access_key);
    let media = SessionMedia::new(
        super::session_out::media_context(context, &plan, &session_id),
        host.events.clone(),
    );
    let spec = super::core::session_spec(
        context,
        &plan,
        &session_id,
        custom_data.to_owned(),
        access_url.clone(),
    );

    context
        .pool
        .spawn(spec, session_io)
        .map_err(|e| StartError::Pool(e.to_string()))?;
    tracing::info!(
        session = %session_id,
        "session started without a call -> application '{}', rule '{}'",
        plan.route.application,
        plan.route.rule
    );
    super::session_out::session_started(context, &session_id, &plan.route, "", "", "");
    context
        .live
        .add(&session_id, host.events.clone(), &access_key);
    let mut session = ApiSession {
        legs: OutboundLegs::new(
            context.clone(),
            plan.route.application.clone(),
            plan.trunk.clone(),
        ),
        context: context.clone(),
        application: plan.route.application,
        session_id: session_id.clone(),
        host,
        media,
        room,
    };
    tokio::spawn(async move {
        session.run().await;
        if let Some(room) = session.room.take() {
            room.end(&session.context);
        }
        session.context.live.remove(&session.session_id);
        session.context.access.session_ended(&session.session_id);
        session
            .context
            .metrics
            .sessions_active
            .fetch_sub(1, Ordering::Relaxed);
    });
    Ok(StartedSession {
        session_id,
        access_url,
    })
}

/// The host of a session with no inbound call.
struct ApiSession {
    context: Arc<CallContext>,
    application: String,
    session_id: String,
    host: HostIo,
    media: SessionMedia,
    legs: OutboundLegs,
    /// A conference room's calls, when the session is one.
    room: Option<RoomHost>,
}

impl ApiSession {
    async fn run(&mut self) {
        loop {
            let ringing_deadline = self.legs.ringing_deadline();
            tokio::select! {
                message = self.host.outbound.recv() => match message {
                    Some(message) => if self.on_outbound(message).await {
                        break;
                    },
                    None => break,
                },
                Some(input) = self.legs.next() => self.on_leg_input(input),
                Some(input) = RoomHost::next_input(&mut self.room) => {
                    if let Some(room) = &mut self.room {
                        room.on_input(input, &mut self.media, &self.host.events);
                    }
                }
                () = until(ringing_deadline), if ringing_deadline.is_some() => {
                    self.legs.cancel_unanswered();
                }
            }
        }
        self.legs.hang_up_all(&mut self.media);
    }

    fn on_leg_input(&mut self, input: super::legs::LegInput) {
        for (call_id, event) in self.legs.on_input(&mut self.media, input) {
            let _ = self.host.events.send(HostEvent::Call { call_id, event });
        }
    }

    /// One message of the session; true when it ended.
    async fn on_outbound(&mut self, message: Outbound) -> bool {
        let out = SessionOut {
            context: &self.context,
            application: &self.application,
            session_id: &self.session_id,
        };
        match out.handle(&message, &mut self.media, &self.host.events) {
            Handled::Observed => {
                self.observe(message);
                return false;
            }
            Handled::Quiet => return false,
            Handled::Not => {}
        }
        match &message {
            Outbound::Dial(dial) => {
                if let Err(failure) = self.legs.dial(&mut self.media, dial).await {
                    super::core::report_dial_failure(
                        &self.host.events,
                        &self.session_id,
                        dial,
                        failure,
                    );
                }
            }
            Outbound::Call { call_id, command }
                if self.room.as_ref().is_some_and(|r| r.has(call_id)) =>
            {
                if let Some(room) = &mut self.room
                    && let Some(missing) =
                        room.on_command(call_id, command, &mut self.media, &self.host.events)
                {
                    let _ = self.host.events.send(HostEvent::Warning { text: missing });
                }
            }
            Outbound::Call { call_id, command } if self.legs.has(call_id) => {
                if let Some(missing) = self.legs.command(call_id, command) {
                    let _ = self.host.events.send(HostEvent::Warning { text: missing });
                }
            }
            Outbound::Call { call_id, command }
                if !matches!(command, CallCommand::Hangup { .. }) =>
            {
                tracing::warn!(
                    session = %self.session_id,
                    "{} for unknown call {call_id} ignored",
                    command.name()
                );
            }
            Outbound::Ended(reason) => {
                let normal = reason.is_normal();
                if normal {
                    tracing::info!(session = %self.session_id, "session ended: {reason}");
                } else {
                    self.context
                        .metrics
                        .sessions_failed
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::error!(session = %self.session_id, "session ended: {reason}");
                }
                self.observe(message);
                return true;
            }
            _ => {}
        }
        self.observe(message);
        false
    }

    fn observe(&self, message: Outbound) {
        let _ = self.context.records.send(SessionRecord {
            session_id: self.session_id.clone(),
            call_id: String::new(),
            message,
        });
    }
}
