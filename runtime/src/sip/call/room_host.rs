//! The room side of `VoxEngine.callConference` calls, held by a room session's host
//! (`api_session.rs`): each call joins the session's graph as a unit and arrives as
//! `CallAlerting`; the scenario's answer, ring, early media, rejection and hangup become the
//! caller's events, and the caller's hangup becomes this side's `Disconnected`.

use std::collections::HashMap;
use std::sync::Arc;

use dialtone_bindings::host::{CallCommand, CallEvent, HostEvent, HostEventSender};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::media::session::SessionMedia;
use crate::sip::CallContext;
use crate::sip::rooms::{CallerEvents, RoomInput};

/// One call in the room.
struct RoomLeg {
    caller_leg: String,
    caller: CallerEvents,
    answered: Option<Instant>,
}

/// A room session's calls.
pub(super) struct RoomHost {
    application: String,
    conference: String,
    inputs: mpsc::UnboundedReceiver<RoomInput>,
    calls: HashMap<String, RoomLeg>,
}

impl RoomHost {
    pub(super) fn new(
        application: &str,
        conference: &str,
        inputs: mpsc::UnboundedReceiver<RoomInput>,
    ) -> Self {
        Self {
            application: application.to_owned(),
            conference: conference.to_owned(),
            inputs,
            calls: HashMap::new(),
        }
    }

    /// The next call or hangup for the room (never, for a session that is not one).
    pub(super) async fn next_input(room: &mut Option<Self>) -> Option<RoomInput> {
        match room {
            Some(room) => room.inputs.recv().await,
            None => std::future::pending().await,
        }
    }

    pub(super) fn has(&self, call_id: &str) -> bool {
        self.calls.contains_key(call_id)
    }

    pub(super) fn on_input(
        &mut self,
        input: RoomInput,
        media: &mut SessionMedia,
        events: &HostEventSender,
    ) {
        match input {
            RoomInput::Join(join) => {
                let join = *join;
                let id = join.incoming.id.clone();
                media.attach_call(&id, join.ports);
                self.calls.insert(
                    id,
                    RoomLeg {
                        caller_leg: join.caller_leg,
                        caller: join.caller,
                        answered: None,
                    },
                );
                let _ = events.send(HostEvent::CallAlerting(join.incoming));
            }
            RoomInput::Hangup { call_id } => {
                if let Some(leg) = self.calls.remove(&call_id) {
                    media.remove_call(&call_id);
                    let (reason, duration) = match leg.answered {
                        Some(at) => ("caller hung up", at.elapsed().as_secs()),
                        None => ("caller cancelled", 0),
                    };
                    let _ = events.send(HostEvent::Call {
                        call_id,
                        event: CallEvent::Disconnected {
                            reason: reason.into(),
                            duration,
                            headers: Default::default(),
                        },
                    });
                }
            }
        }
    }

    /// The room scenario's command for one of its calls; a warning for one that does not
    /// apply.
    pub(super) fn on_command(
        &mut self,
        call_id: &str,
        command: &CallCommand,
        media: &mut SessionMedia,
        events: &HostEventSender,
    ) -> Option<String> {
        let leg = self.calls.get_mut(call_id)?;
        let to_caller = |event: CallEvent| {
            let _ = leg.caller.send((leg.caller_leg.clone(), event));
        };
        match command {
            CallCommand::Ring { .. } => to_caller(CallEvent::Ringing {
                headers: Default::default(),
            }),
            CallCommand::StartEarlyMedia { .. } => to_caller(CallEvent::AudioStarted {
                headers: Default::default(),
            }),
            CallCommand::Answer { .. } => {
                if leg.answered.is_none() {
                    leg.answered = Some(Instant::now());
                    to_caller(CallEvent::AudioStarted {
                        headers: Default::default(),
                    });
                    to_caller(CallEvent::Connected {
                        headers: Default::default(),
                    });
                    let _ = events.send(HostEvent::Call {
                        call_id: call_id.to_owned(),
                        event: CallEvent::Connected {
                            headers: Default::default(),
                        },
                    });
                }
            }
            CallCommand::Hangup { .. } | CallCommand::Reject { .. } => {
                let code = match command {
                    CallCommand::Reject { code, .. } => *code,
                    _ => 603,
                };
                let duration = leg.answered.map_or(0, |at| at.elapsed().as_secs());
                to_caller(ending(
                    leg.answered,
                    "the conference hung up",
                    code,
                    "the conference turned the call away",
                ));
                self.calls.remove(call_id);
                media.remove_call(call_id);
                let _ = events.send(HostEvent::Call {
                    call_id: call_id.to_owned(),
                    event: CallEvent::Disconnected {
                        reason: "hung up by the scenario".into(),
                        duration,
                        headers: Default::default(),
                    },
                });
            }
            other => {
                return Some(format!(
                    "{} on a conference call is not available (playback, say, record and media links are)",
                    other.name()
                ));
            }
        }
        None
    }

    /// The room session ended: its callers' calls end too, those that were on their way in
    /// included.
    pub(super) fn end(mut self, context: &Arc<CallContext>) {
        self.inputs.close();
        while let Ok(input) = self.inputs.try_recv() {
            if let RoomInput::Join(join) = input {
                let event = ending(None, ENDED, 480, ENDED);
                let _ = join.caller.send((join.caller_leg, event));
            }
        }
        for (_, leg) in self.calls {
            let event = ending(leg.answered, ENDED, 480, ENDED);
            let _ = leg.caller.send((leg.caller_leg, event));
        }
        drop(self.inputs);
        context.rooms.ended(&self.application, &self.conference);
    }
}

/// Why a room call ended when its room did.
const ENDED: &str = "the conference session ended";

/// The caller's last event of a room call: `Disconnected` once answered (at `answered`),
/// `Failed` before.
fn ending(answered: Option<Instant>, disconnected: &str, code: u16, failed: &str) -> CallEvent {
    match answered {
        Some(at) => CallEvent::Disconnected {
            reason: disconnected.into(),
            duration: at.elapsed().as_secs(),
            headers: Default::default(),
        },
        None => CallEvent::Failed {
            code,
            reason: failed.into(),
            headers: Default::default(),
        },
    }
}
