//! Conference rooms (`VoxEngine.callConference`): a call from one session into the
//! application's session for a conference id, shared by every call with that id. The room
//! session is started on the first call, by the rule whose pattern matches the id, without a
//! call of its own (`call/api_session.rs`); each call arrives there as `CallAlerting`.
//!
//! Such a call is two units, one in each session's media graph, joined by a bridge task that
//! moves a frame each way every 20 ms, and two small halves of signalling: the caller's side
//! (`call/legs.rs`) hears `Ringing`/`AudioStarted`/`Connected`/`Failed`/`Disconnected` from the
//! room's answer, rejection or hangup; the room hears the caller's hangup.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use dialtone_bindings::host::{CallEvent, IncomingCall};
use tokio::sync::mpsc;

use crate::media::frame_clock::{FrameTask, every_frame};
use crate::media::graph::{InletMode, Ports, UnitKind};

/// Events for the caller's side of room calls: (the caller's leg id, event).
pub(crate) type CallerEvents = mpsc::UnboundedSender<(String, CallEvent)>;

/// What a room's host receives.
pub(crate) enum RoomInput {
    /// A call joins.
    Join(Box<Join>),
    /// The caller hung up the call `call_id` (the room's id for it).
    Hangup {
        /// The call, as the room knows it.
        call_id: String,
    },
}

/// A call into a room.
pub(crate) struct Join {
    /// The call as the room's scenario sees it (`CallAlerting`).
    pub(crate) incoming: IncomingCall,
    /// Its unit in the room's graph.
    pub(crate) ports: Ports,
    /// The caller's leg id, and where its events go.
    pub(crate) caller_leg: String,
    pub(crate) caller: CallerEvents,
}

/// A room call, as the caller's side holds it.
pub(crate) struct RoomCall {
    /// The room's id for the call.
    pub(crate) room_call_id: String,
    /// Where the caller's hangup goes.
    pub(crate) room: mpsc::UnboundedSender<RoomInput>,
    /// Stops the bridge when dropped.
    pub(crate) _bridge: FrameTask,
}

/// The rooms of every application, by (application, conference id).
#[derive(Debug, Default)]
pub struct Rooms {
    rooms: Mutex<HashMap<(String, String), mpsc::UnboundedSender<RoomInput>>>,
    next: AtomicU64,
}

impl Rooms {
    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(String, String), mpsc::UnboundedSender<RoomInput>>>
    {
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A room session ended: the next call to its id starts a new one.
    pub(crate) fn ended(&self, application: &str, conference: &str) {
        let key = (application.to_owned(), conference.to_owned());
        let mut rooms = self.lock();
        if rooms
            .get(&key)
            .is_some_and(mpsc::UnboundedSender::is_closed)
        {
            rooms.remove(&key);
        }
    }

    /// Joins the call `caller_leg` (units `caller_ports` in the caller's graph) to the room of
    /// `conference`, starting the room with `start` when there is none (or it ended); returns
    /// the caller's half of the call.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn join(
        &self,
        application: &str,
        conference: &str,
        mut incoming: IncomingCall,
        caller_leg: &str,
        caller_ports: Ports,
        caller: CallerEvents,
        start: impl FnOnce(mpsc::UnboundedReceiver<RoomInput>) -> Result<(), String>,
    ) -> Result<RoomCall, String> {
        let room_call_id = format!(
            "room-call-{}",
            self.next.fetch_add(1, Ordering::Relaxed) + 1
        );
        incoming.id = room_call_id.clone();
        let ports = Ports::new(UnitKind::Call, InletMode::Replace);
        let join = Join {
            incoming,
            ports: ports.clone(),
            caller_leg: caller_leg.to_owned(),
            caller,
        };
        let key = (application.to_owned(), conference.to_owned());
        let mut rooms = self.lock();
        let room = match rooms.get(&key) {
            Some(room) if !room.is_closed() => room.clone(),
            _ => {
                let (tx, rx) = mpsc::unbounded_channel();
                start(rx)?;
                rooms.insert(key, tx.clone());
                tx
            }
        };
        drop(rooms);
        room.send(RoomInput::Join(Box::new(join)))
            .map_err(|_| "the conference session ended".to_owned())?;
        Ok(RoomCall {
            room_call_id,
            room,
            _bridge: bridge(caller_ports, ports),
        })
    }
}

/// Moves a frame each way between the caller's unit `a` and the room's unit `b` every 20 ms:
/// what the caller's session sends to its unit is what the room's unit produces, and back.
fn bridge(a: Ports, b: Ports) -> FrameTask {
    every_frame(move || {
        if let Some(frame) = a.inlet.pull() {
            b.outlet.push_frame("", &frame);
        }
        if let Some(frame) = b.inlet.pull() {
            a.outlet.push_frame("", &frame);
        }
    })
}
